import { ApplicationFailure } from '@temporalio/common';
import { recordCommissionForInvoice, reverseCommissionForInvoice } from '../db/repositories/affiliates';
import { DEFAULT_AFFILIATE_POLICY } from '../schemas/affiliates';
import { applyCreditTransaction } from '../db/repositories/credits';
import { money, renderBillingEmail, type BillingEmailData, type BillingEmailTemplate } from './billing-emails';
import { notifyOnce } from './notifications';
import type { Db } from '../db/database';
import {
  findCreditPacksByStripePrices,
  findPlanById,
  findPlanByStripePrice,
  findStripeEvent,
  findNewerLiveSubscription,
  findUserSubscription,
  hasPaidSubscriptionInvoice,
  insertPlanMigration,
  isUuid,
  markStripeEvent,
  openUsagePeriod,
  recordPaymentRefund,
  setStripeCustomerIfUnset,
  setUserBillingFields,
  setUserTier,
  upsertPayment,
  upsertUserSubscription,
  userIdFromSubscriptionEvents,
  type StoredStripeEvent,
} from '../db/repositories/billing';
import { findUser, findUserByStripeCustomer, getUserTier } from '../db/repositories/users';
import { SubscriptionStatusSchema, type PlanSlug } from '../schemas/billing';
import type { SubscriptionSummary } from '../workflows/subscription/contract';
import type { ActivityDeps } from './deps';
import { FailureType } from '../schemas/failures';
import { nonRetryable } from './common';
import { syncUserContentPlanSchedule } from './content-plans';
import { inTransactionWithEvents } from './webhook-events';
import type { StripeSubscriptionSnapshot } from '../providers/stripe';

export interface SyncSubscriptionResult {
  /** False when the event was older than the state we hold (the Stripe snapshot was not fetched). */
  applied: boolean;
  /** Null while nothing tells us whose subscription this is (checkout not seen yet). */
  subscription: SubscriptionSummary | null;
}

export interface PaidInvoice {
  invoiceId: string;
  userId: string;
  amountPaidCents: number;
  currency: string;
  periodStart: string;
  periodEnd: string;
  /** A usage row was opened for this period (it did not exist before). */
  newPeriod: boolean;
  creditsGranted: number;
}

export interface FailedInvoice {
  invoiceId: string;
  amountDueCents: number;
  hostedInvoiceUrl: string | null;
}

/**
 * A money movement other parts of the platform react to (affiliate commissions and their
 * reversal, issue I): returned by the activities that record it, so the workflow has one place
 * to hand it on.
 */
export interface PaymentEvent {
  kind: 'invoice_paid' | 'charge_refunded';
  stripeEventId: string;
  paymentId: string;
  userId: string | null;
  stripeInvoiceId: string | null;
  stripeSubscriptionId: string | null;
  amountCents: number;
  amountRefundedCents: number;
  currency: string;
}

