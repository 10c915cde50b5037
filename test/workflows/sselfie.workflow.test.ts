import { ApplicationFailure } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FailureType } from '../../schemas/failures';
import type { ProviderJobUpdate } from '../../schemas/provider-jobs';
import type { ImageGenerationInput, ImageGenerationResult, ModelTrainingInput, ModelTrainingResult } from '../../schemas/sselfie';
import { imageGenerationWorkflowId } from '../../workflows/image-generation/contract';
import { modelTrainingWorkflowId } from '../../workflows/model-training/contract';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { eventually } from '../helpers/eventually';
import { failureOf, recordingActivities, workerRunner } from '../helpers/workflow-tests';

type Reservation = { reservationId: string; amount?: number; reason?: string };

/**
 * SSELFIE training and image generation with fake activities on the time-skipping server: the
 * credits of a delivered item are committed, a failed item's are refunded once with the reason
 * kept, and a generation where some images fail commits per delivered image and refunds the rest.
 */
describe('SSELFIE workflows (time-skipping, fake activities)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(() => env?.teardown());
  const withWorker = workerRunner(() => env, 'sselfie-wf');
  const polling = { initialMs: 1_000, maxMs: 4_000 };

  /**
   * A fake Replicate: each job answers `processing` on its first poll and then ends as `outcomes`
   * says (succeeded unless listed; `lost` throws ProviderJobLost like a 404, `stalled` never ends).
   */
  function fakeActivities(
    outcomes: Record<string, 'failed' | 'lost' | 'stalled'> = {},
    overrides: Parameters<typeof recordingActivities>[1] = {},
  ) {
    const polls = new Map<string, number>();
    return recordingActivities(
      {
        recordRunStarted: () => undefined,
        recordRunProgress: () => undefined,
        recordRunClosed: () => undefined,
        reserveCredits: () => undefined,
        commitCredits: () => undefined,
        refundCredits: () => undefined,
        pollProviderJob: ({ jobId }: { jobId: string }): ProviderJobUpdate => {
          const count = (polls.get(jobId) ?? 0) + 1;
          polls.set(jobId, count);
          if (count === 1 || outcomes[jobId] === 'stalled')
            return { provider: 'replicate', jobId, status: 'processing', progress: 40, etaSeconds: 600 };
          if (outcomes[jobId] === 'lost')
            throw ApplicationFailure.nonRetryable(`replicate job ${jobId} is unknown to the provider (lost)`, FailureType.ProviderJobLost);
          if (outcomes[jobId] === 'failed') return { provider: 'replicate', jobId, status: 'failed', error: 'CUDA out of memory' };
          return { provider: 'replicate', jobId, status: 'succeeded', outputUrls: [`https://replicate.delivery/${jobId}.png`] };
        },
        cancelProviderJob: () => undefined,
        // Training
        startModelTraining: () => ({ provider: 'replicate', jobId: 'training-1', status: 'starting', created: true }),
        recordTrainingUpdate: () => undefined,
        completeModelTraining: () => ({ versionId: 'v-trained' }),
        endModelTraining: () => undefined,
        // Generation
        prepareImageGeneration: ({ generationId }: { generationId: string }) =>
          [0, 1, 2, 3].slice(0, Number(generationId.split('-').at(-1))).map((position) => ({ position, seed: 1000 + position })),
        startImagePrediction: ({ position }: { position: number }) => ({
          provider: 'replicate',
          jobId: `prediction-${position}`,
          status: 'starting',
          created: true,
        }),
        storeGeneratedImage: ({ position }: { position: number }) => ({ imageUrl: `file:///media/${position}.png` }),
        failGeneratedImage: () => undefined,
        endImageGeneration: () => undefined,
      },
      overrides,
    );
  }

  /** The run's result or its failure, read while the worker still runs. */
  const settled = async <T>(result: Promise<T>) => {
    const [outcome] = await Promise.allSettled([result]);
    return outcome.status === 'fulfilled'
      ? { value: outcome.value, failure: undefined }
      : { value: undefined, failure: await failureOf(result) };
  };

  async function train(fake: ReturnType<typeof fakeActivities>, modelId: string) {
    return withWorker(fake.activities, async (taskQueue) => {
      const input: ModelTrainingInput = { modelId, userId: 'user-1', credits: 20, mediaTaskQueue: taskQueue, polling };
      const handle = await env.client.workflow.start('modelTrainingWorkflow', {
        workflowId: modelTrainingWorkflowId(modelId),
        taskQueue,
        args: [input],
      });
      return { ...(await settled(handle.result() as Promise<ModelTrainingResult>)), runId: handle.firstExecutionRunId };
    });
  }

  /** `generationId` ends in the image count (gen-…-3: three images). */
  async function generate(
    fake: ReturnType<typeof fakeActivities>,
    generationId: string,
    { during, poll = polling }: { during?: (handle: WorkflowHandle) => Promise<void>; poll?: typeof polling } = {},
  ) {
    return withWorker(fake.activities, async (taskQueue) => {
      const count = Number(generationId.split('-').at(-1));
      const input: ImageGenerationInput = { generationId, userId: 'user-1', count, mediaTaskQueue: taskQueue, polling: poll };
      const handle = await env.client.workflow.start('imageGenerationWorkflow', {
        workflowId: imageGenerationWorkflowId(generationId),
        taskQueue,
        args: [input],
      });
      await during?.(handle);
      return { ...(await settled(handle.result() as Promise<ImageGenerationResult>)), runId: handle.firstExecutionRunId };
    });
  }

  const reservations = (fake: ReturnType<typeof fakeActivities>, name: 'reserveCredits' | 'commitCredits' | 'refundCredits') =>
    fake.args<Reservation>(name);

  describe('modelTrainingWorkflow', () => {
    it('reserves the credits, records progress, activates the trained version and commits the credits once', async () => {
      const fake = fakeActivities();
      const { value, runId } = await train(fake, 'model-ok');
      expect(value).toEqual({ modelId: 'model-ok', versionId: 'v-trained' });
      expect(reservations(fake, 'reserveCredits')).toEqual([expect.objectContaining({ reservationId: `${runId}:training`, amount: 20 })]);
      expect(fake.args('recordTrainingUpdate')).toContainEqual({
        modelId: 'model-ok',
        update: expect.objectContaining({ status: 'processing', progress: 40, etaSeconds: 600 }),
      });
      expect(fake.args('completeModelTraining')).toEqual([{ modelId: 'model-ok', trainingId: 'training-1' }]);
      expect(reservations(fake, 'commitCredits')).toEqual([{ reservationId: `${runId}:training` }]);
      expect(fake.named('refundCredits')).toHaveLength(0);
      expect(fake.named('endModelTraining')).toHaveLength(0);
      // The credits are committed only once the model is active.
      const order = fake.calls.map((c) => c.name);
      expect(order.indexOf('commitCredits')).toBeGreaterThan(order.indexOf('completeModelTraining'));
    });

    it.each([
      ['failed', FailureType.ProviderJobFailed, 'CUDA out of memory'],
      ['lost', FailureType.ProviderJobLost, 'unknown to the provider'],
    ] as const)('a training the provider %s is refunded once and keeps the reason (%s)', async (outcome, type, reason) => {
      const fake = fakeActivities({ 'training-1': outcome });
      const { failure, runId } = await train(fake, `model-${outcome}`);
      expect(failure).toMatchObject({ type, message: expect.stringContaining(reason) });
      expect(fake.named('commitCredits')).toHaveLength(0);
      expect(fake.named('completeModelTraining')).toHaveLength(0);
      expect(reservations(fake, 'refundCredits')).toEqual([
        { reservationId: `${runId}:training`, reason: expect.stringContaining(reason) },
      ]);
      expect(fake.args('endModelTraining')).toEqual([
        { modelId: `model-${outcome}`, status: 'failed', reason: expect.stringContaining(reason) },
      ]);
    });
  });

  describe('imageGenerationWorkflow', () => {
    it('commits one credit per delivered image and ends completed', async () => {
      const fake = fakeActivities();
      const { value, runId } = await generate(fake, 'gen-ok-2');
      expect(value).toEqual({ generationId: 'gen-ok-2', delivered: 2, failed: 0 });
      expect(reservations(fake, 'reserveCredits').map((r) => [r.reservationId, r.amount])).toEqual([
        [`${runId}:image-0`, 1],
        [`${runId}:image-1`, 1],
      ]);
      expect(
        reservations(fake, 'commitCredits')
          .map((r) => r.reservationId)
          .sort(),
      ).toEqual([`${runId}:image-0`, `${runId}:image-1`]);
      expect(fake.named('refundCredits')).toHaveLength(0);
      expect(fake.args('startImagePrediction').map((i: any) => [i.position, i.seed])).toEqual(
        expect.arrayContaining([
          [0, 1000],
          [1, 1001],
        ]),
      );
      expect(fake.args('endImageGeneration')).toEqual([{ generationId: 'gen-ok-2', status: 'completed', reason: null }]);
    });

    it('a partial generation commits per delivered image and refunds the failed one once, keeping its reason', async () => {
      const fake = fakeActivities({ 'prediction-1': 'failed' });
      const { value, runId } = await generate(fake, 'gen-partial-3');
      expect(value).toEqual({ generationId: 'gen-partial-3', delivered: 2, failed: 1 });
      expect(
        reservations(fake, 'commitCredits')
          .map((r) => r.reservationId)
          .sort(),
      ).toEqual([`${runId}:image-0`, `${runId}:image-2`]);
      expect(reservations(fake, 'refundCredits')).toEqual([
        { reservationId: `${runId}:image-1`, reason: expect.stringContaining('CUDA out of memory') },
      ]);
      expect(fake.args('failGeneratedImage')).toEqual([
        { generationId: 'gen-partial-3', position: 1, reason: expect.stringContaining('CUDA out of memory') },
      ]);
      expect(fake.args('storeGeneratedImage').map((i: any) => i.position)).not.toContain(1);
      expect(fake.args('endImageGeneration')).toEqual([
        { generationId: 'gen-partial-3', status: 'partial', reason: '1 of 3 images failed' },
      ]);
    });

    it('fails GenerationFailed when no image is delivered: every credit refunded once, nothing committed', async () => {
      const fake = fakeActivities({ 'prediction-0': 'failed', 'prediction-1': 'lost' });
      const { failure, runId } = await generate(fake, 'gen-none-2');
      expect(failure).toMatchObject({ type: FailureType.GenerationFailed });
      expect(fake.named('commitCredits')).toHaveLength(0);
      expect(
        reservations(fake, 'refundCredits')
          .map((r) => r.reservationId)
          .sort(),
      ).toEqual([`${runId}:image-0`, `${runId}:image-1`]);
      expect(fake.args('endImageGeneration')).toEqual([
        { generationId: 'gen-none-2', status: 'failed', reason: 'no image could be generated' },
      ]);
    });

    it("a cancel during an image's commit waits for it: that image stays paid, only the undelivered ones are refunded", async () => {
      let releaseCommit = () => {};
      const commitHeld = new Promise<void>((resolve) => (releaseCommit = resolve));
      const fake = fakeActivities({ 'prediction-1': 'stalled' }, { commitCredits: () => commitHeld });
      const { failure, runId } = await generate(fake, 'gen-cancel-2', {
        // Real-time polls here: the server skips time only while a result is awaited.
        poll: { initialMs: 100, maxMs: 200 },
        during: async (handle) => {
          await eventually(
            async () => fake.named('commitCredits').length,
            (n) => n === 1,
            'image 0 committing',
          );
          await handle.cancel();
          // The cancel has reached the workflow (image 1's prediction is being cancelled) while image 0's commit still runs.
          await eventually(
            async () => fake.args('cancelProviderJob'),
            (jobs) => jobs.length === 1,
            'image 1 canceled',
          );
          releaseCommit();
        },
      });
      expect(failure?.message).toMatch(/cancel/i);
      expect(fake.args('cancelProviderJob')).toEqual([expect.objectContaining({ jobId: 'prediction-1' })]);
      expect(reservations(fake, 'commitCredits')).toEqual([{ reservationId: `${runId}:image-0` }]);
      expect(reservations(fake, 'refundCredits')).toEqual([{ reservationId: `${runId}:image-1`, reason: expect.any(String) }]);
      expect(fake.args('endImageGeneration')).toEqual([{ generationId: 'gen-cancel-2', status: 'canceled', reason: expect.any(String) }]);
    });
  });
});
