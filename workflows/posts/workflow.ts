import { allHandlersFinished, ApplicationFailure, condition, log, patched, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { PostActivities } from '../../activities/posts';
import {
  PostUpdateFailure,
  type PostStatus,
  type PostWorkflowInput,
  type PostWorkflowResult,
  type PostWorkflowState,
} from '../../schemas/posts';
import { describeFailure } from '../common/failures';
import { progressQuery } from '../common/progress';
import { closingRunRow } from '../common/run-closing';
import {
  approvePostUpdate,
  cancelPostUpdate,
  METRIC_CHECKPOINTS,
  POST_TARGETS_PATCH,
  postStateQuery,
  rejectPostUpdate,
  reschedulePostUpdate,
} from './contract';
import { databaseWrites } from '../common/activity-options';

const rows = proxyActivities<PostActivities>(databaseWrites());

// Rate limits and platform outages are retried with backoff (or the platform's Retry-After) for
// about half an hour; auth and bad input fail at once. The heartbeat timeout hands the publish of
// a dead worker to another within seconds; publishPost looks for the earlier post before posting.
// A post to several platforms runs one publishPostTarget per target under the same policy, each retried on its own.
const { publishPost, publishPostTarget } = proxyActivities<PostActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '5 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 12 },
});

const { syncPostMetrics } = proxyActivities<PostActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '10 minutes', maximumAttempts: 6 },
});

const PROGRESS: Record<PostStatus, number> = {
  draft: 0,
  pending_approval: 10,
  scheduled: 20,
  publishing: 60,
  published: 90,
  partially_published: 90,
  failed: 100,
  canceled: 100,
};

/** An activity's typed failure, rethrown so the update fails with that type (the API maps it to a status). */
function rethrowTyped(err: unknown): never {
  const { type, message } = describeFailure(err);
  throw ApplicationFailure.nonRetryable(message, type);
}

interface Published {
  status: 'published' | 'partially_published';
  platformPostId: string | null;
  publishedAt: number;
  error: PostWorkflowState['error'];
}

/** One publish for a post to one account; a failure is thrown typed. */
async function publishToOne(postId: string, since: string): Promise<Published> {
  const published = await publishPost({ postId, since });
  return { status: 'published', platformPostId: published.platformPostId, publishedAt: Date.parse(published.publishedAt), error: null };
}

/**
 * A post to several accounts: every target publishes at once and fails alone; the post is then
 * published, partially_published (with the first failure as its error) or, when none made it, failed.
 */
async function publishToEach(postId: string, targetIds: string[], since: string): Promise<Published> {
  const settled = await Promise.allSettled(targetIds.map((targetId) => publishPostTarget({ postId, targetId, since })));
  const failures = settled.flatMap((result, i) =>
    result.status === 'rejected' ? [{ targetId: targetIds[i]!, ...describeFailure(result.reason) }] : [],
  );
  const summary = await rows.finishPublishing({
    postId,
    failures: failures.map((f) => ({ targetId: f.targetId, error: `${f.type}: ${f.message}` })),
  });
  const firstFailure = failures[0];
  const error = firstFailure ? { type: firstFailure.type, message: firstFailure.message } : null;
  if (summary.status === 'failed') throw ApplicationFailure.nonRetryable(error?.message ?? 'no platform published the post', error?.type);
  const publishedAt = Math.min(...settled.flatMap((r) => (r.status === 'fulfilled' ? [Date.parse(r.value.publishedAt)] : [])));
  return { status: summary.status, platformPostId: summary.platformPostId, publishedAt, error };
}

/** A scheduled post (see schedulePost); the job_runs row the API registered closes with the run. */
export async function postWorkflow(input: PostWorkflowInput): Promise<PostWorkflowResult> {
  return closingRunRow(() => schedulePost(input));
}

/**
 * One scheduled post, `post:<postId>`: waits for approval (when needed) and for its due time on a
 * durable timer, publishes once, then takes metric snapshots at +1 h, +24 h and +7 d and ends.
 *
 * - approve / reject / reschedule / cancel are updates: validators refuse what the post's state
 *   does not allow (nothing is written to history), handlers persist the change and reply.
 * - A post approved after its due time is published at once: the approval is the last thing it
 *   waited for, and the time the user chose has passed.
 * - A reschedule restarts the wait. One that races the due time either lands before the timer
 *   fires (the wait restarts) or is refused because publishing began: published once or never.
 * - Metrics use timers in this run rather than a Schedule: each post has its own three instants,
 *   the history stays small (three timers, three activities), and the run ends after the last.
 */
