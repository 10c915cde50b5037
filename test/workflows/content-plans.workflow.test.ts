import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ProducedPlanPost } from '../../activities/content-plans';
import type { ContentPlanWorkflowResult, ScheduledContentPlanResult } from '../../schemas/content-plans';
import { contentPlanScheduleId, contentPlanWorkflowId } from '../../workflows/content-plans/contract';
import { postWorkflowId } from '../../workflows/posts/contract';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner } from '../helpers/workflow-tests';

/** A post run the skipped time already let finish cannot be terminated: nothing to clean up then. */
const ignoreClosedRun = (error: unknown): void => {
  if (!(error instanceof WorkflowNotFoundError)) throw error;
};

const DAY = 86_400_000;

/**
 * The monthly content plan with mocked activities on the time-skipping server: the schedule's
 * launcher runs the month once, N posts become N post runs, and a spend cap reached mid-plan
 * pauses it until the cap resets (a day, skipped) before it finishes.
 */
describe('contentPlanWorkflow (time-skipping, mocked activities)', () => {
  // A server per test: the clock one test's leftover runs hold must not stall the next test's skip.
  let env: TestWorkflowEnvironment;
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
  });
  afterEach(() => env?.teardown());
  const withWorker = workerRunner(() => env, 'content-plan-wf');

  function fakeActivities(options: { planId: string; totalPosts: number; capped?: (call: number) => string | undefined }) {
    const produced = new Set<number>();
    let produceCalls = 0;
    const fake = recordingActivities({
      recordRunStarted: () => undefined,
      recordRunProgress: () => undefined,
      recordRunClosed: () => undefined,
      resolveContentPlanMonth: () => ({ month: '2026-12', included: true }),
      openContentPlan: () => ({ planId: options.planId, totalPosts: options.totalPosts }),
      producePlanPost: ({ postIndex }: { postIndex: number }): ProducedPlanPost => {
        const resetsAt = options.capped?.(++produceCalls);
        if (resetsAt) return { status: 'capped', cap: 'daily_tokens', resetsAt, message: 'cap reached' };
        produced.add(postIndex);
        return {
          status: 'scheduled',
          post: {
            postId: `${options.planId}-post-${postIndex}`,
            userId: 'user-1',
            scheduledAt: new Date(Date.now() + 30 * DAY).toISOString(),
            needsApproval: true,
          },
        };
      },
      recordPlanPostFailed: () => undefined,
      setContentPlanStatus: () => undefined,
      finishContentPlan: () => ({ completedPosts: produced.size, failedPosts: 0 }),
    });
    return { ...fake, produced };
  }

  it('runs the month the schedule fires for: N posts, each started as its own post run; a second firing adds nothing', async () => {
    const fake = fakeActivities({ planId: 'plan-1', totalPosts: 5 });
    await withWorker(fake.activities, async (taskQueue) => {
      // What the Schedule's action does (the time-skipping server has no Schedules): start the launcher.
      const fire = (n: number) =>
        env.client.workflow.execute('scheduledContentPlanWorkflow', {
          workflowId: `${contentPlanScheduleId('user-1')}-2026-12-01T06:00:0${n}Z`,
          taskQueue,
          args: [{ userId: 'user-1' }],
        }) as Promise<ScheduledContentPlanResult>;

      expect(await fire(0)).toEqual({ month: '2026-12', started: true });
      const plan = env.client.workflow.getHandle(contentPlanWorkflowId('user-1', '2026-12'));
      const result = (await plan.result()) as ContentPlanWorkflowResult;
      expect(result).toMatchObject({ planId: 'plan-1', month: '2026-12', totalPosts: 5, completedPosts: 5, failedPosts: 0, pauses: 0 });
      for (let i = 0; i < 5; i += 1) {
        const post = env.client.workflow.getHandle(postWorkflowId(`plan-1-post-${i}`));
        expect((await post.describe()).type).toBe('postWorkflow');
        // Leave no post waiting for approval behind.
        await post.terminate('test over').catch(ignoreClosedRun);
      }

      expect(await fire(1)).toEqual({ month: '2026-12', started: false });
    });
    expect(fake.calls.filter((c) => c.name === 'openContentPlan')).toHaveLength(1);
    expect(
      fake.calls
        .filter((c) => c.name === 'producePlanPost')
        .map((c) => c.input.postIndex)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
  });

  it('pauses when an AI spend cap is reached mid-plan and resumes after the reset with the posts left', async () => {
    let resetsAt = 0;
    const fake = fakeActivities({
      planId: 'plan-2',
      totalPosts: 6,
      // The third model call finds the day's cap reached until tomorrow; after the reset it passes.
      capped: (call) => {
        if (call !== 3) return undefined;
        resetsAt = Date.now() + DAY;
        return new Date(resetsAt).toISOString();
      },
    });
    await withWorker(fake.activities, async (taskQueue) => {
      const result = (await env.client.workflow.execute('contentPlanWorkflow', {
        workflowId: contentPlanWorkflowId('user-2', '2026-12'),
        taskQueue,
        args: [{ userId: 'user-2', month: '2026-12', lanes: 1 }],
      })) as ContentPlanWorkflowResult;
      expect(result).toMatchObject({ totalPosts: 6, completedPosts: 6, pauses: 1 });
      for (let i = 0; i < 6; i += 1)
        await env.client.workflow
          .getHandle(postWorkflowId(`plan-2-post-${i}`))
          .terminate('test over')
          .catch(ignoreClosedRun);
    });
    const statuses = fake.calls.filter((c) => c.name === 'setContentPlanStatus').map((c) => c.input);
    expect(statuses).toEqual([
      { planId: 'plan-2', status: 'paused', pausedUntil: new Date(resetsAt).toISOString() },
      { planId: 'plan-2', status: 'running', pausedUntil: null },
    ]);
    const produce = fake.calls.filter((c) => c.name === 'producePlanPost');
    // Post 2 is asked for again after the reset, and only then do posts 3-5 follow.
    expect(produce.map((c) => c.input.postIndex)).toEqual([0, 1, 2, 2, 3, 4, 5]);
    expect(produce[3]!.at).toBeGreaterThanOrEqual(resetsAt);
  });
});