export interface BillingEmail {
  userId: string;
  template: BillingEmailTemplate;
  /** Same key, same email: a retried activity or a replayed timer sends nothing twice. */
  dedupKey: string;
  data: BillingEmailData;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

async function requireEvent(db: Db, eventId: string): Promise<StoredStripeEvent> {
  const event = await findStripeEvent(db, eventId);
  // The webhook commits the row before it signals; a missing row can only be a racing commit.
  if (!event) throw ApplicationFailure.retryable(`Stripe event ${eventId} is not stored yet`, 'EventNotStored');
  return event;
}

/** Whose subscription this is: its metadata, the checkout that created it, or the customer id we know. */
async function resolveOwner(db: Db, snapshot: StripeSubscriptionSnapshot): Promise<string | undefined> {
  const fromMetadata = snapshot.metadata.user_id;
  if (isUuid(fromMetadata)) {
    const user = await findUser(db, fromMetadata);
    if (user) return user.id;
  }
  const fromCheckout = await userIdFromSubscriptionEvents(db, snapshot.id);
  if (fromCheckout) return fromCheckout;
  return (await findUserByStripeCustomer(db, snapshot.customerId))?.id;
}

export function createBillingActivities(deps: ActivityDeps) {
  const { db, logger } = deps;
  const stripe = () => deps.providers.stripe;

  async function summaryOf(stripeSubscriptionId: string): Promise<SubscriptionSummary | null> {
    const row = await findUserSubscription(db, stripeSubscriptionId);
    if (!row) return null;
    const plan = await findPlanById(db, row.plan_id);
    return {
      userId: row.user_id,
      planSlug: plan.slug,
      status: row.status,
      currentPeriodStart: iso(row.current_period_start),
      currentPeriodEnd: iso(row.current_period_end),
      trialEnd: iso(row.trial_end),
      cancelAtPeriodEnd: row.cancel_at_period_end,
      latestInvoiceId: str(row.metadata.latest_invoice_id),
      everPaid: await hasPaidSubscriptionInvoice(db, stripeSubscriptionId),
    };
  }

  return {
    /**
     * Brings user_subscriptions up to Stripe's current state. Event order is never trusted:
     * an event older than the newest one applied changes nothing; otherwise the subscription is
     * retrieved from Stripe (never read from the event body) and written, with a plan
     * migration row when its price moved to another plan.
     */
    async syncStripeSubscription(input: { stripeSubscriptionId: string; eventId?: string }): Promise<SyncSubscriptionResult> {
      const event = input.eventId ? await requireEvent(db, input.eventId) : undefined;
      const held = await findUserSubscription(db, input.stripeSubscriptionId);
      if (event?.createdAt && held?.last_event_at && event.createdAt < held.last_event_at) {
        return { applied: false, subscription: await summaryOf(input.stripeSubscriptionId) };
      }
      const snapshot = await stripe().retrieveSubscription(input.stripeSubscriptionId);
      const plan = await findPlanByStripePrice(db, snapshot.priceId);
      if (!plan)
        throw nonRetryable(`Stripe price ${snapshot.priceId} belongs to no plan (subscription_plan_prices)`, FailureType.InvalidInput);
      const userId = held?.user_id ?? (await resolveOwner(db, snapshot));
      if (!userId) return { applied: false, subscription: null };

      await inTransactionWithEvents(deps, async (tx, emit) => {
        // The row lock serializes this with any other writer of the same subscription.
        const before = await findUserSubscription(tx, input.stripeSubscriptionId, true);
        const { id } = await upsertUserSubscription(tx, {
          userId,
          planId: plan.planId,
          stripeSubscriptionId: snapshot.id,
          stripeCustomerId: snapshot.customerId,
          stripePriceId: snapshot.priceId,
          // Stripe statuses we know are stored as they are; anything newer Stripe invents lands as incomplete.
          status: SubscriptionStatusSchema.safeParse(snapshot.status).data ?? 'incomplete',
          billingPeriod: snapshot.interval === 'year' ? 'year' : snapshot.interval === 'month' ? 'month' : null,
          currentPeriodStart: snapshot.currentPeriodStart || null,
          currentPeriodEnd: snapshot.currentPeriodEnd || null,
          trialStart: snapshot.trialStart,
          trialEnd: snapshot.trialEnd,
          cancelAtPeriodEnd: snapshot.cancelAtPeriodEnd,
          canceledAt: snapshot.canceledAt,
          endedAt: snapshot.endedAt,
          latestInvoiceId: snapshot.latestInvoiceId,
          lastEventAt: event?.createdAt ?? held?.last_event_at ?? null,
        });
        if (before && before.plan_id !== plan.planId && event) {
          const from = await findPlanById(tx, before.plan_id);
          const fromPrice = before.stripe_price_id ? await findPlanByStripePrice(tx, before.stripe_price_id) : undefined;
          const effective = event.createdAt ?? new Date();
          const periodStart = Date.parse(snapshot.currentPeriodStart);
          const periodEnd = Date.parse(snapshot.currentPeriodEnd);
          // Stripe's time-based proration: the price difference for the unused part of the period.
          const unused =
            periodEnd > periodStart ? Math.min(1, Math.max(0, (periodEnd - effective.getTime()) / (periodEnd - periodStart))) : 0;
          await insertPlanMigration(tx, {
            userId,
            userSubscriptionId: id,
            fromPlanId: before.plan_id,
            toPlanId: plan.planId,
            migrationType: plan.sortOrder > from.sortOrder ? 'upgrade' : plan.sortOrder < from.sortOrder ? 'downgrade' : 'crossgrade',
            effectiveDate: effective,
            prorationAmountCents: Math.round(((snapshot.unitAmount ?? plan.amountCents) - (fromPrice?.amountCents ?? 0)) * unused),
            currency: snapshot.currency,
            stripeSubscriptionId: snapshot.id,
            stripeInvoiceId: snapshot.latestInvoiceId,
            stripeEventId: event.id,
          });
        }
        await setStripeCustomerIfUnset(tx, userId, snapshot.customerId);
        // Status and period end follow Stripe at once; the tier is the workflow's call (grace, trial slack).
        const row = await findUserSubscription(tx, input.stripeSubscriptionId);
        if (row && !(await findNewerLiveSubscription(tx, userId, row.id, row.created_at))) {
          await setUserBillingFields(tx, userId, {
            status: row.status,
            periodEnd: iso(row.current_period_end),
            trialEnd: iso(row.trial_end),
          });
        }
        // subscription.updated: a subscription seen the first time, or its status, plan or cancel-at-period-end changed.
        // A retried sync finds nothing changed and records nothing; the Stripe event (or the write) keys the fact.
        if (
          !row ||
          (before &&
            before.status === row.status &&
            before.plan_id === row.plan_id &&
            before.cancel_at_period_end === row.cancel_at_period_end)
        )
          return;
        await emit({
          type: 'subscription.updated',
          userId,
          factKey: `${snapshot.id}:${event?.id ?? row.updated_at.toISOString()}`,
          data: {
            subscriptionId: snapshot.id,
            status: row.status,
            previousStatus: before?.status ?? null,
            plan: (await findPlanById(tx, row.plan_id)).slug,
            previousPlan: before ? (await findPlanById(tx, before.plan_id)).slug : null,
            cancelAtPeriodEnd: row.cancel_at_period_end,
            currentPeriodEnd: iso(row.current_period_end),
            trialEnd: iso(row.trial_end),
          },
        });
      });
      return { applied: true, subscription: await summaryOf(input.stripeSubscriptionId) };
    },

    /**
     * invoice.paid: the payment row, a fresh usage row for the period the invoice pays for and
     * the plan's credit grant, once per (subscription, period) through the ledger's unique key.
     * Null when Stripe no longer reports the invoice as paid.
     */
    async recordPaidInvoice(input: {
      eventId: string;
      stripeSubscriptionId: string;
    }): Promise<{ invoice: PaidInvoice; payment: PaymentEvent | null } | null> {
      const event = await requireEvent(db, input.eventId);
      const invoiceId = str(event.object.id);
      if (!invoiceId) throw nonRetryable(`event ${event.id} carries no invoice id`, FailureType.InvalidInput);
      const invoice = await stripe().retrieveInvoice(invoiceId);
      if (invoice.status !== 'paid') return null;
      const subscription = await findUserSubscription(db, input.stripeSubscriptionId);
      if (!subscription)
        throw ApplicationFailure.retryable(`subscription ${input.stripeSubscriptionId} is not stored yet`, 'SubscriptionNotStored');
      const plan = await findPlanById(db, subscription.plan_id);
      const recorded = await db.transaction().execute(async (tx) => {
        const payment =
          invoice.amountPaid > 0
            ? await upsertPayment(tx, {
                userId: subscription.user_id,
                stripePaymentId: invoice.id,
                stripeInvoiceId: invoice.id,
                stripeSubscriptionId: input.stripeSubscriptionId,
                stripeCustomerId: invoice.customerId,
                amountCents: invoice.amountPaid,
                currency: invoice.currency,
                status: 'succeeded',
                paymentType: 'subscription',
                description: `${plan.slug} plan, ${invoice.servicePeriodStart.slice(0, 10)} – ${invoice.servicePeriodEnd.slice(0, 10)}`,
                paidAt: invoice.paidAt,
              })
            : undefined;
        // A referred customer's paid invoice earns its affiliate a commission (once per invoice).
        await recordCommissionForInvoice(tx, {
          stripeInvoiceId: invoice.id,
          userId: subscription.user_id,
          amountPaidCents: invoice.amountPaid,
          currency: invoice.currency,
          paidAt: invoice.paidAt,
          stripeCustomerId: invoice.customerId,
          stripeSubscriptionId: input.stripeSubscriptionId,
          refundWindowDays: deps.affiliatePolicy?.refundWindowDays ?? DEFAULT_AFFILIATE_POLICY.refundWindowDays,
        });
        const newPeriod = await openUsagePeriod(tx, {
          userId: subscription.user_id,
          userSubscriptionId: subscription.id,
          periodStart: invoice.servicePeriodStart,
          periodEnd: invoice.servicePeriodEnd,
          usageLimit: plan.videoLimit,
        });
        let creditsGranted = 0;
        // A $0 (trial) invoice pays for nothing: credits come with paid periods only.
        if (invoice.amountPaid > 0 && plan.monthlyCredits > 0) {
          const grant = await applyCreditTransaction(tx, {
            userId: subscription.user_id,
            amount: plan.monthlyCredits,
            type: 'subscription_grant',
            idempotencyKey: `subscription_grant:${input.stripeSubscriptionId}:${invoice.servicePeriodStart}`,
            description: `${plan.slug} plan credits for the period starting ${invoice.servicePeriodStart.slice(0, 10)}`,
            referenceId: invoice.id,
            // Plan credits last until the period they were paid for ends.
            expiresAt: invoice.servicePeriodEnd,
          });
          if (grant.applied) creditsGranted = plan.monthlyCredits;
        }
        return {
          invoice: {
            invoiceId: invoice.id,
            userId: subscription.user_id,
            amountPaidCents: invoice.amountPaid,
            currency: invoice.currency,
            periodStart: invoice.servicePeriodStart,
            periodEnd: invoice.servicePeriodEnd,
            newPeriod,
            creditsGranted,
          },
          payment: payment
            ? {
                kind: 'invoice_paid' as const,
                stripeEventId: event.id,
                paymentId: payment.id,
                userId: subscription.user_id,
                stripeInvoiceId: invoice.id,
                stripeSubscriptionId: input.stripeSubscriptionId,
                amountCents: invoice.amountPaid,
                amountRefundedCents: 0,
                currency: invoice.currency,
              }
            : null,
        };
      });
      // A paid billing cycle is a renewal: told once per invoice (the user's settings permitting), after the money is recorded.
      if (invoice.billingReason === 'subscription_cycle' && invoice.amountPaid > 0) {
        await notifyOnce(deps, {
          userId: subscription.user_id,
          kind: 'subscription_renewal',
          dedupeKey: `subscription_renewal:${invoice.id}`,
          subject: 'Your subscription renewed',
          lines: [
            `Your ${plan.slug} plan renewed for ${invoice.servicePeriodStart.slice(0, 10)} – ${invoice.servicePeriodEnd.slice(0, 10)}.`,
            `We charged ${money(invoice.amountPaid, invoice.currency)}.`,
          ],
        });
      }
      return recorded;
    },

    /** invoice.payment_failed: the failed payment row (a later success of the same invoice overwrites it). */
    async recordFailedInvoice(input: { eventId: string; stripeSubscriptionId: string }): Promise<FailedInvoice> {
      const event = await requireEvent(db, input.eventId);
      const invoiceId = str(event.object.id);
      if (!invoiceId) throw nonRetryable(`event ${event.id} carries no invoice id`, FailureType.InvalidInput);
      const invoice = await stripe().retrieveInvoice(invoiceId);
      const subscription = await findUserSubscription(db, input.stripeSubscriptionId);
      if (invoice.amountDue > 0) {
        await upsertPayment(db, {
          userId: subscription?.user_id ?? null,
          stripePaymentId: invoice.id,
          stripeInvoiceId: invoice.id,
          stripeSubscriptionId: input.stripeSubscriptionId,
          stripeCustomerId: invoice.customerId,
          amountCents: invoice.amountDue,
          currency: invoice.currency,
          status: invoice.status === 'paid' ? 'succeeded' : 'failed',
          paymentType: 'subscription',
          description: `invoice ${invoice.id}`,
          failureReason: invoice.status === 'paid' ? undefined : `payment attempt ${invoice.attemptCount} failed`,
          paidAt: invoice.paidAt,
        });
      }
      return { invoiceId: invoice.id, amountDueCents: invoice.amountDue, hostedInvoiceUrl: invoice.hostedInvoiceUrl };
    },

    /** Writes the user's tier (the subscription's, or an admin grant's if higher) and the Stripe status beside it. */
    async applySubscriptionAccess(input: { stripeSubscriptionId: string; tier: PlanSlug; reason: string }): Promise<{ tier: PlanSlug }> {
      const subscription = await findUserSubscription(db, input.stripeSubscriptionId);
      if (!subscription) throw nonRetryable(`subscription ${input.stripeSubscriptionId} is not stored`, FailureType.NotFound);
      // An old subscription ending must not take the tier of a newer live one away.
      const newer = await findNewerLiveSubscription(db, subscription.user_id, subscription.id, subscription.created_at);
      if (newer) return { tier: await getUserTier(db, subscription.user_id) };
      const tier = await setUserTier(db, subscription.user_id, input.tier, {
        status: subscription.status,
        periodEnd: iso(subscription.current_period_end),
        trialEnd: iso(subscription.trial_end),
      });
      logger.info(
        { userId: subscription.user_id, stripeSubscriptionId: input.stripeSubscriptionId, tier, reason: input.reason },
        'subscription access applied',
      );
      // The monthly content plan's Schedule follows the tier (created, moved, removed); idempotent on a retry.
      await syncUserContentPlanSchedule(deps, subscription.user_id);
      return { tier };
    },

    async sendBillingEmail(email: BillingEmail): Promise<{ sent: boolean }> {
      const user = await findUser(db, email.userId);
      if (!user) throw nonRetryable(`user ${email.userId} not found`, FailureType.NotFound);
      await deps.providers.mailer.send(
        renderBillingEmail(user.email, email.template, { firstName: user.first_name, ...email.data }, email.dedupKey),
      );
      return { sent: true };
    },

    async markStripeEventHandled(input: {
      eventId: string;
      status: 'processed' | 'ignored' | 'failed';
      error?: string;
      stripeSubscriptionId?: string;
    }): Promise<void> {
      const subscription = input.stripeSubscriptionId ? await findUserSubscription(db, input.stripeSubscriptionId) : undefined;
      await markStripeEvent(db, input.eventId, {
        status: input.status,
        error: input.error,
        userSubscriptionId: subscription?.id,
        userId: subscription?.user_id,
      });
    },

    /**
     * checkout.session.completed in payment mode: a paid checkout of credit packs grants what
     * Stripe says it sold (line items → our credit_packs), never a number from the event or its
     * metadata. The payment row and the credits go in one transaction, keyed by the checkout
     * session, so a redelivery or a retried activity adds nothing. Marks the event processed (or
     * ignored when the session is not a paid credit-pack checkout).
     */
    async grantCreditTopUp(input: { eventId: string }): Promise<{ topUp: boolean; credits: number; newEntry: boolean }> {
      const event = await requireEvent(db, input.eventId);
      const sessionId = str(event.object.id);
      if (!sessionId) throw nonRetryable(`event ${event.id} carries no checkout session id`, FailureType.InvalidInput);
      const purchase = await stripe().retrieveCheckoutPurchase(sessionId);
      const soldPriceIds = purchase.lineItems.map((item) => item.priceId).filter((id): id is string => id !== null);
      const packs = await findCreditPacksByStripePrices(db, soldPriceIds);
      if (purchase.mode !== 'payment' || purchase.paymentStatus !== 'paid' || packs.size === 0) {
        await markStripeEvent(db, event.id, { status: 'ignored' });
        return { topUp: false, credits: 0, newEntry: false };
      }
      let credits = 0;
      for (const item of purchase.lineItems) {
        const pack = item.priceId === null ? undefined : packs.get(item.priceId);
        if (!pack)
          throw nonRetryable(
            `checkout ${sessionId} sold ${item.priceId ?? 'an item without a price'}, which is no credit pack`,
            FailureType.InvalidInput,
          );
        credits += pack.credits * item.quantity;
      }
      const { clientReferenceId, metadata } = purchase;
      const userId = isUuid(clientReferenceId) ? clientReferenceId : isUuid(metadata.user_id) ? metadata.user_id : null;
      if (!userId || !(await findUser(db, userId))) throw nonRetryable(`checkout ${sessionId} names no known user`, FailureType.NotFound);
      const paymentId = purchase.paymentIntentId ?? sessionId;
      const amountCents = purchase.amountTotalCents;
      const currency = purchase.currency;
      const granted = await db.transaction().execute(async (tx) => {
        await upsertPayment(tx, {
          userId,
          stripePaymentId: paymentId,
          stripeInvoiceId: null,
          stripeSubscriptionId: null,
          stripeCustomerId: purchase.customerId,
          amountCents,
          currency,
          status: 'succeeded',
          paymentType: 'credit_topup',
          description: `${credits} credits`,
          paidAt: iso(event.createdAt),
        });
        return applyCreditTransaction(tx, {
          userId,
          amount: credits,
          type: 'purchase',
          idempotencyKey: `credit_topup:${sessionId}`,
          description: `${credits} credits purchased`,
          referenceId: sessionId,
          stripePaymentId: paymentId,
          paymentAmountCents: amountCents,
          currency,
        });
      });
      // Separate from the grant on purpose: a worker dying between the two must not grant twice.
      await markStripeEvent(db, event.id, { status: 'processed', userId });
      return { topUp: true, credits, newEntry: granted.applied };
    },

    /** charge.refunded: the refunded amount on the payment it belongs to (subscription invoice or top-up). */
    async recordChargeRefund(input: { eventId: string }): Promise<PaymentEvent | null> {
      const event = await requireEvent(db, input.eventId);
      const chargeId = str(event.object.id);
      if (!chargeId) throw nonRetryable(`event ${event.id} carries no charge id`, FailureType.InvalidInput);
      const charge = await stripe().retrieveCharge(chargeId);
      const candidates = [charge.paymentIntentId].filter((id): id is string => id !== null);
      if (charge.paymentIntentId) {
        const invoiceId = await stripe().invoiceIdForPaymentIntent(charge.paymentIntentId);
        if (invoiceId) candidates.push(invoiceId);
      }
      const payment = candidates.length > 0 ? await recordPaymentRefund(db, candidates, charge.amountRefunded) : undefined;
      const refundedInvoiceId = payment?.stripe_invoice_id;
      // The commission earned by the refunded invoice is reversed (or clawed back from the next payout).
      if (refundedInvoiceId)
        await db
          .transaction()
          .execute((tx) =>
            reverseCommissionForInvoice(tx, { stripeInvoiceId: refundedInvoiceId, stripeChargeId: charge.id, reason: 'charge.refunded' }),
          );
      await markStripeEvent(db, event.id, { status: payment ? 'processed' : 'ignored', userId: payment?.user_id ?? null });
      if (!payment) return null;
      return {
        kind: 'charge_refunded',
        stripeEventId: event.id,
        paymentId: payment.id,
        userId: payment.user_id,
        stripeInvoiceId: payment.stripe_invoice_id,
        stripeSubscriptionId: payment.stripe_subscription_id,
        amountCents: payment.amount_cents,
        amountRefundedCents: payment.amount_refunded_cents,
        currency: payment.currency,
      };
    },
  };
}

export type BillingActivities = ReturnType<typeof createBillingActivities>;
