import { sql, type Kysely } from 'kysely';
import { addTimestamps, checkIn } from './helpers';

const PLAN_SLUGS = ['free', 'basic', 'premium', 'creator', 'enterprise'] as const;
const SUBSCRIPTION_STATUSES = [
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
  'canceled',
  'incomplete',
  'incomplete_expired',
] as const;
const CURRENCY_CHECK = sql`currency ~ '^[a-z]{3}$'`;

/** Plans, prices, Stripe subscriptions and their events, usage per period, admin grants, the credit ledger, payments. */
export async function up(db: Kysely<unknown>): Promise<void> {
  // users.subscription_tier/status were free text in 0001; every tier is a plan slug.
  await sql`alter table users
      add constraint users_subscription_tier_check check (${checkIn('subscription_tier', PLAN_SLUGS)}),
      add constraint users_subscription_status_check check (subscription_status is null or ${checkIn('subscription_status', SUBSCRIPTION_STATUSES)})`.execute(
    db,
  );
  await db.schema
    .createIndex('users_referred_by_code_idx')
    .on('users')
    .column('referred_by_code')
    .where(sql.ref('referred_by_code'), 'is not', null)
    .execute();

  await db.schema
    .createTable('subscription_plans')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('slug', 'varchar(50)', (c) => c.notNull().unique().check(checkIn('slug', PLAN_SLUGS)))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('is_visible', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('sort_order', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await addTimestamps(db, 'subscription_plans');

  await db.schema
    .createTable('subscription_plan_features')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('plan_id', 'uuid', (c) => c.notNull().unique().references('subscription_plans.id').onDelete('cascade'))
    // null = unlimited
    .addColumn('video_limit', 'integer', (c) => c.check(sql`video_limit is null or video_limit >= 0`))
    .addColumn('allowed_content_types', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('priority_processing', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('youtube_channel_limit', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`youtube_channel_limit >= 0`),
    )
    .addColumn('youtube_auto_import', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('api_rate_limit_per_minute', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(60)
        .check(sql`api_rate_limit_per_minute > 0`),
    )
    .addColumn('max_concurrent_jobs', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`max_concurrent_jobs > 0`),
    )
    // null = unlimited (Glow Social)
    .addColumn('posts_per_month', 'integer', (c) => c.check(sql`posts_per_month is null or posts_per_month >= 0`))
    .addColumn('clips_per_video', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(3)
        .check(sql`clips_per_video >= 0`),
    )
    .addColumn('max_video_duration_seconds', 'integer', (c) => c.notNull().check(sql`max_video_duration_seconds > 0`))
    .addColumn('max_upload_bytes', 'bigint', (c) => c.notNull().check(sql`max_upload_bytes > 0`))
    .addColumn('social_accounts', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`social_accounts >= 0`),
    )
    .addColumn('team_members', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`team_members >= 1`),
    )
    .addColumn('storage_limit_gb', 'integer', (c) => c.check(sql`storage_limit_gb is null or storage_limit_gb >= 0`))
    .addColumn('monthly_credits', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`monthly_credits >= 0`),
    )
    .addColumn('support_level', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('email')
        .check(checkIn('support_level', ['community', 'email', 'priority', 'dedicated'])),
    )
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await addTimestamps(db, 'subscription_plan_features');

  await db.schema
    .createTable('subscription_plan_prices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('plan_id', 'uuid', (c) => c.notNull().references('subscription_plans.id').onDelete('cascade'))
    .addColumn('stripe_price_id', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('stripe_product_id', 'varchar(100)')
    .addColumn('amount_cents', 'integer', (c) => c.notNull().check(sql`amount_cents >= 0`))
    .addColumn('currency', sql`char(3)`, (c) => c.notNull().defaultTo('usd').check(CURRENCY_CHECK))
    .addColumn('billing_period', 'varchar(10)', (c) => c.notNull().check(checkIn('billing_period', ['month', 'year'])))
    .addColumn('billing_interval', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`billing_interval > 0`),
    )
    .addColumn('trial_period_days', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`trial_period_days >= 0`),
    )
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('is_default', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('archived_at', 'timestamptz')
    .execute();
  await addTimestamps(db, 'subscription_plan_prices');
  await db.schema.createIndex('subscription_plan_prices_plan_id_idx').on('subscription_plan_prices').column('plan_id').execute();
  await db.schema
    .createIndex('subscription_plan_prices_default_key')
    .on('subscription_plan_prices')
    .columns(['plan_id', 'billing_period', 'currency'])
    .unique()
    .where(sql.ref('is_default'), '=', true)
    .execute();

  await db.schema
    .createTable('user_subscriptions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('plan_id', 'uuid', (c) => c.notNull().references('subscription_plans.id').onDelete('restrict'))
    .addColumn('stripe_subscription_id', 'varchar(255)', (c) => c.unique())
    .addColumn('stripe_customer_id', 'varchar(255)')
    .addColumn('stripe_price_id', 'varchar(100)')
    .addColumn('status', 'varchar(30)', (c) => c.notNull().check(checkIn('status', SUBSCRIPTION_STATUSES)))
    .addColumn('billing_period', 'varchar(10)', (c) =>
      c.check(sql`billing_period is null or ${checkIn('billing_period', ['month', 'year'])}`),
    )
    .addColumn('current_period_start', 'timestamptz')
    .addColumn('current_period_end', 'timestamptz')
    .addColumn('trial_start', 'timestamptz')
    .addColumn('trial_end', 'timestamptz')
    .addColumn('cancel_at_period_end', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('canceled_at', 'timestamptz')
    .addColumn('ended_at', 'timestamptz')
    // Stripe's `created` of the newest event applied: older deliveries are ignored (order is never trusted).
    .addColumn('last_event_at', 'timestamptz')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addCheckConstraint(
      'user_subscriptions_period_check',
      sql`current_period_end is null or current_period_start is null or current_period_end > current_period_start`,
    )
    .execute();
  await addTimestamps(db, 'user_subscriptions');
  await db.schema.createIndex('user_subscriptions_user_id_idx').on('user_subscriptions').columns(['user_id', 'status']).execute();

  await db.schema
    .createTable('subscription_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('stripe_event_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('event_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('stripe_subscription_id', 'varchar(255)')
    .addColumn('stripe_created_at', 'timestamptz')
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('user_subscription_id', 'uuid', (c) => c.references('user_subscriptions.id').onDelete('set null'))
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('status', ['pending', 'processed', 'failed', 'ignored'])),
    )
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('webhook_received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('processed_at', 'timestamptz')
    .addColumn('error_message', 'text')
    .addColumn('retry_count', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`retry_count >= 0`),
    )
    .execute();
  await addTimestamps(db, 'subscription_events');
  await db.schema
    .createIndex('subscription_events_subscription_idx')
    .on('subscription_events')
    .columns(['stripe_subscription_id', 'stripe_created_at'])
    .execute();
  await db.schema
    .createIndex('subscription_events_unprocessed_idx')
    .on('subscription_events')
    .columns(['status', 'webhook_received_at'])
    .where(sql<boolean>`status in ('pending', 'failed')`)
    .execute();

  await db.schema
    .createTable('subscription_usage')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('user_subscription_id', 'uuid', (c) => c.references('user_subscriptions.id').onDelete('set null'))
    .addColumn('period_start', 'timestamptz', (c) => c.notNull())
    .addColumn('period_end', 'timestamptz', (c) => c.notNull())
    // Snapshot of the plan's video_limit for this period; null = unlimited.
    .addColumn('usage_limit', 'integer', (c) => c.check(sql`usage_limit is null or usage_limit >= 0`))
    .addColumn('videos_processed', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`videos_processed >= 0`),
    )
    // Slots held by imports still running; committed into videos_processed or released.
    .addColumn('videos_reserved', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`videos_reserved >= 0`),
    )
    .addColumn('content_generated', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`content_generated >= 0`),
    )
    .addColumn('clips_generated', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`clips_generated >= 0`),
    )
    .addColumn('posts_published', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`posts_published >= 0`),
    )
    .addColumn('api_calls_made', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`api_calls_made >= 0`),
    )
    .addColumn('storage_used_mb', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`storage_used_mb >= 0`),
    )
    .addUniqueConstraint('subscription_usage_user_period_key', ['user_id', 'period_start'])
    .addCheckConstraint('subscription_usage_period_check', sql`period_end > period_start`)
    .execute();
  await addTimestamps(db, 'subscription_usage');
  await db.schema
    .createIndex('subscription_usage_user_period_end_idx')
    .on('subscription_usage')
    .columns(['user_id', 'period_end'])
    .execute();

  await db.schema
    .createTable('subscription_plan_migrations')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('user_subscription_id', 'uuid', (c) => c.references('user_subscriptions.id').onDelete('set null'))
    .addColumn('from_plan_id', 'uuid', (c) => c.references('subscription_plans.id').onDelete('restrict'))
    .addColumn('to_plan_id', 'uuid', (c) => c.notNull().references('subscription_plans.id').onDelete('restrict'))
    .addColumn('migration_type', 'varchar(20)', (c) =>
      c.notNull().check(checkIn('migration_type', ['upgrade', 'downgrade', 'crossgrade', 'reactivation'])),
    )
    .addColumn('migration_reason', 'varchar(100)')
    .addColumn('effective_date', 'timestamptz', (c) => c.notNull())
    .addColumn('is_prorated', 'boolean', (c) => c.notNull().defaultTo(true))
    // Signed: a downgrade credit is negative.
    .addColumn('proration_amount_cents', 'integer')
    .addColumn('currency', sql`char(3)`, (c) => c.notNull().defaultTo('usd').check(CURRENCY_CHECK))
    .addColumn('stripe_subscription_id', 'varchar(255)')
    .addColumn('stripe_invoice_id', 'varchar(255)')
    // The event that revealed the change: a redelivered event cannot record it twice.
    .addColumn('stripe_event_id', 'varchar(255)', (c) => c.unique())
    .addColumn('status', 'varchar(20)', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(checkIn('status', ['pending', 'scheduled', 'completed', 'canceled'])),
    )
    .addColumn('completed_at', 'timestamptz')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await addTimestamps(db, 'subscription_plan_migrations');
  await db.schema
    .createIndex('subscription_plan_migrations_user_idx')
    .on('subscription_plan_migrations')
    .columns(['user_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('admin_subscription_grants')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('granted_by_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('grant_type', 'varchar(30)', (c) =>
      c.notNull().check(checkIn('grant_type', ['full_access', 'video_limit_override', 'unlimited_videos', 'trial_extension'])),
    )
    .addColumn('tier_override', 'varchar(50)', (c) =>
      c.check(
        sql`tier_override is null or ${checkIn(
          'tier_override',
          PLAN_SLUGS.filter((s) => s !== 'free'),
        )}`,
      ),
    )
    .addColumn('video_limit_override', 'integer', (c) => c.check(sql`video_limit_override is null or video_limit_override >= 0`))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz')
    .addColumn('is_active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('revoked_at', 'timestamptz')
    .addCheckConstraint(
      'admin_subscription_grants_override_check',
      sql`grant_type <> 'video_limit_override' or video_limit_override is not null`,
    )
    .execute();
  await addTimestamps(db, 'admin_subscription_grants');
  await db.schema
    .createIndex('admin_subscription_grants_active_idx')
    .on('admin_subscription_grants')
    .columns(['user_id', 'expires_at'])
    .where(sql.ref('is_active'), '=', true)
    .execute();

  // The credit ledger (SSELFIE): a balance row per user plus an append-only journal.
  await db.schema
    .createTable('user_credits')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('balance', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`balance >= 0`),
    )
    .addColumn('total_purchased', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`total_purchased >= 0`),
    )
    .addColumn('total_granted', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`total_granted >= 0`),
    )
    .addColumn('total_used', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`total_used >= 0`),
    )
    .execute();
  await addTimestamps(db, 'user_credits');

  await db.schema
    .createTable('credit_transactions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    // Positive adds credits, negative spends them.
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount <> 0`))
    .addColumn('transaction_type', 'varchar(30)', (c) =>
      c
        .notNull()
        .check(
          checkIn('transaction_type', [
            'purchase',
            'subscription_grant',
            'usage',
            'reservation',
            'refund',
            'bonus',
            'adjustment',
            'expiry',
          ]),
        ),
    )
    .addColumn('balance_after', 'integer', (c) => c.notNull().check(sql`balance_after >= 0`))
    .addColumn('description', 'text')
    .addColumn('reference_id', 'varchar(255)')
    // Derived from the cause (invoice id, checkout session, run id): a retried grant or charge applies once.
    .addColumn('idempotency_key', 'varchar(255)', (c) => c.unique())
    .addColumn('stripe_payment_id', 'varchar(255)')
    .addColumn('payment_amount_cents', 'integer', (c) => c.check(sql`payment_amount_cents is null or payment_amount_cents >= 0`))
    .addColumn('currency', sql`char(3)`, (c) => c.check(sql`currency is null or ${CURRENCY_CHECK}`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('credit_transactions_user_created_idx')
    .on('credit_transactions')
    .columns(['user_id', 'created_at desc'])
    .execute();
  await db.schema
    .createIndex('credit_transactions_reference_idx')
    .on('credit_transactions')
    .column('reference_id')
    .where(sql.ref('reference_id'), 'is not', null)
    .execute();

  // Every Stripe money movement (SSELFIE stripe_payments, EcomVideo payments): revenue history outlives a deleted user.
  await db.schema
    .createTable('payments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('stripe_payment_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('stripe_invoice_id', 'varchar(255)')
    .addColumn('stripe_subscription_id', 'varchar(255)')
    .addColumn('stripe_customer_id', 'varchar(255)')
    .addColumn('amount_cents', 'integer', (c) => c.notNull().check(sql`amount_cents >= 0`))
    .addColumn('amount_refunded_cents', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`amount_refunded_cents >= 0 and amount_refunded_cents <= amount_cents`),
    )
    .addColumn('currency', sql`char(3)`, (c) => c.notNull().defaultTo('usd').check(CURRENCY_CHECK))
    .addColumn('status', 'varchar(30)', (c) =>
      c.notNull().check(checkIn('status', ['pending', 'succeeded', 'failed', 'refunded', 'partially_refunded', 'disputed'])),
    )
    .addColumn('payment_type', 'varchar(30)', (c) =>
      c.notNull().check(checkIn('payment_type', ['subscription', 'credit_topup', 'one_time'])),
    )
    .addColumn('description', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('paid_at', 'timestamptz')
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await addTimestamps(db, 'payments');
  await db.schema.createIndex('payments_user_created_idx').on('payments').columns(['user_id', 'created_at desc']).execute();
  await db.schema
    .createIndex('payments_invoice_idx')
    .on('payments')
    .column('stripe_invoice_id')
    .where(sql.ref('stripe_invoice_id'), 'is not', null)
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('migrations are forward-only');
}
