import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { RunClosure } from '../../db/repositories/runs';
import { progressQuery } from '../../workflows/common/progress';
import { smokeWorkflowId } from '../../workflows/smoke/contract';
import { workflowBundle, createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities } from '../helpers/workflow-tests';

/** Workflow logic with mocked activities on the time-skipping server: a one-hour timer takes no real time. */
describe('smokeWorkflow (time-skipping, mocked activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());

  function fakeActivities(overrides: Record<string, (...args: any[]) => unknown> = {}) {
    return recordingActivities(
      {
        recordRunStarted: () => undefined,
        recordRunProgress: () => undefined,
        recordRunClosed: () => undefined,
        composeGreeting: (name: string) => `hi ${name}`,
      },
      overrides,
    );
  }

  async function run(taskQueue: string, activities: object, fn: () => Promise<void>) {
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: await workflowBundle(), activities });
    await worker.runUntil(fn());
  }

  it('waits on its durable timer, greets, and records start, progress and completion', async () => {
    const { activities, calls } = fakeActivities();
    const workflowId = smokeWorkflowId('wf-1');
    await run('smoke-wf-1', activities, async () => {
      const startedAt = await env.currentTimeMs();
      const result = await env.client.workflow.execute('smokeWorkflow', {
        workflowId,
        taskQueue: 'smoke-wf-1',
        args: [{ name: 'ada', delayMs: 3_600_000, userId: 'u1' }],
      });
      expect(result).toEqual({ greeting: 'hi ada' });
      expect((await env.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(3_600_000);
    });
    expect(calls.map((c) => c.name)).toEqual([
      'recordRunStarted',
      'recordRunProgress',
      'recordRunProgress',
      'composeGreeting',
      'recordRunClosed',
    ]);
    expect(calls[0]!.input).toMatchObject({ id: workflowId, type: 'smoke', userId: 'u1' });
    expect((calls.at(-1)!.args[1] as RunClosure).status).toBe('completed');
  });

  it('exposes stage and progress through the progress query while waiting', async () => {
    const { activities } = fakeActivities();
    await run('smoke-wf-2', activities, async () => {
      const handle = await env.client.workflow.start('smokeWorkflow', {
        workflowId: smokeWorkflowId('wf-2'),
        taskQueue: 'smoke-wf-2',
        args: [{ name: 'bo', delayMs: 60_000, userId: null }],
      });
      // Until the timer fires the workflow sits in its "waiting" stage.
      let progress = await handle.query(progressQuery);
      for (let i = 0; i < 50 && progress.stage !== 'waiting'; i++) progress = await handle.query(progressQuery);
      expect(progress).toMatchObject({ stage: 'waiting', progress: 10 });
      await handle.result();
      expect(await handle.query(progressQuery)).toMatchObject({ stage: 'done', progress: 100 });
    });
  });

  it('records a failed run with the typed error when the activity fails for good', async () => {
    const { activities, calls } = fakeActivities({
      composeGreeting: async () => {
        throw ApplicationFailure.nonRetryable('name rejected', 'InvalidInput');
      },
    });
    await run('smoke-wf-3', activities, async () => {
      await expect(
        env.client.workflow.execute('smokeWorkflow', {
          workflowId: smokeWorkflowId('wf-3'),
          taskQueue: 'smoke-wf-3',
          args: [{ name: 'x', delayMs: 0, userId: null }],
        }),
      ).rejects.toThrow();
    });
    const closure = calls.find((c) => c.name === 'recordRunClosed')!.args[1] as RunClosure;
    expect(closure).toMatchObject({ status: 'failed', error: { type: 'InvalidInput', message: 'name rejected' } });
  });
});
