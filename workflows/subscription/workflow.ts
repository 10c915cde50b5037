import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { BillingActivities, PaymentEvent } from '../../activities/billing';
import type { ContentPlanActivities } from '../../activities/content-plans';
import type { PlanSlug } from '../../schemas/billing';
import { closingRunRow } from '../common/run-closing';
import { subscriptionCleanupRun, subscriptionCleanupWorkflowId } from '../subscription-cleanup/contract';
import type { subscriptionCleanupWorkflow } from '../subscription-cleanup/workflow';
import {
  DEFAULT_BILLING_POLICY,
  RECENT_EVENT_IDS_KEPT,
  refreshAccessSignal,
  stripeEventSignal,
  SUBSCRIPTION_END_CLEANUP_PATCH,
  subscriptionStateQuery,
  type BillingEventWorkflowInput,
  type BillingEventWorkflowResult,
  type BillingPolicy,
  type DunningState,
  type StripeEventRef,
  type SubscriptionCarriedState,
  type SubscriptionSummary,
  type SubscriptionWorkflowInput,
  type SubscriptionWorkflowResult,
} from './contract';

const billing = proxyActivities<BillingActivities>({
  // PostgreSQL + one or two Stripe calls: a dead worker's task is retried within seconds.
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', maximumInterval: '30 seconds' },
});

const contentPlans = proxyActivities<ContentPlanActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const DAY_MS = 86_400_000;
/** A run hands over to a fresh one well before Temporal's history warnings. */
const MAX_HISTORY_EVENTS = 2_000;
const ENDED_STATUSES = new Set(['canceled', 'incomplete_expired']);

const emptyState = (): SubscriptionCarriedState => ({
  subscription: null,
  dunning: null,
  appliedTier: null,
  recentEventIds: [],
  awaitingOwner: [],
  eventsProcessed: 0,
});

const graceEndsAt = (dunning: DunningState, policy: BillingPolicy) => Date.parse(dunning.startedAt) + policy.gracePeriodDays * DAY_MS;

/** The tier the subscription entitles its user to at `now` (free when it gives no paid access). */
export function entitledTier(sub: SubscriptionSummary | null, dunning: DunningState | null, policy: BillingPolicy, now: number): PlanSlug {
  if (!sub) return 'free';
  switch (sub.status) {
    case 'trialing':
      // A trial past its end without Stripe's word that it converted gives no more access.
      return !sub.trialEnd || now < Date.parse(sub.trialEnd) + policy.trialEndSlackMinutes * 60_000 ? sub.planSlug : 'free';
    case 'active':
      // cancel_at_period_end keeps access until the period ends (Stripe's deletion usually comes first).
      return sub.cancelAtPeriodEnd && sub.currentPeriodEnd && now >= Date.parse(sub.currentPeriodEnd) ? 'free' : sub.planSlug;
    case 'past_due':
    case 'unpaid':
      // Grace only for customers who have paid before: a trial that ends unpaid drops to free at once.
      return sub.everPaid && dunning && now < graceEndsAt(dunning, policy) ? sub.planSlug : 'free';
    default:
      return 'free';
  }
}

/**
 * Why the subscription no longer gives access, when it has ended rather than lapsed into dunning:
 * canceled, expired, paused, or past the end of a period it was canceled at.
 */
function endOfAccess(sub: SubscriptionSummary, tier: PlanSlug): string | null {
  if (tier !== 'free') return null;
  if (ENDED_STATUSES.has(sub.status) || sub.status === 'paused') return sub.status;
  return sub.status === 'active' && sub.cancelAtPeriodEnd ? 'ended at period end' : null;
}

/** Dunning follows Stripe's status, not event order: it starts when the subscription is seen overdue and ends when it is not. */
function nextDunning(sub: SubscriptionSummary | null, dunning: DunningState | null, now: number): DunningState | null {
  if (!sub || (sub.status !== 'past_due' && sub.status !== 'unpaid')) return null;
  return dunning ?? { invoiceId: sub.latestInvoiceId, startedAt: new Date(now).toISOString(), remindersSent: 0 };
}

/** A subscription's lifecycle (see followSubscription); the job_runs row the webhook registered closes when it ends. */
export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<SubscriptionWorkflowResult> {
  return closingRunRow(() => followSubscription(input));
}

/**
 * The lifecycle of one Stripe subscription (`subscription:<id>`): every webhook event is a
 * signal (deduplicated by event id), processed one at a time through activities that read
 * Stripe's current state; durable timers drive dunning reminders, the grace-period downgrade,
 * trial expiry and the end of a cancelled period. Each paid billing period continues as a new
 * run so history stays bounded. State goes to PostgreSQL through activities rather than
 * trackRun: this workflow is not a job with progress and an end, but a long-lived process.
 */
