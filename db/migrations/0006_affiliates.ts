import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const CURRENCY_CHECK = sql`currency ~ '^[a-z]{3}$'`;

/** Affiliate program (AmplifyContent.ai, Glow Social): clicks, referrals, commissions per invoice, monthly payouts. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('affiliates')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().unique().references('users.id').onDelete('restrict'))
    .addColumn('referral_code', 'varchar(50)', (c) =>
      c
        .notNull()
        .unique()
        .check(sql`referral_code ~ '^[A-Za-z0-9_-]{3,50}$'`),
    )
    // Basis points: 2000 = 20 %. Integer arithmetic on cents, no float rounding surprises.
    .addColumn('commission_rate_bps', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(2000)
        .check(sql`commission_rate_bps between 0 and 10000`),
    )
    .addColumn('currency', sql`char(3)`, (c) => c.notNull().defaultTo('usd').check(CURRENCY_CHECK))
    .addColumn('stripe_connected_account_id', 'varchar(255)', (c) => c.unique())
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(checkIn('status', ['pending', 'active', 'paused', 'suspended'])),
    )
    .addColumn('last_payout_at', 'timestamptz')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await addTimestamps(db, 'affiliates');

  await db.schema
    .createTable('affiliate_clicks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('affiliate_id', 'uuid', (c) => c.notNull().references('affiliates.id').onDelete('cascade'))
    .addColumn('referral_code', 'varchar(50)', (c) => c.notNull())
    // Never the raw address: a keyed hash (or truncated /24) is enough to count unique visitors.
    .addColumn('ip_hash', 'varchar(64)')
    .addColumn('user_agent', 'text')
    .addColumn('referrer_url', 'text')
    .addColumn('landing_page', 'text')
    .addColumn('utm_source', 'varchar(255)')
    .addColumn('utm_medium', 'varchar(255)')
    .addColumn('utm_campaign', 'varchar(255)')
    .addColumn('utm_term', 'varchar(255)')
    .addColumn('utm_content', 'varchar(255)')
    .addColumn('country', sql`char(2)`)
    .addColumn('device_type', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('unknown')
        .check(checkIn('device_type', ['desktop', 'mobile', 'tablet', 'bot', 'unknown'])),
    )
    .addColumn('converted', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('converted_user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('clicked_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('affiliate_clicks_affiliate_clicked_idx')
    .on('affiliate_clicks')
    .columns(['affiliate_id', 'clicked_at desc'])
    .execute();

  await db.schema
    .createTable('affiliate_referrals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('affiliate_id', 'uuid', (c) => c.notNull().references('affiliates.id').onDelete('cascade'))
    // A customer is attributed to one affiliate, once.
    .addColumn('referred_user_id', 'uuid', (c) => c.notNull().unique().references('users.id').onDelete('cascade'))
    .addColumn('referral_code', 'varchar(50)', (c) => c.notNull())
    .addColumn('click_id', 'uuid', (c) => c.references('affiliate_clicks.id').onDelete('set null'))
    .addColumn('stripe_customer_id', 'varchar(255)')
    .addColumn('stripe_subscription_id', 'varchar(255)')
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('signed_up')
        .check(checkIn('status', ['signed_up', 'converted', 'churned'])),
    )
    .addColumn('referred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('converted_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'affiliate_referrals');
  await db.schema
    .createIndex('affiliate_referrals_affiliate_idx')
    .on('affiliate_referrals')
    .columns(['affiliate_id', 'referred_at'])
    .execute();
  await db.schema
    .createIndex('affiliate_referrals_customer_idx')
    .on('affiliate_referrals')
    .column('stripe_customer_id')
    .where(sql.ref('stripe_customer_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('affiliate_payouts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // Money history: an affiliate with payouts is suspended, never deleted.
    .addColumn('affiliate_id', 'uuid', (c) => c.notNull().references('affiliates.id').onDelete('restrict'))
    .addColumn('period_start', 'date', (c) => c.notNull())
    .addColumn('period_end', 'date', (c) => c.notNull())
    .addColumn('amount_cents', 'integer', (c) => c.notNull().check(sql`amount_cents >= 0`))
    .addColumn('currency', sql`char(3)`, (c) => c.notNull().defaultTo('usd').check(CURRENCY_CHECK))
    .addColumn('commission_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`commission_count >= 0`),
    )
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('status', ['pending', 'processing', 'paid', 'failed', 'canceled'])),
    )
    .addColumn('payout_method', 'varchar(30)', (c) => c.notNull().defaultTo('stripe_connect'))
    .addColumn('stripe_transfer_id', 'varchar(255)', (c) => c.unique())
    .addColumn('failure_reason', 'text')
    .addColumn('paid_at', 'timestamptz')
    .addColumn('run_id', 'varchar(255)')
    .addUniqueConstraint('affiliate_payouts_affiliate_period_key', ['affiliate_id', 'period_start'])
    .addCheckConstraint('affiliate_payouts_period_check', sql`period_end >= period_start`)
    .addCheckConstraint('affiliate_payouts_paid_check', sql`status <> 'paid' or stripe_transfer_id is not null`)
    .execute();
  await addTimestamps(db, 'affiliate_payouts');
  await db.schema.createIndex('affiliate_payouts_period_status_idx').on('affiliate_payouts').columns(['period_start', 'status']).execute();

  await db.schema
    .createTable('affiliate_commissions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('affiliate_id', 'uuid', (c) => c.notNull().references('affiliates.id').onDelete('restrict'))
    .addColumn('referral_id', 'uuid', (c) => c.references('affiliate_referrals.id').onDelete('set null'))
    // 'commission' for a paid invoice; 'adjustment' claws back one already paid out (negative).
    .addColumn('kind', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('commission')
        .check(checkIn('kind', ['commission', 'adjustment'])),
    )
    .addColumn('stripe_invoice_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('stripe_charge_id', 'varchar(255)')
    .addColumn('invoice_amount_cents', 'integer', (c) => c.notNull().check(sql`invoice_amount_cents >= 0`))
    .addColumn('commission_rate_bps', 'integer', (c) => c.notNull().check(sql`commission_rate_bps between 0 and 10000`))
    .addColumn('amount_cents', 'integer', (c) => c.notNull())
    .addColumn('currency', sql`char(3)`, (c) => c.notNull().defaultTo('usd').check(CURRENCY_CHECK))
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('status', ['pending', 'eligible', 'paid', 'reversed'])),
    )
    // End of the refund window: pending → eligible after this instant.
    .addColumn('eligible_at', 'timestamptz', (c) => c.notNull())
    .addColumn('payout_id', 'uuid', (c) => c.references('affiliate_payouts.id').onDelete('set null'))
    .addColumn('paid_at', 'timestamptz')
    .addColumn('reversed_at', 'timestamptz')
    .addColumn('reversal_reason', 'text')
    .addUniqueConstraint('affiliate_commissions_invoice_kind_key', ['stripe_invoice_id', 'kind'])
    .addCheckConstraint(
      'affiliate_commissions_sign_check',
      sql`(kind = 'commission' and amount_cents >= 0) or (kind = 'adjustment' and amount_cents < 0)`,
    )
    .execute();
  await addTimestamps(db, 'affiliate_commissions');
  await db.schema
    .createIndex('affiliate_commissions_affiliate_status_idx')
    .on('affiliate_commissions')
    .columns(['affiliate_id', 'status', 'eligible_at'])
    .execute();
  await db.schema
    .createIndex('affiliate_commissions_payout_idx')
    .on('affiliate_commissions')
    .column('payout_id')
    .where(sql.ref('payout_id'), 'is not', null)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
