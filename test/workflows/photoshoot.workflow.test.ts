import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ProviderJobUpdate } from '../../schemas/provider-jobs';
import type { PhotoshootInput, PhotoshootResult } from '../../schemas/sselfie-photoshoots';
import { photoshootGridWorkflowId, photoshootWorkflowId } from '../../workflows/photoshoot/contract';
import { PARALLEL_GRIDS } from '../../workflows/photoshoot/workflow';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { recordingActivities, workerRunner } from '../helpers/workflow-tests';

/**
 * The photoshoot fan-out with fake activities on the time-skipping server: one child run per grid,
 * at most PARALLEL_GRIDS generating at once; each delivered grid's credits committed, a failed
 * grid's refunded alone, and the session ends partially_completed.
 */
describe('photoshootWorkflow (time-skipping, fake activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());
  const withWorker = workerRunner(() => env, 'photoshoot-wf');

  /** Fake provider: every grid's prediction takes a few polls; `failing` grids end failed. */
  function fakeActivities(failing: Set<number>) {
    let generating = 0;
    let maxGenerating = 0;
    const polls = new Map<string, number>();
    const fake = recordingActivities({
      recordRunStarted: () => undefined,
      recordRunProgress: () => undefined,
      recordRunClosed: () => undefined,
      reserveCredits: () => undefined,
      commitCredits: () => undefined,
      refundCredits: () => undefined,
      startGridPrediction: ({ position }: { position: number }) => {
        generating += 1;
        maxGenerating = Math.max(maxGenerating, generating);
        return { provider: 'replicate', jobId: `grid-job-${position}`, status: 'queued', created: true };
      },
      pollProviderJob: ({ jobId }: { jobId: string }): ProviderJobUpdate => {
        const count = (polls.get(jobId) ?? 0) + 1;
        polls.set(jobId, count);
        if (count < 3) return { provider: 'replicate', jobId, status: 'processing', progress: count * 30 };
        const position = Number(jobId.split('-').at(-1));
        if (failing.has(position)) {
          generating -= 1;
          return { provider: 'replicate', jobId, status: 'failed', error: 'NSFW content detected' };
        }
        return { provider: 'replicate', jobId, status: 'succeeded', outputUrls: [`https://replicate.delivery/${jobId}.png`] };
      },
      cancelProviderJob: () => undefined,
      storePhotoshootGrid: () => {
        generating -= 1;
        return { frames: 9 };
      },
      failPhotoshootGrid: () => undefined,
      endPhotoshoot: () => undefined,
    });
    return { ...fake, maxGenerating: () => maxGenerating };
  }

  it('fans out one child per grid, at most PARALLEL_GRIDS at once; the failed grid alone is refunded', async () => {
    const gridCount = 5;
    const fake = fakeActivities(new Set([1]));
    const result = await withWorker(fake.activities, async (taskQueue) => {
      const input: PhotoshootInput = {
        sessionId: 'session-1',
        userId: 'user-1',
        gridCount,
        mediaTaskQueue: taskQueue,
        polling: { initialMs: 1_000, maxMs: 4_000 },
      };
      const handle = await env.client.workflow.start('photoshootWorkflow', {
        workflowId: photoshootWorkflowId('session-1'),
        taskQueue,
        args: [input],
      });
      const value = (await handle.result()) as PhotoshootResult;
      for (let position = 0; position < gridCount; position++)
        expect((await env.client.workflow.getHandle(photoshootGridWorkflowId('session-1', position)).describe()).type).toBe(
          'photoshootGridWorkflow',
        );
      return { value, runId: handle.firstExecutionRunId };
    });

    expect(result.value).toEqual({ sessionId: 'session-1', gridsCompleted: 4, gridsFailed: 1 });
    expect(PARALLEL_GRIDS).toBeLessThan(gridCount);
    expect(fake.maxGenerating()).toBe(PARALLEL_GRIDS);
    expect(fake.args<{ reservationId: string }>('reserveCredits').map((r) => r.reservationId)).toEqual(
      Array.from({ length: gridCount }, (_, i) => `${result.runId}:grid-${i}`),
    );
    expect(fake.args<{ reservationId: string }>('refundCredits').map((r) => r.reservationId)).toEqual([`${result.runId}:grid-1`]);
    expect(
      fake
        .args<{ reservationId: string }>('commitCredits')
        .map((r) => r.reservationId)
        .sort(),
    ).toEqual([0, 2, 3, 4].map((i) => `${result.runId}:grid-${i}`));
    expect(fake.args('failPhotoshootGrid')).toEqual([
      { sessionId: 'session-1', position: 1, reason: expect.stringContaining('NSFW content detected') },
    ]);
    expect(fake.args('endPhotoshoot')).toEqual([{ sessionId: 'session-1', status: 'partially_completed', reason: '1 of 5 grids failed' }]);
  });
});
