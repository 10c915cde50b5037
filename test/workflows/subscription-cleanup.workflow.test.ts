import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import {
  stripeEventSignal,
  subscriptionStateQuery,
  subscriptionWorkflowId,
  type StripeEventRef,
  type SubscriptionSummary,
} from '../../workflows/subscription/contract';
import { REPLAY_HISTORY_DIR } from '../helpers/record-histories';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner } from '../helpers/workflow-tests';

const DAY = 86_400_000;

/**
 * The subscription workflow's end-of-access handling with mocked activities on the time-skipping
 * server: an ended subscription starts the clean-up run (a child it abandons) once; a resumed one
 * syncs the content-plan Schedule back; dunning alone starts nothing.
 */
describe('subscription end clean-up (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  const withWorker = workerRunner(() => env, 'subscription-cleanup-wf');

  function fakes(initial: Partial<SubscriptionSummary>) {
    let summary: SubscriptionSummary = {
      userId: 'user-9',
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
    const onEvent: Record<string, (s: SubscriptionSummary) => SubscriptionSummary> = {};
    const recorder = recordingActivities({
      syncStripeSubscription: ({ eventId }: { eventId: string }) => {
        summary = onEvent[eventId]?.(summary) ?? summary;
        return { applied: true, subscription: summary };
      },
      applySubscriptionAccess: ({ tier }: { tier: string }) => ({ tier }),
      markStripeEventHandled: () => undefined,
      sendBillingEmail: () => undefined,
      recordRunClosed: () => undefined,
      cancelUpcomingPosts: () => ({ canceled: ['post-1', 'post-2'], skipped: [] }),
      removeContentPlanSchedule: () => ({ schedule: 'removed' }),
      recordCancellationLog: () => undefined,
      syncContentPlanSchedule: () => ({ schedule: 'created' }),
    });
    return { onEvent, ...recorder };
  }

  const ref = (eventId: string): StripeEventRef => ({
    eventId,
    type: 'customer.subscription.updated',
    createdAt: new Date(0).toISOString(),
  });
  const deliver = (taskQueue: string, subscriptionId: string, eventId: string): Promise<WorkflowHandle> =>
    env.client.workflow.signalWithStart('subscriptionWorkflow', {
      workflowId: subscriptionWorkflowId(subscriptionId),
      taskQueue,
      args: [{ stripeSubscriptionId: subscriptionId }],
      signal: stripeEventSignal,
      signalArgs: [ref(eventId)],
    });

  /** Waits until the workflow has processed everything and `count` calls of `name` were made. */
  async function callsOf(fake: ReturnType<typeof fakes>, handle: WorkflowHandle, name: string, count: number) {
    for (let i = 0; i < 100; i++) {
      const view = await handle.query(subscriptionStateQuery).catch(() => ({ pendingEvents: 0 }));
      if (view.pendingEvents === 0 && fake.named(name).length >= count) return fake.named(name);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`expected ${count} call(s) of ${name}, saw ${fake.named(name).length}: ${fake.calls.map((c) => c.name).join(',')}`);
  }

  it('dunning that ends the grace period drops to free without a clean-up run', async () => {
    const fake = fakes({});
    fake.onEvent.evt_fail = (s) => ({ ...s, status: 'past_due' });
    await withWorker(fake.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_dunning', 'evt_fail');
      await env.sleep(15 * DAY);
      await callsOf(fake, handle, 'applySubscriptionAccess', 2);
      expect((await handle.query(subscriptionStateQuery)).accessTier).toBe('free');
      await handle.terminate();
    });
    expect(fake.named('cancelUpcomingPosts')).toHaveLength(0);
    expect(fake.named('recordCancellationLog')).toHaveLength(0);
  });
  // Last: on the Java time-skipping server, a parent that completes right after starting an abandoned
  // child leaves time skipping stalled for later tests of the same environment.

  it('a paused subscription is cleaned up, resuming syncs the schedule back, and pausing again cleans up again', async () => {
    const fake = fakes({});
    fake.onEvent.evt_pause = (s) => ({ ...s, status: 'paused' });
    fake.onEvent.evt_resume = (s) => ({ ...s, status: 'active' });
    fake.onEvent.evt_pause_again = (s) => ({ ...s, status: 'paused' });
    await withWorker(fake.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_pause', 'evt_created');
      await callsOf(fake, handle, 'applySubscriptionAccess', 1);
      await deliver(tq, 'sub_pause', 'evt_pause');
      await callsOf(fake, handle, 'recordCancellationLog', 1);
      expect(fake.named('syncContentPlanSchedule')).toHaveLength(0);
      await env.sleep(DAY);
      await deliver(tq, 'sub_pause', 'evt_resume');
      expect((await callsOf(fake, handle, 'syncContentPlanSchedule', 1)).map((c) => c.input)).toEqual([{ userId: 'user-9' }]);
      expect((await handle.query(subscriptionStateQuery)).accessTier).toBe('premium');
      await env.sleep(DAY);
      await deliver(tq, 'sub_pause', 'evt_pause_again');
      const logs = await callsOf(fake, handle, 'recordCancellationLog', 2);
      expect(logs.map((c) => c.input.reason)).toEqual(['subscription paused', 'subscription paused']);
      expect(new Set(logs.map((c) => c.input.cleanupId)).size).toBe(2);
      await handle.terminate();
    });
    expect(fake.named('applySubscriptionAccess').map((c) => c.input.tier)).toEqual(['premium', 'free', 'premium', 'free']);
  });

  it('a canceled subscription starts one clean-up run: posts canceled, schedule removed, a cancellation log keyed by the run', async () => {
    const fake = fakes({});
    fake.onEvent.evt_deleted = (s) => ({ ...s, status: 'canceled' });
    await withWorker(fake.activities, async (tq) => {
      const handle = await deliver(tq, 'sub_end', 'evt_created');
      await callsOf(fake, handle, 'applySubscriptionAccess', 1);
      await deliver(tq, 'sub_end', 'evt_deleted');
      expect(await handle.result()).toMatchObject({ finalStatus: 'canceled' });
      const [log] = await callsOf(fake, handle, 'recordCancellationLog', 1);
      const endedAt = fake.named('cancelUpcomingPosts')[0]!.input.after as string;
      expect(fake.named('cancelUpcomingPosts').map((c) => c.input)).toEqual([{ userId: 'user-9', after: endedAt }]);
      expect(fake.named('removeContentPlanSchedule').map((c) => c.input)).toEqual([{ userId: 'user-9' }]);
      expect(log!.input).toEqual({
        cleanupId: `subscription-cleanup:sub_end:${endedAt}`,
        userId: 'user-9',
        stripeSubscriptionId: 'sub_end',
        reason: 'subscription canceled',
        results: { canceled: ['post-1', 'post-2'], skipped: [], contentPlanSchedule: 'removed', endedAt },
      });
      const child = env.client.workflow.getHandle(`subscription-cleanup:sub_end:${endedAt}`);
      expect((await child.describe()).status.name).toBe('COMPLETED');
      if (process.env.RECORD_REPLAY_HISTORIES === '1') {
        writeFileSync(join(REPLAY_HISTORY_DIR, 'subscriptionCleanupWorkflow.json'), historyToJSON(await child.fetchHistory()));
        writeFileSync(
          join(REPLAY_HISTORY_DIR, 'subscriptionWorkflow.subscription-end-cleanup.json'),
          historyToJSON(await handle.fetchHistory()),
        );
      }
    });
    expect(fake.named('syncContentPlanSchedule')).toHaveLength(0);
  });
});
