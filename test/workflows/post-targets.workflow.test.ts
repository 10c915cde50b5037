import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import type { PublishTargetInput, PublishTargetResult } from '../../activities/posts';
import type { TargetFailure } from '../../db/repositories/post-targets';
import type { PostWorkflowInput } from '../../schemas/posts';
import { postStateQuery, postWorkflowId } from '../../workflows/posts/contract';
import { REPLAY_HISTORY_DIR } from '../helpers/record-histories';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner } from '../helpers/workflow-tests';

const HOUR = 3_600_000;

/**
 * A post to several targets on the time-skipping server with mocked activities: one publish per
 * target at the due time, each retried on its own, then the post's status summarised.
 */
describe('postWorkflow with several targets (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  const withWorker = workerRunner(() => env, 'post-targets-wf');

  /** `failing` targets fail for good; `flaky` ones fail their first attempt (retryable). */
  function fakes(options: { failing?: string[]; flaky?: string[] } = {}) {
    return recordingActivities({
      publishPostTarget: ({ postId, targetId }: PublishTargetInput): PublishTargetResult => {
        const { attempt, currentAttemptScheduledTimestampMs } = Context.current().info;
        if (options.failing?.includes(targetId)) throw ApplicationFailure.nonRetryable(`${targetId} refused the post`, 'InvalidInput');
        if (options.flaky?.includes(targetId) && attempt === 1)
          throw ApplicationFailure.retryable(`${targetId} is down`, 'ProviderUnavailable');
        return {
          targetId,
          platformPostId: `${targetId}-${postId}`,
          platformUrl: `https://example.com/${targetId}`,
          publishedAt: new Date(currentAttemptScheduledTimestampMs).toISOString(),
          alreadyPublished: false,
        };
      },
      finishPublishing: ({ failures }: { failures: TargetFailure[] }) => ({
        status: failures.length === 0 ? 'published' : failures.length === 3 ? 'failed' : 'partially_published',
        platformPostId: failures.some((f) => f.targetId === 't-1') ? null : 'primary-post',
        published: 3 - failures.length,
        failed: failures.length,
      }),
      publishPost: () => {
        throw new Error('a post with several targets publishes per target');
      },
      syncPostMetrics: () => null,
      finishPost: () => undefined,
      recordRunClosed: () => undefined,
    });
  }

  async function start(taskQueue: string, postId: string): Promise<{ handle: WorkflowHandle; due: number }> {
    const due = (await env.currentTimeMs()) + HOUR;
    const input: PostWorkflowInput = {
      postId,
      userId: 'user-1',
      scheduledAt: new Date(due).toISOString(),
      needsApproval: false,
      targetIds: ['t-1', 't-2', 't-3'],
    };
    const handle = await env.client.workflow.start('postWorkflow', { workflowId: postWorkflowId(postId), taskQueue, args: [input] });
    return { handle, due };
  }

  it('publishes every target at the due time, retries a flaky one alone, and ends partially_published with the first failure', async () => {
    const fake = fakes({ failing: ['t-3'], flaky: ['t-2'] });
    await withWorker(fake.activities, async (tq) => {
      const { handle, due } = await start(tq, 'p-multi');
      expect(await handle.result()).toEqual({
        status: 'partially_published',
        platformPostId: 'primary-post',
        error: { type: 'InvalidInput', message: 't-3 refused the post' },
      });
      const publishes = fake.named('publishPostTarget');
      expect(publishes.map((c) => [c.input.targetId, c.attempt])).toEqual(
        expect.arrayContaining([
          ['t-1', 1],
          ['t-2', 1],
          ['t-2', 2],
          ['t-3', 1],
        ]),
      );
      expect(publishes).toHaveLength(4);
      expect(publishes.every((c) => c.at >= due)).toBe(true);
      expect(fake.named('finishPublishing').map((c) => c.input)).toEqual([
        { postId: 'p-multi', failures: [{ targetId: 't-3', error: 'InvalidInput: t-3 refused the post' }] },
      ]);
      expect(fake.named('publishPost')).toHaveLength(0);
      if (process.env.RECORD_REPLAY_HISTORIES === '1')
        writeFileSync(join(REPLAY_HISTORY_DIR, 'postWorkflow.post-targets.json'), historyToJSON(await handle.fetchHistory()));
    });
  });

  it('fails the post when no target published', async () => {
    const fake = fakes({ failing: ['t-1', 't-2', 't-3'] });
    await withWorker(fake.activities, async (tq) => {
      const { handle } = await start(tq, 'p-none');
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
      expect((await handle.query(postStateQuery)).status).toBe('failed');
    });
    expect(fake.named('finishPost').map((c) => c.input.status)).toEqual(['failed']);
    expect(fake.named('syncPostMetrics')).toHaveLength(0);
  });
});
