import { sql } from 'kysely';
import type { DbOrTx, Tx } from '../database';
import type { PlanSlug, SubscriptionStatus } from '../types';
import { tierWithGrants } from './plans';

/** Queries of the Stripe billing lifecycle: webhook intake, subscriptions, payments, usage periods (the credit ledger is credits.ts). */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID.test(value);

// ---- webhook intake ---------------------------------------------------------------------

export interface NewStripeEvent {
  stripeEventId: string;
  eventType: string;
  stripeSubscriptionId: string | null;
  stripeCreatedAt: Date;
  /** Our user id when the event names it (checkout's client_reference_id); kept only if the user exists. */
  userId: string | null;
  payload: string;
  status: 'pending' | 'ignored';
}

/** Inserts the event unless its id is known; false for a duplicate delivery. */
export async function insertStripeEvent(db: DbOrTx, event: NewStripeEvent): Promise<boolean> {
  const userId = isUuid(event.userId) ? sql<string | null>`(select id from users where id = ${event.userId}::uuid)` : null;
  const inserted = await db
    .insertInto('subscription_events')
    .values({
      stripe_event_id: event.stripeEventId,
      event_type: event.eventType,
      stripe_subscription_id: event.stripeSubscriptionId,
      stripe_created_at: event.stripeCreatedAt,
      user_id: userId,
      payload: event.payload,
      status: event.status,
      processed_at: event.status === 'ignored' ? new Date() : null,
    })
    .onConflict((oc) => oc.column('stripe_event_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export interface StoredStripeEvent {
  id: string;
  type: string;
  createdAt: Date | null;
  userId: string | null;
  /** The event's `data.object`. */
  object: Record<string, unknown>;
}

export async function findStripeEvent(db: DbOrTx, stripeEventId: string): Promise<StoredStripeEvent | undefined> {
  const row = await db
    .selectFrom('subscription_events')
    .select(['stripe_event_id', 'event_type', 'stripe_created_at', 'user_id', 'payload'])
    .where('stripe_event_id', '=', stripeEventId)
    .executeTakeFirst();
  if (!row) return undefined;
  const payload = row.payload as { data?: { object?: Record<string, unknown> } };
  return {
    id: row.stripe_event_id,
    type: row.event_type,
    createdAt: row.stripe_created_at,
    userId: row.user_id,
    object: payload.data?.object ?? {},
  };
}

export async function markStripeEvent(
  db: DbOrTx,
  stripeEventId: string,
  outcome: { status: 'processed' | 'ignored' | 'failed'; error?: string; userSubscriptionId?: string | null; userId?: string | null },
): Promise<void> {
  await db
    .updateTable('subscription_events')
    .set((eb) => ({
      status: outcome.status,
      processed_at: new Date(),
      error_message: outcome.error ?? null,
      retry_count: outcome.status === 'failed' ? eb('retry_count', '+', 1) : eb.ref('retry_count'),
      ...(outcome.userSubscriptionId ? { user_subscription_id: outcome.userSubscriptionId } : {}),
      ...(outcome.userId ? { user_id: outcome.userId } : {}),
    }))
    .where('stripe_event_id', '=', stripeEventId)
    .execute();
}

/** The user a subscription's checkout named (client_reference_id), if any event carried it. */
export async function userIdFromSubscriptionEvents(db: DbOrTx, stripeSubscriptionId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('subscription_events')
    .select('user_id')
    .where('stripe_subscription_id', '=', stripeSubscriptionId)
    .where('user_id', 'is not', null)
    .orderBy('webhook_received_at')
    .limit(1)
    .executeTakeFirst();
  return row?.user_id ?? undefined;
}

// ---- plans and subscriptions ----------------------------------------------------------------

export interface PlanForPrice {
  planId: string;
  slug: PlanSlug;
  sortOrder: number;
  amountCents: number;
  billingPeriod: 'month' | 'year';
  monthlyCredits: number;
  videoLimit: number | null;
}

export async function findPlanByStripePrice(db: DbOrTx, stripePriceId: string): Promise<PlanForPrice | undefined> {
  const row = await db
    .selectFrom('subscription_plan_prices as pr')
    .innerJoin('subscription_plans as p', 'p.id', 'pr.plan_id')
    .leftJoin('subscription_plan_features as f', 'f.plan_id', 'p.id')
    .select(['p.id', 'p.slug', 'p.sort_order', 'pr.amount_cents', 'pr.billing_period', 'f.monthly_credits', 'f.video_limit'])
    .where('pr.stripe_price_id', '=', stripePriceId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    planId: row.id,
    slug: row.slug,
    sortOrder: row.sort_order,
    amountCents: row.amount_cents,
    billingPeriod: row.billing_period,
    monthlyCredits: row.monthly_credits ?? 0,
    videoLimit: row.video_limit ?? null,
  };
}

/** Credit packs sold at these Stripe prices, by price id: what a top-up's line items buy (a pack retired since still pays out). */
export async function findCreditPacksByStripePrices(
  db: DbOrTx,
  stripePriceIds: readonly string[],
): Promise<Map<string, { slug: string; credits: number }>> {
  if (stripePriceIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('credit_packs')
    .select(['stripe_price_id', 'slug', 'credits'])
    .where('stripe_price_id', 'in', [...stripePriceIds])
    .execute();
  return new Map(rows.map((r) => [r.stripe_price_id, { slug: r.slug, credits: r.credits }]));
}

export async function findPlanById(
  db: DbOrTx,
  planId: string,
): Promise<{ slug: PlanSlug; sortOrder: number; monthlyCredits: number; videoLimit: number | null }> {
  const row = await db
    .selectFrom('subscription_plans as p')
    .leftJoin('subscription_plan_features as f', 'f.plan_id', 'p.id')
    .select(['p.slug', 'p.sort_order', 'f.monthly_credits', 'f.video_limit'])
    .where('p.id', '=', planId)
    .executeTakeFirstOrThrow();
  return { slug: row.slug, sortOrder: row.sort_order, monthlyCredits: row.monthly_credits ?? 0, videoLimit: row.video_limit ?? null };
}

export async function findUserSubscription(db: DbOrTx, stripeSubscriptionId: string, lock = false) {
  let query = db.selectFrom('user_subscriptions').selectAll().where('stripe_subscription_id', '=', stripeSubscriptionId);
  if (lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** The user's most recently updated Stripe subscription. */
export async function latestUserSubscription(db: DbOrTx, userId: string) {
  return db
    .selectFrom('user_subscriptions as s')
    .innerJoin('subscription_plans as p', 'p.id', 's.plan_id')
    .selectAll('s')
    .select('p.slug as plan_slug')
    .where('s.user_id', '=', userId)
    .where('s.stripe_subscription_id', 'is not', null)
    .orderBy('s.updated_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Another subscription of the user, still giving access, created after the given one. */
export async function findNewerLiveSubscription(db: DbOrTx, userId: string, subscriptionRowId: string, since: Date) {
  return db
    .selectFrom('user_subscriptions')
    .select('id')
    .where('user_id', '=', userId)
    .where('id', '<>', subscriptionRowId)
    .where('status', 'in', ['trialing', 'active', 'past_due', 'unpaid'])
    .where('created_at', '>', since)
    .limit(1)
    .executeTakeFirst();
}

export interface SubscriptionState {
  userId: string;
  planId: string;
  stripeSubscriptionId: string;
  stripeCustomerId: string;
  stripePriceId: string;
  status: SubscriptionStatus;
  billingPeriod: 'month' | 'year' | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  trialStart: string | null;
  trialEnd: string | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: string | null;
  endedAt: string | null;
  latestInvoiceId: string | null;
  lastEventAt: Date | null;
}

/** Inserts or overwrites the subscription row with Stripe's state; last_event_at only moves forward. */
export async function upsertUserSubscription(tx: Tx, state: SubscriptionState): Promise<{ id: string }> {
  const values = {
    user_id: state.userId,
    plan_id: state.planId,
    stripe_customer_id: state.stripeCustomerId,
    stripe_price_id: state.stripePriceId,
    status: state.status,
    billing_period: state.billingPeriod,
    current_period_start: state.currentPeriodStart,
    current_period_end: state.currentPeriodEnd,
    trial_start: state.trialStart,
    trial_end: state.trialEnd,
    cancel_at_period_end: state.cancelAtPeriodEnd,
    canceled_at: state.canceledAt,
    ended_at: state.endedAt,
    last_event_at: state.lastEventAt,
    metadata: JSON.stringify({ latest_invoice_id: state.latestInvoiceId }),
  };
  return tx
    .insertInto('user_subscriptions')
    .values({ ...values, stripe_subscription_id: state.stripeSubscriptionId })
    .onConflict((oc) =>
      oc.column('stripe_subscription_id').doUpdateSet({
        ...values,
        last_event_at: sql`greatest(user_subscriptions.last_event_at, excluded.last_event_at)`,
        updated_at: sql`now()`,
      }),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
}

export interface NewPlanMigration {
  userId: string;
  userSubscriptionId: string;
  fromPlanId: string;
  toPlanId: string;
  migrationType: 'upgrade' | 'downgrade' | 'crossgrade';
  effectiveDate: Date;
  prorationAmountCents: number;
  currency: string;
  stripeSubscriptionId: string;
  stripeInvoiceId: string | null;
  stripeEventId: string;
}

/** One row per plan change; the event id makes a redelivered event record nothing twice. */
export async function insertPlanMigration(tx: Tx, m: NewPlanMigration): Promise<void> {
  await tx
    .insertInto('subscription_plan_migrations')
    .values({
      user_id: m.userId,
      user_subscription_id: m.userSubscriptionId,
      from_plan_id: m.fromPlanId,
      to_plan_id: m.toPlanId,
      migration_type: m.migrationType,
      migration_reason: 'stripe_subscription_updated',
      effective_date: m.effectiveDate,
      is_prorated: m.prorationAmountCents !== 0,
      proration_amount_cents: m.prorationAmountCents,
      currency: m.currency,
      stripe_subscription_id: m.stripeSubscriptionId,
      stripe_invoice_id: m.stripeInvoiceId,
      stripe_event_id: m.stripeEventId,
      status: 'completed',
      completed_at: m.effectiveDate,
    })
    .onConflict((oc) => oc.column('stripe_event_id').doNothing())
    .execute();
}

export async function hasPaidSubscriptionInvoice(db: DbOrTx, stripeSubscriptionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('payments')
    .select('id')
    .where('stripe_subscription_id', '=', stripeSubscriptionId)
    .where('status', 'in', ['succeeded', 'partially_refunded', 'refunded'])
    .where('amount_cents', '>', 0)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export interface UserBillingFields {
  status: SubscriptionStatus | null;
  periodEnd: string | null;
  trialEnd: string | null;
}

/** The Stripe status, period end and trial end shown on the user. */
export async function setUserBillingFields(db: DbOrTx, userId: string, fields: UserBillingFields): Promise<void> {
  await db
    .updateTable('users')
    .set({
      subscription_status: fields.status,
      subscription_period_end: fields.periodEnd,
      trial_end: fields.trialEnd,
      updated_at: sql`now()`,
    })
    .where('id', '=', userId)
    .execute();
}

/** The Stripe customer id on the user's row, unless it already has one. */
export async function setStripeCustomerIfUnset(db: DbOrTx, userId: string, stripeCustomerId: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ stripe_customer_id: stripeCustomerId })
    .where('id', '=', userId)
    .where('stripe_customer_id', 'is', null)
    .execute();
}

/**
 * The tier a user gets: the subscription's tier raised by active admin grants (tierWithGrants,
 * the rule of the one plan resolver), plus the Stripe status and period end to show.
 */
export async function setUserTier(db: DbOrTx, userId: string, subscriptionTier: PlanSlug, fields: UserBillingFields): Promise<PlanSlug> {
  const tier = await tierWithGrants(db, userId, subscriptionTier);
  await db.updateTable('users').set({ subscription_tier: tier }).where('id', '=', userId).execute();
  await setUserBillingFields(db, userId, fields);
  return tier;
}

// ---- payments and usage periods -------------------------------------------------------------

export interface PaymentRecord {
  userId: string | null;
  stripePaymentId: string;
  stripeInvoiceId: string | null;
  stripeSubscriptionId: string | null;
  stripeCustomerId: string | null;
  amountCents: number;
  currency: string;
  status: 'succeeded' | 'failed';
  paymentType: 'subscription' | 'credit_topup';
  description: string;
  failureReason?: string;
  paidAt: string | null;
}

/** One row per Stripe payment; a later success overwrites a failure, never the reverse. */
export async function upsertPayment(db: DbOrTx, p: PaymentRecord): Promise<{ id: string; status: string }> {
  const values = {
    user_id: p.userId,
    stripe_invoice_id: p.stripeInvoiceId,
    stripe_subscription_id: p.stripeSubscriptionId,
    stripe_customer_id: p.stripeCustomerId,
    amount_cents: p.amountCents,
    currency: p.currency,
    status: p.status,
    payment_type: p.paymentType,
    description: p.description,
    failure_reason: p.failureReason ?? null,
    paid_at: p.paidAt,
  };
  return db
    .insertInto('payments')
    .values({ stripe_payment_id: p.stripePaymentId, ...values })
    .onConflict((oc) =>
      oc
        .column('stripe_payment_id')
        .doUpdateSet({ ...values, updated_at: sql`now()` })
        .where('payments.status', 'not in', ['succeeded', 'refunded', 'partially_refunded']),
    )
    .returning(['id', 'status'])
    .executeTakeFirst()
    .then(
      async (row) =>
        row ??
        db.selectFrom('payments').select(['id', 'status']).where('stripe_payment_id', '=', p.stripePaymentId).executeTakeFirstOrThrow(),
    );
}

/** Records a refund on the payment it belongs to (by invoice or payment intent id); undefined if unknown. */
export async function recordPaymentRefund(db: DbOrTx, stripePaymentIds: string[], amountRefundedCents: number) {
  return db
    .updateTable('payments')
    .set((eb) => ({
      amount_refunded_cents: sql<number>`least(${amountRefundedCents}, amount_cents)`,
      status: eb
        .case()
        .when(sql<boolean>`${amountRefundedCents} >= amount_cents`)
        .then('refunded' as const)
        .else('partially_refunded' as const)
        .end(),
      updated_at: sql`now()`,
    }))
    .where('stripe_payment_id', 'in', stripePaymentIds)
    .returning([
      'id',
      'user_id',
      'stripe_payment_id',
      'stripe_invoice_id',
      'stripe_subscription_id',
      'amount_cents',
      'amount_refunded_cents',
      'currency',
      'payment_type',
    ])
    .executeTakeFirst();
}

/** A fresh usage row for the period (counters at zero); false when the period already has one. */
export async function openUsagePeriod(
  db: DbOrTx,
  row: { userId: string; userSubscriptionId: string; periodStart: string; periodEnd: string; usageLimit: number | null },
): Promise<boolean> {
  const inserted = await db
    .insertInto('subscription_usage')
    .values({
      user_id: row.userId,
      user_subscription_id: row.userSubscriptionId,
      period_start: row.periodStart,
      period_end: row.periodEnd,
      usage_limit: row.usageLimit,
    })
    .onConflict((oc) => oc.columns(['user_id', 'period_start']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
