import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import type { BillingEmail } from '../../activities/billing';
import {
  stripeEventSignal,
  subscriptionStateQuery,
  subscriptionWorkflowId,
  type StripeEventRef,
  type SubscriptionSummary,
} from '../../workflows/subscription/contract';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner, type RecordedCall } from '../helpers/workflow-tests';

const DAY = 86_400_000;

/**
 * The subscription workflow's logic with mocked activities on the time-skipping server: days
 * of dunning, trials and cancelled periods take no real time.
 */
describe('subscriptionWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  /**
   * A fake Stripe + PostgreSQL: `summary` is what the sync activity reports; `onEvent` lets a
   * test change it when a given event is processed (as Stripe's state would have changed).
   */
  function fakeBilling(initial: Partial<SubscriptionSummary>) {
    const summary: SubscriptionSummary = {
      userId: 'user-1',
      planSlug: 'premium',
      status: 'active',
      currentPeriodStart: null,
      currentPeriodEnd: null,
      trialEnd: null,
      cancelAtPeriodEnd: false,
      latestInvoiceId: 'in_1',
      everPaid: true,
      ...initial,
    };
    const state = {
      summary,
      onEvent: {} as Record<string, (s: SubscriptionSummary) => SubscriptionSummary>,
      newPeriodFor: new Set<string>(),
    };
    const recorder = recordingActivities({
      syncStripeSubscription: ({ eventId }: { eventId?: string }) => {
        const change = eventId ? state.onEvent[eventId] : undefined;
        if (change) state.summary = change(state.summary);
        return { applied: true, subscription: state.summary };
      },
      recordPaidInvoice: ({ eventId }: { eventId: string }) => ({
        invoice: {
          invoiceId: `in_${eventId}`,
          userId: state.summary.userId,
          amountPaidCents: 4900,
          currency: 'usd',
          periodStart: state.summary.currentPeriodStart ?? '',
          periodEnd: state.summary.currentPeriodEnd ?? '',
          newPeriod: state.newPeriodFor.has(eventId),
          creditsGranted: 300,
        },
        payment: null,
      }),
      recordFailedInvoice: () => ({ invoiceId: 'in_failed', amountDueCents: 4900, hostedInvoiceUrl: null }),
      applySubscriptionAccess: ({ tier }: { tier: string }) => ({ tier }),
      sendBillingEmail: () => undefined,
      markStripeEventHandled: () => undefined,
      recordRunClosed: () => undefined,
      grantCreditTopUp: () => ({ topUp: true, credits: 100, newEntry: true }),
      recordChargeRefund: () => null,
      // The clean-up run a subscription starts when access ends, and the schedule sync when it returns.
      cancelUpcomingPosts: () => ({ canceled: [], skipped: [] }),
      removeContentPlanSchedule: () => ({ schedule: 'absent' }),
      recordCancellationLog: () => undefined,
      syncContentPlanSchedule: () => ({ schedule: 'created' }),
    });
    activityCalls = recorder.calls;
    return { state, ...recorder };
  }

  const emailOf = (c: RecordedCall) => c.input as unknown as BillingEmail;

  const withWorker = workerRunner(() => env, 'subscription-wf');

  const ref = (eventId: string, type: string): StripeEventRef => ({ eventId, type, createdAt: new Date(0).toISOString() });

  async function deliver(taskQueue: string, subscriptionId: string, event: StripeEventRef): Promise<WorkflowHandle> {
    return env.client.workflow.signalWithStart('subscriptionWorkflow', {
      workflowId: subscriptionWorkflowId(subscriptionId),
      taskQueue,
      args: [{ stripeSubscriptionId: subscriptionId }],
      signal: stripeEventSignal,
      signalArgs: [event],
    });
  }

  let activityCalls: RecordedCall[] = [];
  /** Lets the worker drain what is queued: nothing pending and no new activity call for a while. */
  async function settle(handle: WorkflowHandle): Promise<void> {
    let seen = -1;
    for (let i = 0; i < 200; i++) {
      const view = await handle.query(subscriptionStateQuery);
      if (view.pendingEvents === 0 && activityCalls.length === seen) return;
      seen = activityCalls.length;
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error('events still pending');
  }

  it('processes a redelivered event id once (signal dedup inside the workflow)', async () => {
    const billing = fakeBilling({});
    await withWorker(billing.activities, async (tq) => {
      const event = ref('evt_dup', 'customer.subscription.updated');
      const handle = await deliver(tq, 'sub_dup', event);
      await deliver(tq, 'sub_dup', event);
      await deliver(tq, 'sub_dup', event);
      await settle(handle);
      const view = await handle.query(subscriptionStateQuery);
      expect(view.eventsProcessed).toBe(1);
      await handle.terminate();
    });
    expect(billing.named('syncStripeSubscription')).toHaveLength(1);
    expect(billing.named('markStripeEventHandled').map((c) => c.input)).toEqual([
      { eventId: 'evt_dup', status: 'processed', stripeSubscriptionId: 'sub_dup' },
    ]);
    expect(billing.named('applySubscriptionAccess').map((c) => c.input.tier)).toEqual(['premium']);
  });

  it('dunning: reminders on day 0, 3 and 7 by durable timers, then the free tier after the 14-day grace period', async () => {
    const billing = fakeBilling({ status: 'active' });
    billing.state.onEvent.evt_fail = (s) => ({ ...s, status: 'past_due', latestInvoiceId: 'in_overdue' });
    await withWorker(billing.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_dunning', ref('evt_fail', 'invoice.payment_failed'));
      await settle(handle);
      const startedAt = billing.named('recordFailedInvoice')[0]!.at;
      await env.sleep(15 * DAY);
      const view = await handle.query(subscriptionStateQuery);
      expect(view.accessTier).toBe('free');
      const reminders = billing.named('sendBillingEmail');
      expect(reminders.map((c) => emailOf(c).data.day)).toEqual([0, 3, 7]);
      expect(reminders.map((c) => emailOf(c).dedupKey)).toEqual([0, 3, 7].map((d) => `dunning:sub_dunning:in_overdue:${d}`));
      reminders.forEach((c, i) => expect(Math.round((c.at - startedAt) / DAY)).toBe([0, 3, 7][i]));
      const access = billing.named('applySubscriptionAccess');
      expect(access.map((c) => c.input.tier)).toEqual(['premium', 'free']);
      expect(Math.round((access[1]!.at - startedAt) / DAY)).toBe(14);
      await handle.terminate();
    });
  });

  it('dunning: invoice.paid recovers the subscription, stops reminders and keeps the plan', async () => {
    const billing = fakeBilling({ status: 'active' });
    billing.state.onEvent.evt_fail = (s) => ({ ...s, status: 'past_due' });
    billing.state.onEvent.evt_paid = (s) => ({ ...s, status: 'active' });
    await withWorker(billing.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_recover', ref('evt_fail', 'invoice.payment_failed'));
      await settle(handle);
      await env.sleep(4 * DAY);
      expect((await handle.query(subscriptionStateQuery)).dunning).toMatchObject({ remindersSent: 2 });
      await deliver(tq, 'sub_recover', ref('evt_paid', 'invoice.paid'));
      await settle(handle);
      await env.sleep(20 * DAY);
      const view = await handle.query(subscriptionStateQuery);
      expect(view).toMatchObject({ accessTier: 'premium', dunning: null });
      await handle.terminate();
    });
    expect(billing.named('sendBillingEmail')).toHaveLength(2);
    expect(billing.named('applySubscriptionAccess').map((c) => c.input.tier)).toEqual(['premium']);
  });

  it('trial: trial_will_end sends one reminder; a trial that ends without payment drops to free', async () => {
    const start = await env.currentTimeMs();
    const trialEnd = new Date(start + 3 * DAY).toISOString();
    const billing = fakeBilling({ status: 'trialing', trialEnd, everPaid: false, planSlug: 'basic' });
    await withWorker(billing.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_trial', ref('evt_created', 'customer.subscription.created'));
      await deliver(tq, 'sub_trial', ref('evt_twe', 'customer.subscription.trial_will_end'));
      await settle(handle);
      expect((await handle.query(subscriptionStateQuery)).accessTier).toBe('basic');
      await env.sleep(3 * DAY + 2 * 3_600_000);
      expect((await handle.query(subscriptionStateQuery)).accessTier).toBe('free');
      await handle.terminate();
    });
    expect(billing.named('sendBillingEmail').map((c) => emailOf(c).template)).toEqual(['trial_will_end']);
    const access = billing.named('applySubscriptionAccess');
    expect(access.map((c) => c.input.tier)).toEqual(['basic', 'free']);
    expect(access[1]!.at - Date.parse(trialEnd)).toBeGreaterThanOrEqual(60 * 60_000);
  });

  it('trial converted into a failed first payment: free at once, no grace for a customer who never paid', async () => {
    const billing = fakeBilling({ status: 'trialing', everPaid: false });
    billing.state.onEvent.evt_fail = (s) => ({ ...s, status: 'past_due', trialEnd: null });
    await withWorker(billing.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_trial_fail', ref('evt_created', 'customer.subscription.created'));
      await deliver(tq, 'sub_trial_fail', ref('evt_fail', 'invoice.payment_failed'));
      await settle(handle);
      expect((await handle.query(subscriptionStateQuery)).accessTier).toBe('free');
      await handle.terminate();
    });
    // Both events may land in one batch, so the trial tier may never have been written.
    expect(
      billing
        .named('applySubscriptionAccess')
        .map((c) => c.input.tier)
        .at(-1),
    ).toBe('free');
  });

  it('cancel at period end keeps access until the period ends; deletion then ends the workflow', async () => {
    const start = await env.currentTimeMs();
    const periodEnd = new Date(start + 10 * DAY).toISOString();
    const billing = fakeBilling({ status: 'active', currentPeriodEnd: periodEnd });
    billing.state.onEvent.evt_cancel = (s) => ({ ...s, cancelAtPeriodEnd: true });
    billing.state.onEvent.evt_deleted = (s) => ({ ...s, status: 'canceled' });
    await withWorker(billing.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_cancel', ref('evt_cancel', 'customer.subscription.updated'));
      await settle(handle);
      await env.sleep(5 * DAY);
      expect((await handle.query(subscriptionStateQuery)).accessTier).toBe('premium');
      await env.sleep(6 * DAY);
      expect((await handle.query(subscriptionStateQuery)).accessTier).toBe('free');
      await deliver(tq, 'sub_cancel', ref('evt_deleted', 'customer.subscription.deleted'));
      expect(await handle.result()).toEqual({ stripeSubscriptionId: 'sub_cancel', finalStatus: 'canceled', eventsProcessed: 2 });
    });
    const access = billing.named('applySubscriptionAccess');
    expect(access.map((c) => c.input.tier)).toEqual(['premium', 'free']);
    expect(access[1]!.at).toBeGreaterThanOrEqual(Date.parse(periodEnd));
  });

  it('continues as new after each paid period, carrying the dedup state', async () => {
    const billing = fakeBilling({ status: 'active' });
    billing.state.newPeriodFor.add('evt_paid_1');
    await withWorker(billing.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_can', ref('evt_paid_1', 'invoice.paid'));
      const firstRunId = (await handle.describe()).runId;
      let runId = firstRunId;
      for (let i = 0; i < 100 && runId === firstRunId; i++) {
        await new Promise((r) => setTimeout(r, 50));
        runId = (await handle.describe()).runId;
      }
      expect(runId).not.toBe(firstRunId);
      // The same event again reaches the new run, which remembers it.
      const latest = await deliver(tq, 'sub_can', ref('evt_paid_1', 'invoice.paid'));
      await settle(latest);
      const view = await latest.query(subscriptionStateQuery);
      expect(view.eventsProcessed).toBe(1);
      await latest.terminate();
    });
    expect(billing.named('recordPaidInvoice')).toHaveLength(1);
  });

  it('an event that fails for good is marked failed and the subscription carries on', async () => {
    const billing = fakeBilling({ status: 'active' });
    const activities = {
      ...billing.activities,
      recordFailedInvoice: async () => {
        throw ApplicationFailure.nonRetryable('event carries no invoice id', 'InvalidInput');
      },
    } as unknown as Activities;
    await withWorker(activities, async (tq) => {
      const handle = await deliver(tq, 'sub_bad', ref('evt_bad', 'invoice.payment_failed'));
      await deliver(tq, 'sub_bad', ref('evt_ok', 'customer.subscription.updated'));
      await settle(handle);
      expect((await handle.query(subscriptionStateQuery)).eventsProcessed).toBe(1);
      await handle.terminate();
    });
    expect(billing.named('markStripeEventHandled').map((c) => [c.input.eventId, c.input.status])).toEqual([
      ['evt_bad', 'failed'],
      ['evt_ok', 'processed'],
    ]);
  });
});