async function schedulePost(input: PostWorkflowInput): Promise<PostWorkflowResult> {
  const { postId } = input;
  const state: PostWorkflowState = {
    status: input.needsApproval ? 'pending_approval' : 'scheduled',
    scheduledAt: input.scheduledAt,
    platformPostId: null,
    metricsSynced: [],
    error: null,
  };
  /** Bumped by every reschedule, so a wait knows its due time moved. */
  let scheduleVersion = 0;
  /** An update is persisting a change: others are refused and publishing waits for it. */
  let changing = false;

  setHandler(postStateQuery, () => state);
  setHandler(progressQuery, () => ({
    stage: state.status,
    progress: PROGRESS[state.status],
    counters: { metricsSynced: state.metricsSynced.length },
  }));

  const requireChangeable = (action: string, allowed: PostStatus[]) => {
    if (changing)
      throw ApplicationFailure.nonRetryable(
        `another change to this post is in progress; retry the ${action}`,
        PostUpdateFailure.InvalidState,
      );
    if (!allowed.includes(state.status))
      throw ApplicationFailure.nonRetryable(
        `cannot ${action} a post that is ${state.status.replace('_', ' ')}`,
        PostUpdateFailure.InvalidState,
      );
  };
  const persisting = async <T>(work: () => Promise<T>): Promise<T> => {
    changing = true;
    try {
      return await work();
    } catch (err) {
      rethrowTyped(err);
    } finally {
      changing = false;
    }
  };

  setHandler(
    approvePostUpdate,
    async ({ approvedBy }) => {
      await persisting(() => rows.approvePost({ postId, approvedBy }));
      state.status = 'scheduled';
      return { status: state.status, scheduledAt: state.scheduledAt, publishesImmediately: Date.parse(state.scheduledAt) <= Date.now() };
    },
    { validator: (_request) => requireChangeable('approve', ['pending_approval']) },
  );

  setHandler(
    rejectPostUpdate,
    async ({ reason }) => {
      await persisting(() => rows.finishPost({ postId, status: 'canceled', rejectionReason: reason }));
      state.status = 'canceled';
      return { status: 'canceled' as const };
    },
    { validator: (_rejection) => requireChangeable('reject', ['pending_approval']) },
  );

  setHandler(
    reschedulePostUpdate,
    async ({ scheduledAt }) => {
      const at = new Date(Date.parse(scheduledAt)).toISOString();
      await persisting(() => rows.reschedulePost({ postId, scheduledAt: at }));
      state.scheduledAt = at;
      scheduleVersion += 1;
      return { scheduledAt: at };
    },
    {
      validator: ({ scheduledAt }: { scheduledAt: string }) => {
        requireChangeable('reschedule', ['pending_approval', 'scheduled']);
        const at = Date.parse(scheduledAt);
        if (Number.isNaN(at)) throw ApplicationFailure.nonRetryable('scheduledAt is not a date-time', PostUpdateFailure.InvalidInput);
        if (at <= Date.now()) throw ApplicationFailure.nonRetryable('scheduledAt must be in the future', PostUpdateFailure.InvalidInput);
      },
    },
  );

  setHandler(
    cancelPostUpdate,
    async () => {
      await persisting(() => rows.finishPost({ postId, status: 'canceled' }));
      state.status = 'canceled';
      return { status: 'canceled' as const };
    },
    { validator: () => requireChangeable('cancel', ['pending_approval', 'scheduled']) },
  );

  const finish = async (result: PostWorkflowResult): Promise<PostWorkflowResult> => {
    await condition(allHandlersFinished);
    return result;
  };

  // Wait for approval and the due time; both can change while waiting.
  for (;;) {
    if (state.status === 'pending_approval') await condition(() => state.status !== 'pending_approval');
    if (state.status === 'canceled') return finish({ status: 'canceled', platformPostId: null, error: null });
    const version = scheduleVersion;
    const dueInMs = Date.parse(state.scheduledAt) - Date.now();
    if (dueInMs > 0 && (await condition(() => scheduleVersion !== version || state.status !== 'scheduled', dueInMs))) continue;
    // An update still writing decides first (a reschedule moves the time, a cancel ends the run).
    await condition(() => !changing);
    if (scheduleVersion === version && state.status === 'scheduled') break;
  }

  state.status = 'publishing';
  const since = new Date(Date.now()).toISOString();
  let published: Published;
  try {
    const targetIds = input.targetIds ?? [];
    published =
      targetIds.length > 0 && patched(POST_TARGETS_PATCH)
        ? await publishToEach(postId, targetIds, since)
        : await publishToOne(postId, since);
  } catch (err) {
    state.error = describeFailure(err);
    state.status = 'failed';
    await rows.finishPost({ postId, status: 'failed', error: `${state.error.type}: ${state.error.message}` });
    await condition(allHandlersFinished);
    throw ApplicationFailure.nonRetryable(state.error.message, state.error.type);
  }
  state.status = published.status;
  state.platformPostId = published.platformPostId;
  state.error = published.error;
  const { publishedAt } = published;

  for (const { checkpoint, afterMs } of METRIC_CHECKPOINTS) {
    const waitMs = publishedAt + afterMs - Date.now();
    if (waitMs > 0) await sleep(waitMs);
    try {
      await syncPostMetrics({ postId, checkpoint });
      state.metricsSynced.push(checkpoint);
    } catch (err) {
      // A missed snapshot is not worth failing a published post over.
      log.warn('post metrics sync failed', { postId, checkpoint, error: describeFailure(err).message });
    }
  }
  return finish({ status: published.status, platformPostId: state.platformPostId, error: published.error });
}
