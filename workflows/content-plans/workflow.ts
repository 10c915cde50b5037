import {
  condition,
  ParentClosePolicy,
  proxyActivities,
  sleep,
  startChild,
  WorkflowIdReusePolicy,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ContentPlanActivities } from '../../activities/content-plans';
import type {
  ContentPlanWorkflowInput,
  ContentPlanWorkflowResult,
  ScheduledContentPlanInput,
  ScheduledContentPlanResult,
} from '../../schemas/content-plans';
import { PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import type { PostWorkflowInput } from '../../schemas/posts';
import { databaseWrites } from '../common/activity-options';
import { describeFailure } from '../common/failures';
import { trackRun } from '../common/run-tracking';
import { postRun, postWorkflowId } from '../posts/contract';
import type { postWorkflow } from '../posts/workflow';
import { CONTENT_PLAN_LANES, contentPlanWorkflowId, DEFAULT_REVIEW_WINDOW_DAYS } from './contract';

const database = proxyActivities<ContentPlanActivities>(databaseWrites({ nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }));

// One post: a model call (retried with backoff on rate limits and outages), then its slot and row.
// A post that still fails is recorded as failed and the plan carries on with the others.
const { producePlanPost } = proxyActivities<ContentPlanActivities>({
  startToCloseTimeout: '3 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 6,
    nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES,
  },
});

/** Starts the post's own run as the API would (same id, so a rerun joins it, never doubles it); it outlives the plan. */
async function startPostRun(input: PostWorkflowInput): Promise<void> {
  try {
    await startChild<typeof postWorkflow>(postRun.workflowType, {
      workflowId: postWorkflowId(input.postId),
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * A month's content plan, `content-plan:<userId>:<YYYY-MM>`: N posts (the plan's monthly post
 * limit) spread over the user's pillars and hooks, written by the model in bounded parallel
 * lanes, each placed into a free posting slot of the month and handed to its own `post:<id>`
 * run (approval respected there). Every step is idempotent by (plan, post index), so a rerun or
 * a retried step adds nothing. When an AI spend cap is reached, the plan pauses until the cap
 * resets and resumes where it stopped.
 */
export async function contentPlanWorkflow(input: ContentPlanWorkflowInput): Promise<ContentPlanWorkflowResult> {
  return trackRun({ type: 'content-plan', userId: input.userId, domainId: input.month }, async (run) => {
    const plan = await database.openContentPlan({
      userId: input.userId,
      month: input.month,
      workflowId: workflowInfo().workflowId,
      needsApproval: input.needsApproval ?? false,
      reviewWindowDays: input.reviewWindowDays ?? DEFAULT_REVIEW_WINDOW_DAYS,
    });
    const { planId, totalPosts } = plan;
    const waiting = Array.from({ length: totalPosts }, (_, index) => index);
    let completed = 0;
    let failed = 0;
    let pauses = 0;
    /** Set while a spend cap holds every lane: the instant it resets. */
    let resumeAt: number | null = null;
    await run.stage('writing', 5, { total: totalPosts, completed, failed });

    const pauseUntil = async (resetsAt: string) => {
      resumeAt = Date.parse(resetsAt);
      pauses += 1;
      await database.setContentPlanStatus({ planId, status: 'paused', pausedUntil: resetsAt });
      await run.stage('paused', 5 + (90 * (completed + failed)) / Math.max(1, totalPosts), { pauses });
      await sleep(Math.max(1, resumeAt - Date.now()));
      resumeAt = null;
      await database.setContentPlanStatus({ planId, status: 'running', pausedUntil: null });
    };

    const lane = async () => {
      for (let index = waiting.shift(); index !== undefined; index = waiting.shift()) {
        const postIndex = index;
        for (;;) {
          if (resumeAt !== null) await condition(() => resumeAt === null);
          try {
            const outcome = await producePlanPost({ planId, postIndex });
            if (outcome.status === 'capped') {
              // Another lane may have paused meanwhile: wait for its reset instead of a second pause.
              if (resumeAt === null) await pauseUntil(outcome.resetsAt);
              continue;
            }
            await startPostRun(outcome.post);
            completed += 1;
          } catch (err) {
            failed += 1;
            await database.recordPlanPostFailed({ planId, postIndex, error: describeFailure(err) });
          }
          break;
        }
        await run.stage('writing', 5 + (90 * (completed + failed)) / Math.max(1, totalPosts), { completed, failed });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(input.lanes ?? CONTENT_PLAN_LANES, totalPosts)) }, lane));

    const totals = await database.finishContentPlan({ planId });
    return { planId, month: input.month, totalPosts, ...totals, pauses };
  });
}

/**
 * What the user's content-plan Schedule starts: the month of its firing in the user's time zone,
 * run as `content-plan:<userId>:<YYYY-MM>` unless the plan no longer includes it. A month already
 * generated (by the API or an earlier firing) is not started again.
 */
export async function scheduledContentPlanWorkflow(input: ScheduledContentPlanInput): Promise<ScheduledContentPlanResult> {
  const { month, included } = await database.resolveContentPlanMonth({
    userId: input.userId,
    at: workflowInfo().startTime.toISOString(),
  });
  if (!included) return { month, started: false };
  try {
    await startChild(contentPlanWorkflow, {
      workflowId: contentPlanWorkflowId(input.userId, month),
      args: [{ userId: input.userId, month }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      // The plan outlives this launcher.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { month, started: true };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { month, started: false };
    throw err;
  }
}
