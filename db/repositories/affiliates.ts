import { sql, type Selectable } from 'kysely';
import { commissionCents } from '../../schemas/affiliates';
import type { DbOrTx } from '../database';
import type { AffiliateCommissionsTable, AffiliatePayoutsTable, AffiliateReferralsTable, AffiliatesTable } from '../types';

export type Affiliate = Selectable<AffiliatesTable>;
export type AffiliateCommission = Selectable<AffiliateCommissionsTable>;
export type AffiliateReferral = Selectable<AffiliateReferralsTable>;
/** A payout row with its `date` columns as `YYYY-MM-DD` strings (node-postgres would give local midnight). */
export type AffiliatePayout = Omit<Selectable<AffiliatePayoutsTable>, 'period_start' | 'period_end'> & {
  period_start: string;
  period_end: string;
};

const DAY_MS = 86_400_000;
/** A `YYYY-MM-DD` parameter compared as a date in SQL (never through a local-time JS Date). */
const asDate = (day: string) => sql<Date>`${day}::date`;

const payoutColumns = [
  'affiliate_payouts.id',
  'affiliate_payouts.affiliate_id',
  sql<string>`to_char(affiliate_payouts.period_start, 'YYYY-MM-DD')`.as('period_start'),
  sql<string>`to_char(affiliate_payouts.period_end, 'YYYY-MM-DD')`.as('period_end'),
  'affiliate_payouts.amount_cents',
  'affiliate_payouts.currency',
  'affiliate_payouts.commission_count',
  'affiliate_payouts.status',
  'affiliate_payouts.payout_method',
  'affiliate_payouts.stripe_transfer_id',
  'affiliate_payouts.failure_reason',
  'affiliate_payouts.paid_at',
  'affiliate_payouts.run_id',
  'affiliate_payouts.created_at',
  'affiliate_payouts.updated_at',
] as const;

// ---- Affiliates and tracking -----------------------------------------------------------------

