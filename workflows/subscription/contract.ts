import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PlanSlug, SubscriptionStatus } from '../../schemas/billing';
import { defineRun } from '../common/run-definition';
import type { billingEventWorkflow, subscriptionWorkflow } from './workflow';

/**
 * One long-lived workflow per Stripe subscription, started (or joined) by the webhook route
 * with signalWithStart, plus one short workflow per Stripe event that has no subscription
 * (one-time credit top-ups, refunds).
 */
export const SUBSCRIPTION_WORKFLOW_TYPE = 'subscriptionWorkflow';
export const SUBSCRIPTION_JOB_TYPE = 'subscription';
export const subscriptionWorkflowId = (stripeSubscriptionId: string): string => `subscription:${stripeSubscriptionId}`;

export const BILLING_EVENT_WORKFLOW_TYPE = 'billingEventWorkflow';
export const BILLING_EVENT_JOB_TYPE = 'billing-event';
export const billingEventWorkflowId = (stripeEventId: string): string => `billing-event:${stripeEventId}`;

/**
 * Started (or joined) by every event of the subscription with signalWithStart; a subscription
 * that ended and hears from Stripe again runs again. Its owner comes from the webhook route (the
 * input does not name one); it lives for the whole subscription, so it never takes a concurrency slot.
 */
export const subscriptionRun = defineRun<typeof subscriptionWorkflow>({
  workflowType: SUBSCRIPTION_WORKFLOW_TYPE,
  jobType: SUBSCRIPTION_JOB_TYPE,
  taskQueue: 'main',
  keysOf: (input) => ({ domainId: input.stripeSubscriptionId }),
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'ALLOW_DUPLICATE',
  registersJobRun: true,
  longLived: true,
  planPriority: false,
});

/** One short run per Stripe event without a subscription; a redelivery joins it. */
export const billingEventRun = defineRun<typeof billingEventWorkflow>({
  workflowType: BILLING_EVENT_WORKFLOW_TYPE,
  jobType: BILLING_EVENT_JOB_TYPE,
  taskQueue: 'main',
  keysOf: (input) => ({ userId: null, domainId: input.event.eventId }),
  idConflictPolicy: 'USE_EXISTING',
  idReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
  registersJobRun: false,
  longLived: false,
  planPriority: false,
});

/** What a webhook delivery tells the workflow: the stored event is read back by activities. */
export interface StripeEventRef {
  eventId: string;
  type: string;
  /** Stripe's `created` of the event, ISO 8601. */
  createdAt: string;
}

export const stripeEventSignal = defineSignal<[StripeEventRef]>('stripeEvent');

/** Dunning and trial rules; defaults below, the API passes its configured grace period. */
export interface BillingPolicy {
  /** Days after the first failed payment on which a reminder goes out (day 0 = at once). */
  dunningReminderDays: number[];
  /** Days of paid access kept while past due; then the user drops to the free tier. */
  gracePeriodDays: number;
  /** How long after trial_end a still-trialing subscription keeps access (Stripe's event may lag). */
  trialEndSlackMinutes: number;
}

export const DEFAULT_BILLING_POLICY: BillingPolicy = { dunningReminderDays: [0, 3, 7], gracePeriodDays: 14, trialEndSlackMinutes: 60 };

/** The subscription as PostgreSQL holds it after the newest Stripe snapshot was applied. */
export interface SubscriptionSummary {
  userId: string;
  planSlug: PlanSlug;
  status: SubscriptionStatus;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  trialEnd: string | null;
  cancelAtPeriodEnd: boolean;
  latestInvoiceId: string | null;
  /** Whether any invoice of this subscription was paid with money (a $0 trial invoice is not). */
  everPaid: boolean;
}

export interface DunningState {
  /** The unpaid invoice the reminders are about (null when Stripe showed past_due before naming it). */
  invoiceId: string | null;
  startedAt: string;
  remindersSent: number;
}

/** Everything a run carries into the next one (continueAsNew): compact by design. */
export interface SubscriptionCarriedState {
  subscription: SubscriptionSummary | null;
  dunning: DunningState | null;
  /** The tier last written to the user, so a wake-up without a change writes nothing. */
  appliedTier: PlanSlug | null;
  /** Last event ids seen, newest last (in-workflow dedup; PostgreSQL's unique event id is the final guard). */
  recentEventIds: string[];
  /** Events that arrived before the subscription's owner could be known (retried after the next event). */
  awaitingOwner: StripeEventRef[];
  eventsProcessed: number;
  /**
   * Access ended (canceled, expired, paused, or a cancel at period end came due) and the clean-up run
   * started; cleared when a paid tier returns (patch `subscription-end-cleanup`; absent in older runs).
   */
  accessEnded?: boolean;
}

export interface SubscriptionWorkflowInput {
  stripeSubscriptionId: string;
  policy?: BillingPolicy;
  carried?: SubscriptionCarriedState;
}

export interface SubscriptionWorkflowResult {
  stripeSubscriptionId: string;
  finalStatus: SubscriptionStatus | null;
  eventsProcessed: number;
}

/** Live state of the workflow, as `GET /v1/subscription` shows it while a run is open. */
export interface SubscriptionWorkflowView {
  stripeSubscriptionId: string;
  subscription: SubscriptionSummary | null;
  accessTier: PlanSlug;
  dunning: (DunningState & { graceEndsAt: string }) | null;
  pendingEvents: number;
  eventsProcessed: number;
}

export const subscriptionStateQuery = defineQuery<SubscriptionWorkflowView>('subscriptionState');

/** Runs that start the clean-up run when access ends, and restore the content-plan Schedule when it returns. */
export const SUBSCRIPTION_END_CLEANUP_PATCH = 'subscription-end-cleanup';

/** How many event ids a run remembers (and carries over) for deduplication. */
export const RECENT_EVENT_IDS_KEPT = 200;

export interface BillingEventWorkflowInput {
  event: StripeEventRef;
}

export type BillingEventOutcome = 'credits_granted' | 'refund_recorded' | 'ignored';

export interface BillingEventWorkflowResult {
  eventId: string;
  outcome: BillingEventOutcome;
}

/**
 * Asks the subscription workflow to write the user's tier again (its own rules: grace, trial
 * slack, cancelled period), e.g. after an admin grant ended and stopped raising it.
 */
export const refreshAccessSignal = defineSignal('refreshAccess');
