import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { ProviderJobUpdate } from '../../schemas/provider-jobs';
import { providerJobUpdateSignal } from '../../workflows/common/provider-jobs';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { failureOf, recordingActivities } from '../helpers/workflow-tests';

/**
 * The provider-jobs pattern (workflows/common/provider-jobs.ts) on the time-skipping server with a
 * scripted fake provider: a webhook signal or a poll on a growing timer ends the wait, whichever
 * comes first; failures are typed; a cancelled run cancels the provider job once.
 */
describe('ProviderJobs.awaitJob (time-skipping, fake provider)', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  beforeAll(async () => {
    [env, bundle] = await Promise.all([
      createTimeSkippingEnv(),
      bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/provider-job-workflows'), logger: new DefaultLogger('WARN') }),
    ]);
  });
  afterAll(() => env?.teardown());

  const update = (jobId: string, status: ProviderJobUpdate['status'], extra: Partial<ProviderJobUpdate> = {}): ProviderJobUpdate => ({
    provider: 'fake',
    jobId,
    status,
    ...extra,
  });

  /** Polls answer from `script` in order (the last answer repeats). */
  function fakeProvider(script: Array<ProviderJobUpdate | Error>) {
    let polls = 0;
    return recordingActivities({
      pollJob: () => {
        const answer = script[Math.min(polls++, script.length - 1)]!;
        if (answer instanceof Error) throw answer;
        return answer;
      },
      cancelJob: () => undefined,
      recordJobUpdate: () => undefined,
    });
  }

  let queue = 0;
  async function start(activities: object, jobIds: string[], deadline = '1 hour') {
    const taskQueue = `provider-jobs-${++queue}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
    const handle = await env.client.workflow.start('awaitProviderJobsWorkflow', {
      workflowId: `provider-jobs-${queue}`,
      taskQueue,
      args: [{ jobIds, deadline }],
    });
    return { worker, handle };
  }

  it('webhook first: a succeeded signal ends the wait before any poll', async () => {
    const fake = fakeProvider([update('j1', 'processing')]);
    const { worker, handle } = await start(fake.activities, ['j1']);
    await worker.runUntil(async () => {
      await handle.signal(providerJobUpdateSignal, update('j1', 'succeeded', { outputUrls: ['https://out/1.png'] }));
      expect(await handle.result()).toEqual([update('j1', 'succeeded', { outputUrls: ['https://out/1.png'] })]);
    });
    expect(fake.named('pollJob')).toHaveLength(0);
    expect(fake.args<ProviderJobUpdate>('recordJobUpdate').map((u) => u.status)).toEqual(['succeeded']);
  });

  it('poll first: without webhooks it polls on growing intervals and reports each change once', async () => {
    const fake = fakeProvider([
      update('j2', 'processing', { progress: 30, etaSeconds: 70 }),
      update('j2', 'processing', { progress: 30, etaSeconds: 70 }),
      update('j2', 'processing', { progress: 60, etaSeconds: 40 }),
      update('j2', 'succeeded', { progress: 100, outputUrls: ['https://out/2.png'] }),
    ]);
    const { worker, handle } = await start(fake.activities, ['j2']);
    const startedAt = await env.currentTimeMs();
    await worker.runUntil(handle.result());
    const times = [startedAt, ...fake.named('pollJob').map((c) => c.at)];
    // 2 s, then doubling to the 16 s cap of the fixture's schedule.
    expect(times.slice(1).map((t, i) => Math.round((t - times[i]!) / 1000))).toEqual([2, 4, 8, 16]);
    expect(fake.args<ProviderJobUpdate>('recordJobUpdate').map((u) => [u.status, u.progress])).toEqual([
      ['processing', 30],
      ['processing', 60],
      ['succeeded', 100],
    ]);
  });

  it('fails ProviderJobFailed with the provider error, and a late non-terminal webhook cannot revive it', async () => {
    const fake = fakeProvider([update('j3', 'processing')]);
    const { worker, handle } = await start(fake.activities, ['j3']);
    const failure = await worker.runUntil(async () => {
      await handle.signal(providerJobUpdateSignal, update('j3', 'failed', { error: 'CUDA out of memory' }));
      await handle.signal(providerJobUpdateSignal, update('j3', 'processing', { progress: 90 }));
      return failureOf(handle.result());
    });
    expect(failure.type).toBe('ProviderJobFailed');
    expect(failure.message).toContain('CUDA out of memory');
    expect(fake.named('cancelJob')).toHaveLength(0);
  });

  it('fails ProviderJobCanceled when the provider reports the job canceled', async () => {
    const fake = fakeProvider([update('j4', 'canceled')]);
    const { worker, handle } = await start(fake.activities, ['j4']);
    expect((await worker.runUntil(failureOf(handle.result()))).type).toBe('ProviderJobCanceled');
  });

  it('fails ProviderJobLost when the poll finds the job gone (404)', async () => {
    const fake = fakeProvider([ApplicationFailure.nonRetryable('fake job j5 not found', 'ProviderJobLost')]);
    const { worker, handle } = await start(fake.activities, ['j5']);
    const failure = await worker.runUntil(failureOf(handle.result()));
    expect(failure).toEqual({ type: 'ProviderJobLost', message: 'fake job j5 not found' });
  });

  it('fails ProviderJobTimedOut past the deadline and cancels the job it gave up on', async () => {
    const fake = fakeProvider([update('j6', 'processing', { progress: 10 })]);
    const { worker, handle } = await start(fake.activities, ['j6'], '5 minutes');
    const startedAt = await env.currentTimeMs();
    const failure = await worker.runUntil(failureOf(handle.result()));
    expect(failure.type).toBe('ProviderJobTimedOut');
    expect((await env.currentTimeMs()) - startedAt).toBeGreaterThanOrEqual(5 * 60_000);
    expect(fake.args<string>('cancelJob')).toEqual(['j6']);
  });

  it('cancelling the run cancels the provider job exactly once and ends canceled', async () => {
    const fake = fakeProvider([update('j7', 'processing')]);
    const { worker, handle } = await start(fake.activities, ['j7']);
    const outcome = await worker.runUntil(async () => {
      await handle.signal(providerJobUpdateSignal, update('j7', 'processing', { progress: 5 }));
      // The first update is recorded once the run is waiting; cancel it then.
      while (fake.named('recordJobUpdate').length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await handle.cancel();
      return handle.result().catch((err: unknown) => err);
    });
    expect((outcome as Error).name).toBe('WorkflowFailedError');
    expect(((outcome as { cause?: Error }).cause as Error).name).toBe('CancelledFailure');
    expect(fake.args<string>('cancelJob')).toEqual(['j7']);
  });

  it('routes updates by job id when several jobs are in flight in one run', async () => {
    const fake = fakeProvider([update('never', 'processing')]);
    const { worker, handle } = await start(fake.activities, ['a', 'b']);
    const result = await worker.runUntil(async () => {
      await handle.signal(providerJobUpdateSignal, update('b', 'succeeded', { outputUrls: ['https://out/b.png'] }));
      await handle.signal(providerJobUpdateSignal, update('a', 'succeeded', { outputUrls: ['https://out/a.png'] }));
      return handle.result();
    });
    expect(result.map((u: ProviderJobUpdate) => [u.jobId, u.outputUrls])).toEqual([
      ['a', ['https://out/a.png']],
      ['b', ['https://out/b.png']],
    ]);
  });
});