export async function createAffiliate(
  db: DbOrTx,
  input: { userId: string; referralCode: string; stripeConnectedAccountId?: string | null; commissionRateBps?: number },
): Promise<Affiliate> {
  return db
    .insertInto('affiliates')
    .values({
      user_id: input.userId,
      referral_code: input.referralCode,
      stripe_connected_account_id: input.stripeConnectedAccountId ?? null,
      ...(input.commissionRateBps === undefined ? {} : { commission_rate_bps: input.commissionRateBps }),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAffiliateByUser(db: DbOrTx, userId: string): Promise<Affiliate | undefined> {
  return db.selectFrom('affiliates').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Codes are matched case-insensitively: people retype links. */
export async function findActiveAffiliateByCode(db: DbOrTx, code: string): Promise<Affiliate | undefined> {
  return db
    .selectFrom('affiliates')
    .selectAll()
    .where(sql<string>`lower(referral_code)`, '=', code.toLowerCase())
    .where('status', '=', 'active')
    .executeTakeFirst();
}

export interface NewClick {
  affiliateId: string;
  referralCode: string;
  ipHash: string | null;
  userAgent: string | null;
  referrerUrl: string | null;
  landingPage: string | null;
  deviceType: 'desktop' | 'mobile' | 'tablet' | 'bot' | 'unknown';
  utm: { source?: string; medium?: string; campaign?: string; term?: string; content?: string };
}

export async function recordClick(db: DbOrTx, click: NewClick): Promise<string> {
  const row = await db
    .insertInto('affiliate_clicks')
    .values({
      affiliate_id: click.affiliateId,
      referral_code: click.referralCode,
      ip_hash: click.ipHash,
      user_agent: click.userAgent,
      referrer_url: click.referrerUrl,
      landing_page: click.landingPage,
      device_type: click.deviceType,
      utm_source: click.utm.source ?? null,
      utm_medium: click.utm.medium ?? null,
      utm_campaign: click.utm.campaign ?? null,
      utm_term: click.utm.term ?? null,
      utm_content: click.utm.content ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export type AttributionOutcome =
  | { outcome: 'attributed' | 'already_attributed'; referral: AffiliateReferral }
  | { outcome: 'unknown_code' | 'self_referral' | 'already_paying' };

/**
 * Sign-up attribution: the user becomes a referral of the code's affiliate, once (a user's
 * first attribution stands), and the click that brought them is marked converted. A customer
 * who has already paid cannot be claimed afterwards.
 */
export async function attributeReferral(
  db: DbOrTx,
  input: { userId: string; referralCode: string; clickId?: string },
): Promise<AttributionOutcome> {
  const affiliate = await findActiveAffiliateByCode(db, input.referralCode);
  if (!affiliate) return { outcome: 'unknown_code' };
  if (affiliate.user_id === input.userId) return { outcome: 'self_referral' };
  const existing = await db.selectFrom('affiliate_referrals').selectAll().where('referred_user_id', '=', input.userId).executeTakeFirst();
  if (existing) return { outcome: 'already_attributed', referral: existing };
  const paid = await db
    .selectFrom('payments')
    .select('id')
    .where('user_id', '=', input.userId)
    .where('status', '=', 'succeeded')
    .executeTakeFirst();
  if (paid) return { outcome: 'already_paying' };
  const click = input.clickId
    ? await db
        .selectFrom('affiliate_clicks')
        .select('id')
        .where('id', '=', input.clickId)
        .where('affiliate_id', '=', affiliate.id)
        .where('converted', '=', false)
        .executeTakeFirst()
    : undefined;
  const inserted = await db
    .insertInto('affiliate_referrals')
    .values({
      affiliate_id: affiliate.id,
      referred_user_id: input.userId,
      referral_code: affiliate.referral_code,
      click_id: click?.id ?? null,
    })
    .onConflict((oc) => oc.column('referred_user_id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!inserted) {
    const winner = await db
      .selectFrom('affiliate_referrals')
      .selectAll()
      .where('referred_user_id', '=', input.userId)
      .executeTakeFirstOrThrow();
    return { outcome: 'already_attributed', referral: winner };
  }
  if (click)
    await db.updateTable('affiliate_clicks').set({ converted: true, converted_user_id: input.userId }).where('id', '=', click.id).execute();
  return { outcome: 'attributed', referral: inserted };
}

// ---- Commissions ----------------------------------------------------------------------------

export interface PaidInvoiceForCommission {
  stripeInvoiceId: string;
  /** The customer (our user) who paid. */
  userId: string;
  amountPaidCents: number;
  currency: string;
  /** When Stripe says it was paid (ISO); the refund window starts here. */
  paidAt: string | null;
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  refundWindowDays: number;
}

/**
 * invoice.paid of a referred customer → one commission row per invoice (`unique(stripe_invoice_id,
 * kind)`: a redelivered event or a retried activity adds nothing), pending until the refund
 * window ends. Undefined when the customer was not referred, the invoice paid nothing, or the
 * invoice's currency is not the affiliate's (payouts are in the affiliate's currency).
 */
export async function recordCommissionForInvoice(db: DbOrTx, invoice: PaidInvoiceForCommission): Promise<AffiliateCommission | undefined> {
  if (invoice.amountPaidCents <= 0) return undefined;
  const referral = await db
    .selectFrom('affiliate_referrals')
    .innerJoin('affiliates', 'affiliates.id', 'affiliate_referrals.affiliate_id')
    .select([
      'affiliate_referrals.id as referral_id',
      'affiliates.id as affiliate_id',
      'affiliates.commission_rate_bps',
      'affiliates.currency',
      'affiliates.status',
    ])
    .where('affiliate_referrals.referred_user_id', '=', invoice.userId)
    .executeTakeFirst();
  if (!referral || referral.status === 'suspended' || referral.currency !== invoice.currency.toLowerCase()) return undefined;
  const paidAt = invoice.paidAt ? new Date(invoice.paidAt) : new Date();
  const inserted = await db
    .insertInto('affiliate_commissions')
    .values({
      affiliate_id: referral.affiliate_id,
      referral_id: referral.referral_id,
      kind: 'commission',
      stripe_invoice_id: invoice.stripeInvoiceId,
      invoice_amount_cents: invoice.amountPaidCents,
      commission_rate_bps: referral.commission_rate_bps,
      amount_cents: commissionCents(invoice.amountPaidCents, referral.commission_rate_bps),
      currency: referral.currency,
      status: 'pending',
      eligible_at: new Date(paidAt.getTime() + invoice.refundWindowDays * DAY_MS),
    })
    .onConflict((oc) => oc.columns(['stripe_invoice_id', 'kind']).doNothing())
    .returningAll()
    .executeTakeFirst();
  await db
    .updateTable('affiliate_referrals')
    .set({
      status: 'converted',
      converted_at: sql<Date>`coalesce(converted_at, now())`,
      stripe_customer_id: sql<string | null>`coalesce(stripe_customer_id, ${invoice.stripeCustomerId ?? null})`,
      stripe_subscription_id: sql<string | null>`coalesce(stripe_subscription_id, ${invoice.stripeSubscriptionId ?? null})`,
    })
    .where('id', '=', referral.referral_id)
    .execute();
  return (
    inserted ??
    (await db
      .selectFrom('affiliate_commissions')
      .selectAll()
      .where('stripe_invoice_id', '=', invoice.stripeInvoiceId)
      .where('kind', '=', 'commission')
      .executeTakeFirst())
  );
}

export type ReversalOutcome = 'reversed' | 'adjusted' | 'already_reversed' | 'no_commission';

/**
 * A refund (or lost dispute) of an invoice claws its commission back, whatever part was
 * refunded: not yet paid out → the commission is `reversed`; already paid out (or inside a
 * payout being made) → a negative `adjustment` of the same amount, eligible at once, which the
 * next payout nets out. Runs once per invoice (the row lock and the adjustment's unique key).
 */
export async function reverseCommissionForInvoice(
  db: DbOrTx,
  input: { stripeInvoiceId: string; stripeChargeId?: string | null; reason: string },
): Promise<ReversalOutcome> {
  const commission = await db
    .selectFrom('affiliate_commissions')
    .selectAll()
    .where('stripe_invoice_id', '=', input.stripeInvoiceId)
    .where('kind', '=', 'commission')
    .forUpdate()
    .executeTakeFirst();
  if (!commission) return 'no_commission';
  if (commission.status === 'reversed') return 'already_reversed';
  if ((commission.status === 'pending' || commission.status === 'eligible') && commission.payout_id === null) {
    await db
      .updateTable('affiliate_commissions')
      .set({
        status: 'reversed',
        reversed_at: new Date(),
        reversal_reason: input.reason,
        stripe_charge_id: input.stripeChargeId ?? commission.stripe_charge_id,
      })
      .where('id', '=', commission.id)
      .execute();
    return 'reversed';
  }
  if (commission.amount_cents === 0) return 'already_reversed';
  const adjustment = await db
    .insertInto('affiliate_commissions')
    .values({
      affiliate_id: commission.affiliate_id,
      referral_id: commission.referral_id,
      kind: 'adjustment',
      stripe_invoice_id: commission.stripe_invoice_id,
      stripe_charge_id: input.stripeChargeId ?? null,
      invoice_amount_cents: commission.invoice_amount_cents,
      commission_rate_bps: commission.commission_rate_bps,
      amount_cents: -commission.amount_cents,
      currency: commission.currency,
      status: 'eligible',
      eligible_at: new Date(),
      reversal_reason: input.reason,
    })
    .onConflict((oc) => oc.columns(['stripe_invoice_id', 'kind']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return adjustment ? 'adjusted' : 'already_reversed';
}

// ---- Payouts --------------------------------------------------------------------------------

/** pending → eligible for every commission whose refund window ended by `cutoff`. */
export async function promoteEligibleCommissions(db: DbOrTx, cutoff: Date): Promise<number> {
  const result = await db
    .updateTable('affiliate_commissions')
    .set({ status: 'eligible' })
    .where('status', '=', 'pending')
    .where('eligible_at', '<=', cutoff)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Eligible, unattached commission rows of an affiliate in its currency, up to the cutoff. */
const payableCommissions = (db: DbOrTx, cutoff: Date) =>
  db
    .selectFrom('affiliate_commissions as c')
    .where('c.status', '=', 'eligible')
    .where('c.payout_id', 'is', null)
    .where('c.eligible_at', '<=', cutoff);

/**
 * One page (keyset by id) of the affiliates the period's run must visit: active ones whose
 * payable balance reaches the minimum and who have no payout this period yet, plus those whose
 * payout of this period was started but not finished (a crash or exhausted retries).
 */
export async function listPayableAffiliateIds(
  db: DbOrTx,
  input: { periodStart: string; cutoff: Date; minimumPayoutCents: number; afterId: string | null; limit: number },
): Promise<string[]> {
  const minimum = Math.max(1, input.minimumPayoutCents);
  const rows = await db
    .selectFrom('affiliates as a')
    .select('a.id')
    .where('a.status', '=', 'active')
    .$if(input.afterId !== null, (q) => q.where('a.id', '>', input.afterId ?? ''))
    .where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom('affiliate_payouts as p')
            .select('p.id')
            .whereRef('p.affiliate_id', '=', 'a.id')
            .where('p.period_start', '=', asDate(input.periodStart))
            .where('p.status', 'in', ['pending', 'processing']),
        ),
        eb.and([
          eb.not(
            eb.exists(
              eb
                .selectFrom('affiliate_payouts as p')
                .select('p.id')
                .whereRef('p.affiliate_id', '=', 'a.id')
                .where('p.period_start', '=', asDate(input.periodStart)),
            ),
          ),
          eb(
            eb
              .selectFrom('affiliate_commissions as c')
              .where('c.status', '=', 'eligible')
              .where('c.payout_id', 'is', null)
              .where('c.eligible_at', '<=', input.cutoff)
              .select((s) => s.fn.coalesce(s.fn.sum<number>('c.amount_cents'), sql<number>`0`).as('total'))
              .whereRef('c.affiliate_id', '=', 'a.id')
              .whereRef('c.currency', '=', 'a.currency'),
            '>=',
            minimum,
          ),
        ]),
      ]),
    )
    .orderBy('a.id')
    .limit(input.limit)
    .execute();
  return rows.map((r) => r.id);
}

export type PreparedPayout =
  { kind: 'below_minimum'; balanceCents: number } | { kind: 'existing' | 'created'; payout: AffiliatePayout; destination: string | null };

/**
 * Step 1 of paying an affiliate for a period, in one transaction: the period's payout row if
 * it exists (a retry or a re-run resumes it), otherwise a new `processing` row for the whole
 * payable balance with those commission rows attached to it. Nothing is written when the
 * balance is below the minimum: it carries over to the next period.
 */
export async function preparePayout(
  db: DbOrTx,
  input: { affiliateId: string; periodStart: string; periodEnd: string; cutoff: Date; minimumPayoutCents: number; runId: string | null },
): Promise<PreparedPayout> {
  const affiliate = await db.selectFrom('affiliates').selectAll().where('id', '=', input.affiliateId).forUpdate().executeTakeFirstOrThrow();
  const existing = await db
    .selectFrom('affiliate_payouts')
    .select(payoutColumns)
    .where('affiliate_id', '=', input.affiliateId)
    .where('period_start', '=', asDate(input.periodStart))
    .executeTakeFirst();
  if (existing) return { kind: 'existing', payout: existing, destination: affiliate.stripe_connected_account_id };

  const rows = await payableCommissions(db, input.cutoff)
    .select(['c.id', 'c.amount_cents'])
    .where('c.affiliate_id', '=', affiliate.id)
    .where('c.currency', '=', affiliate.currency)
    .forUpdate()
    .execute();
  const balance = rows.reduce((sum, r) => sum + r.amount_cents, 0);
  if (balance <= 0 || balance < input.minimumPayoutCents) return { kind: 'below_minimum', balanceCents: balance };

  const created = await db
    .insertInto('affiliate_payouts')
    .values({
      affiliate_id: affiliate.id,
      period_start: input.periodStart,
      period_end: input.periodEnd,
      amount_cents: balance,
      currency: affiliate.currency,
      commission_count: rows.length,
      status: 'processing',
      run_id: input.runId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .updateTable('affiliate_commissions')
    .set({ payout_id: created.id })
    .where(
      'id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  const payout = await db.selectFrom('affiliate_payouts').select(payoutColumns).where('id', '=', created.id).executeTakeFirstOrThrow();
  return { kind: 'created', payout, destination: affiliate.stripe_connected_account_id };
}

/** Step 3: the transfer exists; the payout is paid and so are its commissions. */
export async function completePayout(db: DbOrTx, payoutId: string, transferId: string): Promise<void> {
  const now = new Date();
  const payout = await db
    .updateTable('affiliate_payouts')
    .set({ status: 'paid', stripe_transfer_id: transferId, paid_at: now, failure_reason: null })
    .where('id', '=', payoutId)
    .where('status', 'in', ['pending', 'processing'])
    .returning('affiliate_id')
    .executeTakeFirst();
  if (!payout) return;
  await db
    .updateTable('affiliate_commissions')
    .set({ status: 'paid', paid_at: now })
    .where('payout_id', '=', payoutId)
    .where('status', '=', 'eligible')
    .execute();
  await db.updateTable('affiliates').set({ last_payout_at: now }).where('id', '=', payout.affiliate_id).execute();
}

/** A payout with the user of its affiliate (who its webhook events go to). */
export async function findPayoutWithOwner(db: DbOrTx, payoutId: string) {
  return db
    .selectFrom('affiliate_payouts')
    .innerJoin('affiliates', 'affiliates.id', 'affiliate_payouts.affiliate_id')
    .select([
      'affiliate_payouts.id',
      'affiliate_payouts.affiliate_id',
      'affiliate_payouts.status',
      'affiliate_payouts.amount_cents',
      'affiliate_payouts.currency',
      'affiliate_payouts.paid_at',
      'affiliates.user_id',
    ])
    .where('affiliate_payouts.id', '=', payoutId)
    .executeTakeFirst();
}

/** No destination or Stripe refused: the payout failed and its commissions carry forward. */
export async function failPayout(db: DbOrTx, payoutId: string, reason: string): Promise<void> {
  const failed = await db
    .updateTable('affiliate_payouts')
    .set({ status: 'failed', failure_reason: reason })
    .where('id', '=', payoutId)
    .where('status', 'in', ['pending', 'processing'])
    .returning('id')
    .executeTakeFirst();
  if (!failed) return;
  await db
    .updateTable('affiliate_commissions')
    .set({ payout_id: null })
    .where('payout_id', '=', payoutId)
    .where('status', '=', 'eligible')
    .execute();
}

export async function listPeriodPayouts(db: DbOrTx, periodStart: string): Promise<AffiliatePayout[]> {
  return db
    .selectFrom('affiliate_payouts')
    .select(payoutColumns)
    .where('period_start', '=', asDate(periodStart))
    .orderBy('affiliate_id')
    .execute();
}

export async function listAffiliatePayouts(db: DbOrTx, affiliateId: string, limit = 24): Promise<AffiliatePayout[]> {
  return db
    .selectFrom('affiliate_payouts')
    .select(payoutColumns)
    .where('affiliate_id', '=', affiliateId)
    .orderBy('period_start', 'desc')
    .limit(limit)
    .execute();
}

export async function listAffiliateCommissions(db: DbOrTx, affiliateId: string, limit = 100): Promise<AffiliateCommission[]> {
  return db
    .selectFrom('affiliate_commissions')
    .selectAll()
    .where('affiliate_id', '=', affiliateId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
}

export interface AffiliateStats {
  clicks: number;
  conversions: number;
  referrals: number;
  pendingCents: number;
  eligibleCents: number;
  paidCents: number;
  reversedCents: number;
}

export async function affiliateStats(db: DbOrTx, affiliateId: string): Promise<AffiliateStats> {
  const [clicks, referrals, money] = await Promise.all([
    db
      .selectFrom('affiliate_clicks')
      .select((eb) => [
        eb.fn.countAll<number>().as('clicks'),
        eb.fn.count<number>('id').filterWhere('converted', '=', true).as('conversions'),
      ])
      .where('affiliate_id', '=', affiliateId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('affiliate_referrals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('affiliate_id', '=', affiliateId)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('affiliate_commissions')
      .select(['status', (eb) => eb.fn.sum<number>('amount_cents').as('total')])
      .where('affiliate_id', '=', affiliateId)
      .groupBy('status')
      .execute(),
  ]);
  const total = (status: string) => Number(money.find((m) => m.status === status)?.total ?? 0);
  return {
    clicks: Number(clicks.clicks),
    conversions: Number(clicks.conversions),
    referrals: Number(referrals.n),
    pendingCents: total('pending'),
    eligibleCents: total('eligible'),
    paidCents: total('paid'),
    reversedCents: total('reversed'),
  };
}