async function followSubscription(input: SubscriptionWorkflowInput): Promise<SubscriptionWorkflowResult> {
  const policy = input.policy ?? DEFAULT_BILLING_POLICY;
  const subscriptionId = input.stripeSubscriptionId;
  const state: SubscriptionCarriedState = input.carried ?? emptyState();
  const seen = new Set(state.recentEventIds);
  const queue: StripeEventRef[] = [];
  let periodRolledOver = false;
  let accessRefreshRequested = false;

  setHandler(stripeEventSignal, (ref) => {
    if (seen.has(ref.eventId)) return;
    seen.add(ref.eventId);
    state.recentEventIds.push(ref.eventId);
    if (state.recentEventIds.length > RECENT_EVENT_IDS_KEPT) seen.delete(state.recentEventIds.shift() ?? '');
    queue.push(ref);
  });
  setHandler(refreshAccessSignal, () => {
    // Forgetting the applied tier makes the next reconcile write it again.
    accessRefreshRequested = true;
  });
  setHandler(subscriptionStateQuery, () => ({
    stripeSubscriptionId: subscriptionId,
    subscription: state.subscription,
    accessTier: entitledTier(state.subscription, state.dunning, policy, Date.now()),
    dunning: state.dunning ? { ...state.dunning, graceEndsAt: new Date(graceEndsAt(state.dunning, policy)).toISOString() } : null,
    pendingEvents: queue.length + state.awaitingOwner.length,
    eventsProcessed: state.eventsProcessed,
  }));

  /** Hands a money movement on; affiliate commissions (issue I) attach here. */
  const afterPayment = (payment: PaymentEvent | null) => {
    if (payment) log.info('payment recorded', { kind: payment.kind, paymentId: payment.paymentId });
  };

  async function email(
    template: 'dunning_reminder' | 'trial_will_end' | 'payment_action_required',
    dedupKey: string,
    data: Record<string, string | number | null>,
  ) {
    if (!state.subscription) return;
    await billing.sendBillingEmail({ userId: state.subscription.userId, template, dedupKey, data });
  }

  async function handleEvent(ref: StripeEventRef): Promise<void> {
    const sync = await billing.syncStripeSubscription({ stripeSubscriptionId: subscriptionId, eventId: ref.eventId });
    if (!sync.subscription) {
      state.awaitingOwner.push(ref);
      return;
    }
    state.subscription = sync.subscription;
    if (state.awaitingOwner.length > 0) queue.push(...state.awaitingOwner.splice(0));
    let handled = sync.applied;
    switch (ref.type) {
      case 'invoice.paid': {
        const paid = await billing.recordPaidInvoice({ eventId: ref.eventId, stripeSubscriptionId: subscriptionId });
        if (paid) {
          handled = true;
          if (paid.invoice.amountPaidCents > 0) state.subscription = { ...state.subscription, everPaid: true };
          if (paid.invoice.newPeriod) periodRolledOver = true;
          afterPayment(paid.payment);
        }
        break;
      }
      case 'invoice.payment_failed':
        await billing.recordFailedInvoice({ eventId: ref.eventId, stripeSubscriptionId: subscriptionId });
        handled = true;
        break;
      case 'invoice.payment_action_required':
        await email('payment_action_required', `action_required:${ref.eventId}`, { invoiceId: state.subscription.latestInvoiceId });
        handled = true;
        break;
      case 'customer.subscription.trial_will_end':
        if (state.subscription.status === 'trialing') {
          await email('trial_will_end', `trial_will_end:${subscriptionId}:${state.subscription.trialEnd}`, {
            trialEnd: state.subscription.trialEnd,
            plan: state.subscription.planSlug,
          });
          handled = true;
        }
        break;
    }
    await billing.markStripeEventHandled({
      eventId: ref.eventId,
      status: handled ? 'processed' : 'ignored',
      stripeSubscriptionId: subscriptionId,
    });
  }

  /** Events fail alone: a permanently failing event is recorded as failed and the subscription carries on. */
  async function processEvent(ref: StripeEventRef): Promise<void> {
    try {
      await handleEvent(ref);
      state.eventsProcessed += 1;
    } catch (err) {
      const cause = err instanceof ActivityFailure ? err.cause : err;
      if (!(cause instanceof ApplicationFailure)) throw err;
      log.warn('Stripe event failed', { eventId: ref.eventId, type: ref.type, error: cause.message });
      await billing.markStripeEventHandled({ eventId: ref.eventId, status: 'failed', error: `${cause.type ?? 'Error'}: ${cause.message}` });
    }
  }

  /** Reminders that are due, then the tier the user should have now (written only when it changes). */
  async function reconcile(): Promise<void> {
    const now = Date.now();
    state.dunning = nextDunning(state.subscription, state.dunning, now);
    const dunning = state.dunning;
    if (dunning && state.subscription) {
      const startedAt = Date.parse(dunning.startedAt);
      while (
        dunning.remindersSent < policy.dunningReminderDays.length &&
        now >= startedAt + (policy.dunningReminderDays[dunning.remindersSent] ?? 0) * DAY_MS
      ) {
        const day = policy.dunningReminderDays[dunning.remindersSent] ?? 0;
        await email('dunning_reminder', `dunning:${subscriptionId}:${dunning.invoiceId ?? dunning.startedAt}:${day}`, {
          day,
          invoiceId: dunning.invoiceId,
          graceEndsAt: new Date(graceEndsAt(dunning, policy)).toISOString(),
        });
        dunning.remindersSent += 1;
      }
    }
    const tier = entitledTier(state.subscription, state.dunning, policy, now);
    if (state.subscription && tier !== state.appliedTier) {
      await billing.applySubscriptionAccess({
        stripeSubscriptionId: subscriptionId,
        tier,
        reason: `${state.subscription.status}${state.dunning ? ' (dunning)' : ''}`,
      });
      state.appliedTier = tier;
    }
    if (state.subscription) await followEndOfAccess(state.subscription, tier, now);
  }

  /**
   * When access ends, starts the clean-up run once (`subscription-cleanup:<id>:<endedAt>`, abandoned
   * so it outlives this run): upcoming posts canceled, the content-plan Schedule removed, a
   * cancellation_logs row. When a paid tier returns (a paused subscription resumed), the Schedule is
   * synced back. Runs from before the patch do neither.
   */
  async function followEndOfAccess(sub: SubscriptionSummary, tier: PlanSlug, now: number): Promise<void> {
    const reason = endOfAccess(sub, tier);
    if (reason && !state.accessEnded && patched(SUBSCRIPTION_END_CLEANUP_PATCH)) {
      const endedAt = new Date(now).toISOString();
      await startChild<typeof subscriptionCleanupWorkflow>(subscriptionCleanupRun.workflowType, {
        workflowId: subscriptionCleanupWorkflowId(subscriptionId, endedAt),
        args: [{ userId: sub.userId, stripeSubscriptionId: subscriptionId, reason, endedAt }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      });
      state.accessEnded = true;
    } else if (tier !== 'free' && state.accessEnded && patched(SUBSCRIPTION_END_CLEANUP_PATCH)) {
      await contentPlans.syncContentPlanSchedule({ userId: sub.userId });
      state.accessEnded = false;
    }
  }

  /** When something time-based next needs a look, if anything does. */
  function nextWakeAt(now: number): number | undefined {
    const sub = state.subscription;
    if (!sub) return undefined;
    const times: number[] = [];
    const dunning = state.dunning;
    if (dunning) {
      const startedAt = Date.parse(dunning.startedAt);
      const nextReminderDay = policy.dunningReminderDays[dunning.remindersSent];
      if (nextReminderDay !== undefined) times.push(startedAt + nextReminderDay * DAY_MS);
      times.push(graceEndsAt(dunning, policy));
    }
    if (sub.status === 'trialing' && sub.trialEnd) times.push(Date.parse(sub.trialEnd) + policy.trialEndSlackMinutes * 60_000);
    if (sub.status === 'active' && sub.cancelAtPeriodEnd && sub.currentPeriodEnd) times.push(Date.parse(sub.currentPeriodEnd));
    const future = times.filter((t) => t > now);
    return future.length > 0 ? Math.min(...future) : undefined;
  }

  for (;;) {
    const wakeAt = nextWakeAt(Date.now());
    const hasWork = () => queue.length > 0 || accessRefreshRequested;
    if (wakeAt === undefined) await condition(hasWork);
    else await condition(hasWork, Math.max(1, wakeAt - Date.now()));
    if (accessRefreshRequested) {
      accessRefreshRequested = false;
      state.appliedTier = null;
    }

    while (queue.length > 0) {
      const ref = queue.shift();
      if (ref) await processEvent(ref);
    }
    await reconcile();

    if (state.subscription && ENDED_STATUSES.has(state.subscription.status) && queue.length === 0 && state.appliedTier !== null) {
      return { stripeSubscriptionId: subscriptionId, finalStatus: state.subscription.status, eventsProcessed: state.eventsProcessed };
    }
    const historyFull = workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > MAX_HISTORY_EVENTS;
    if ((periodRolledOver || historyFull) && queue.length === 0) {
      await condition(allHandlersFinished);
      // A signal may have arrived while waiting: continue only with nothing left to do.
      if (queue.length === 0) {
        await continueAsNew<typeof subscriptionWorkflow>({ stripeSubscriptionId: subscriptionId, policy, carried: state });
      }
    }
  }
}

/**
 * A Stripe event that belongs to no subscription (`billing-event:<eventId>`): a one-time
 * credit top-up, or a refund of any charge (recorded on its payment; affiliate clawbacks,
 * issue I, attach to the returned PaymentEvent).
 */
export async function billingEventWorkflow(input: BillingEventWorkflowInput): Promise<BillingEventWorkflowResult> {
  const { event } = input;
  switch (event.type) {
    case 'checkout.session.completed': {
      const topUp = await billing.grantCreditTopUp({ eventId: event.eventId });
      return { eventId: event.eventId, outcome: topUp.topUp ? 'credits_granted' : 'ignored' };
    }
    case 'charge.refunded': {
      const refund = await billing.recordChargeRefund({ eventId: event.eventId });
      return { eventId: event.eventId, outcome: refund ? 'refund_recorded' : 'ignored' };
    }
    default:
      await billing.markStripeEventHandled({ eventId: event.eventId, status: 'ignored' });
      return { eventId: event.eventId, outcome: 'ignored' };
  }
}
