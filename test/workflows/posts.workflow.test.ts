import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { PublishPostInput, PublishPostResult } from '../../activities/posts';
import type { PostWorkflowInput, PostWorkflowResult } from '../../schemas/posts';
import {
  approvePostUpdate,
  cancelPostUpdate,
  postStateQuery,
  postWorkflowId,
  rejectPostUpdate,
  reschedulePostUpdate,
} from '../../workflows/posts/contract';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner } from '../helpers/workflow-tests';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The posting workflow with mocked activities on the time-skipping server: hours of waiting and
 * a week of metric timers take no real time.
 */
describe('postWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  function fakeActivities(options: { publish?: (input: PublishPostInput) => Promise<void> } = {}) {
    return recordingActivities({
      publishPost: async (input: PublishPostInput): Promise<PublishPostResult> => {
        await options.publish?.(input);
        const at = Context.current().info.currentAttemptScheduledTimestampMs;
        return {
          platformPostId: `pp-${input.postId}`,
          platformUrl: `https://x.com/i/status/pp-${input.postId}`,
          publishedAt: new Date(at).toISOString(),
          alreadyPublished: false,
        };
      },
      syncPostMetrics: () => ({ views: 1, likes: 1, comments: 0, shares: 0 }),
      reschedulePost: () => undefined,
      approvePost: () => undefined,
      finishPost: () => undefined,
      recordRunClosed: () => undefined,
    });
  }

  const withWorker = workerRunner(() => env, 'posts-wf');

  async function start(
    taskQueue: string,
    postId: string,
    dueInMs: number,
    needsApproval = false,
  ): Promise<{ handle: WorkflowHandle; due: number }> {
    const due = (await env.currentTimeMs()) + dueInMs;
    const input: PostWorkflowInput = { postId, userId: 'user-1', scheduledAt: new Date(due).toISOString(), needsApproval };
    const handle = await env.client.workflow.start('postWorkflow', { workflowId: postWorkflowId(postId), taskQueue, args: [input] });
    return { handle, due };
  }

  /** The update's failure type, as the API sees it. */
  async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (err as WorkflowUpdateFailedError).cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    return (cause as ApplicationFailure).type ?? undefined;
  }

  it('sleeps durably until scheduledAt, publishes exactly once then, and syncs metrics at +1 h, +24 h, +7 d before ending', async () => {
    const fake = fakeActivities();
    await withWorker(fake.activities, async (tq) => {
      const { handle, due } = await start(tq, 'p-once', 3 * HOUR);
      await env.sleep(2 * HOUR);
      expect((await handle.query(postStateQuery)).status).toBe('scheduled');
      expect(fake.named('publishPost')).toHaveLength(0);
      const result: PostWorkflowResult = await handle.result();
      expect(result).toEqual({ status: 'published', platformPostId: 'pp-p-once', error: null });
      const [publish] = fake.named('publishPost');
      expect(fake.named('publishPost')).toHaveLength(1);
      expect(Math.abs(publish!.at - due)).toBeLessThan(MINUTE);
      const metrics = fake.named('syncPostMetrics');
      expect(metrics.map((c) => c.input.checkpoint)).toEqual(['1h', '24h', '7d']);
      [HOUR, DAY, 7 * DAY].forEach((after, i) => expect(Math.abs(metrics[i]!.at - publish!.at - after)).toBeLessThan(MINUTE));
    });
  });

  it('reschedule before the due time restarts the wait and replies with the new time', async () => {
    const fake = fakeActivities();
    await withWorker(fake.activities, async (tq) => {
      const { handle, due } = await start(tq, 'p-moved', 2 * HOUR);
      await env.sleep(HOUR);
      const later = new Date(due + 5 * HOUR).toISOString();
      const reply = await handle.executeUpdate(reschedulePostUpdate, { args: [{ scheduledAt: later }] });
      expect(reply).toEqual({ scheduledAt: later });
      expect(fake.named('reschedulePost').map((c) => c.input)).toEqual([{ postId: 'p-moved', scheduledAt: later }]);
      await env.sleep(2 * HOUR); // past the original due time
      expect(fake.named('publishPost')).toHaveLength(0);
      await handle.result();
      expect(fake.named('publishPost')).toHaveLength(1);
      expect(Math.abs(fake.named('publishPost')[0]!.at - Date.parse(later))).toBeLessThan(MINUTE);
    });
  });

  it('refuses a reschedule into the past (InvalidInput) without touching the post', async () => {
    const fake = fakeActivities();
    await withWorker(fake.activities, async (tq) => {
      const { handle } = await start(tq, 'p-past', HOUR);
      const past = new Date((await env.currentTimeMs()) - MINUTE).toISOString();
      expect(await refusal(handle.executeUpdate(reschedulePostUpdate, { args: [{ scheduledAt: past }] }))).toBe('InvalidInput');
      expect(fake.named('reschedulePost')).toHaveLength(0);
      await handle.terminate();
    });
  });

  it('cancel ends the wait: the post is never published and the run ends canceled', async () => {
    const fake = fakeActivities();
    await withWorker(fake.activities, async (tq) => {
      const { handle } = await start(tq, 'p-cancel', 2 * HOUR);
      await env.sleep(HOUR);
      expect(await handle.executeUpdate(cancelPostUpdate)).toEqual({ status: 'canceled' });
      expect(await handle.result()).toEqual({ status: 'canceled', platformPostId: null, error: null });
      expect(fake.named('finishPost').map((c) => c.input)).toEqual([{ postId: 'p-cancel', status: 'canceled' }]);
    });
    expect(fake.named('publishPost')).toHaveLength(0);
  });

  it('a reschedule or cancel arriving once publishing began is refused (InvalidState): published once, never twice', async () => {
    let release: () => void = () => undefined;
    let publishing: () => void = () => undefined;
    const publishStarted = new Promise<void>((r) => (publishing = r));
    const fake = fakeActivities({
      publish: () => {
        publishing();
        return new Promise<void>((r) => (release = r));
      },
    });
    await withWorker(fake.activities, async (tq) => {
      const { handle, due } = await start(tq, 'p-race', HOUR);
      const result = handle.result();
      await publishStarted;
      const later = new Date(due + HOUR).toISOString();
      expect(await refusal(handle.executeUpdate(reschedulePostUpdate, { args: [{ scheduledAt: later }] }))).toBe('InvalidState');
      expect(await refusal(handle.executeUpdate(cancelPostUpdate))).toBe('InvalidState');
      release();
      expect((await result).status).toBe('published');
    });
    expect(fake.named('publishPost')).toHaveLength(1);
    expect(fake.named('reschedulePost')).toHaveLength(0);
  });

  it('approval flow: waits for approval, validators refuse a second approve and a reject after it, then publishes at the due time', async () => {
    const fake = fakeActivities();
    await withWorker(fake.activities, async (tq) => {
      const { handle, due } = await start(tq, 'p-approve', 3 * HOUR, true);
      await env.sleep(HOUR);
      expect((await handle.query(postStateQuery)).status).toBe('pending_approval');
      const reply = await handle.executeUpdate(approvePostUpdate, { args: [{ approvedBy: 'editor-1' }] });
      expect(reply).toEqual({ status: 'scheduled', scheduledAt: new Date(due).toISOString(), publishesImmediately: false });
      expect(await refusal(handle.executeUpdate(approvePostUpdate, { args: [{ approvedBy: 'editor-1' }] }))).toBe('InvalidState');
      expect(await refusal(handle.executeUpdate(rejectPostUpdate, { args: [{ reason: 'too late' }] }))).toBe('InvalidState');
      await handle.result();
      expect(fake.named('approvePost').map((c) => c.input)).toEqual([{ postId: 'p-approve', approvedBy: 'editor-1' }]);
      expect(Math.abs(fake.named('publishPost')[0]!.at - due)).toBeLessThan(MINUTE);
    });
  });

  it('a post still pending at its due time waits; approved later, it is published at once', async () => {
    const fake = fakeActivities();
    await withWorker(fake.activities, async (tq) => {
      const { handle } = await start(tq, 'p-late', HOUR, true);
      await env.sleep(5 * HOUR);
      expect(fake.named('publishPost')).toHaveLength(0);
      const approvedAt = await env.currentTimeMs();
      const reply = await handle.executeUpdate(approvePostUpdate, { args: [{ approvedBy: 'editor-1' }] });
      expect(reply.publishesImmediately).toBe(true);
      await handle.result();
      expect(fake.named('publishPost')[0]!.at - approvedAt).toBeLessThan(MINUTE);
    });
  });

  it('reject cancels a pending post with the reason', async () => {
    const fake = fakeActivities();
    await withWorker(fake.activities, async (tq) => {
      const { handle } = await start(tq, 'p-reject', HOUR, true);
      expect(await handle.executeUpdate(rejectPostUpdate, { args: [{ reason: 'off brand' }] })).toEqual({ status: 'canceled' });
      expect((await handle.result()).status).toBe('canceled');
    });
    expect(fake.named('finishPost').map((c) => c.input)).toEqual([
      { postId: 'p-reject', status: 'canceled', rejectionReason: 'off brand' },
    ]);
    expect(fake.named('publishPost')).toHaveLength(0);
  });

  it('a revoked account fails the run with ProviderAuth and records the reason on the post', async () => {
    const fake = fakeActivities({
      publish: () => Promise.reject(ApplicationFailure.nonRetryable('the x account @me: authorization expired or revoked', 'ProviderAuth')),
    });
    await withWorker(fake.activities, async (tq) => {
      const { handle } = await start(tq, 'p-revoked', MINUTE);
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('ProviderAuth');
    });
    expect(fake.named('finishPost').map((c) => c.input)).toEqual([
      { postId: 'p-revoked', status: 'failed', error: 'ProviderAuth: the x account @me: authorization expired or revoked' },
    ]);
  });
});
