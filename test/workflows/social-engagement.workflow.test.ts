import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { FailureType } from '../../schemas/failures';
import { createTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
import { failureOf, recordingActivities } from '../helpers/workflow-tests';

/** The comments poll and the account sync with mocked activities on the time-skipping server. */
describe('commentsPollWorkflow and accountSyncWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  const revoked = () => {
    throw ApplicationFailure.nonRetryable('the x account is expired; reconnect it', FailureType.ProviderAuth);
  };

  function fakeActivities(overrides: Record<string, (...args: any[]) => unknown> = {}) {
    let pending = 45;
    return recordingActivities(
      {
        recordRunStarted: () => undefined,
        recordRunProgress: () => undefined,
        recordRunClosed: () => undefined,
        renewTokenAhead: () => ({ refreshed: true }),
        pollComments: () => ({ postsChecked: 2, newComments: 45 }),
        classifyCommentSentiments: () => {
          const classified = Math.min(20, pending);
          pending -= classified;
          return { classified, more: pending > 0 };
        },
        syncAccountAnalytics: () => ({ socialAccountId: 'a1', date: '2026-12-01', followers: 1200 }),
        handleAccountAccessLost: () => ({ revoked: true, paused: ['comments-poll:a1', 'account-sync:a1'] }),
      },
      overrides,
    );
  }

  async function run(taskQueue: string, activities: object, fn: () => Promise<void>) {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
    await worker.runUntil(fn());
  }

  it('renews the token, polls, then classifies the backlog in batches until none is left', async () => {
    const { activities, calls } = fakeActivities();
    await run('poll-wf-1', activities, async () => {
      const result = await env.client.workflow.execute('commentsPollWorkflow', {
        workflowId: 'comments-poll:a1',
        taskQueue: 'poll-wf-1',
        args: [{ socialAccountId: 'a1', userId: 'u1' }],
      });
      expect(result).toEqual({ tokenRefreshed: true, postsChecked: 2, newComments: 45, classified: 45 });
    });
    expect(calls.map((c) => c.name)).toEqual([
      'renewTokenAhead',
      'pollComments',
      'classifyCommentSentiments',
      'classifyCommentSentiments',
      'classifyCommentSentiments',
    ]);
    expect(calls[2]!.input).toEqual({ socialAccountId: 'a1', userId: 'u1', runId: 'comments-poll:a1' });
  });

  it('a refused account is revoked (access-lost activity) and the poll ends without classifying', async () => {
    const { activities, calls } = fakeActivities({ renewTokenAhead: revoked });
    await run('poll-wf-2', activities, async () => {
      const result = await env.client.workflow.execute('commentsPollWorkflow', {
        workflowId: 'comments-poll:a2',
        taskQueue: 'poll-wf-2',
        args: [{ socialAccountId: 'a2', userId: 'u1' }],
      });
      expect(result).toMatchObject({ accessLost: true, newComments: 0, classified: 0 });
    });
    expect(calls.map((c) => c.name)).toEqual(['renewTokenAhead', 'handleAccountAccessLost']);
    expect(calls[1]!.input).toEqual({ socialAccountId: 'a2' });
  });

  it('a sync refused by the platform revokes the account and fails with ProviderAuth', async () => {
    const { activities, calls } = fakeActivities({ syncAccountAnalytics: revoked });
    await run('sync-wf-1', activities, async () => {
      const failure = await failureOf(
        env.client.workflow.execute('accountSyncWorkflow', {
          workflowId: 'account-sync:a3',
          taskQueue: 'sync-wf-1',
          args: [{ socialAccountId: 'a3', userId: 'u1', date: '2026-12-01' }],
        }),
      );
      expect(failure.type).toBe(FailureType.ProviderAuth);
    });
    expect(calls.map((c) => c.name)).toEqual([
      'recordRunStarted',
      'recordRunProgress',
      'syncAccountAnalytics',
      'handleAccountAccessLost',
      'recordRunClosed',
    ]);
    expect(calls[2]!.input).toEqual({ socialAccountId: 'a3', date: '2026-12-01' });
  });
});
