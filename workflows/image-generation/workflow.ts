import { ApplicationFailure, CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ProviderJobActivities } from '../../activities/provider-jobs';
import type { SselfieActivities, SselfieMediaActivities } from '../../activities/sselfie';
import { FailureType, PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import { IMAGE_CREDIT_COST, type ImageGenerationInput, type ImageGenerationResult } from '../../schemas/sselfie';
import { databaseWrites } from '../common/activity-options';
import { CreditHold } from '../common/credit-holds';
import { failureMessage } from '../common/failures';
import { providerJobRequests, watchProviderJobs } from '../common/provider-jobs';
import { trackRun } from '../common/run-tracking';
import { IMAGE_GENERATION_JOB_TYPE } from './contract';

const rows = proxyActivities<SselfieActivities>(databaseWrites({ maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }));
const submits = proxyActivities<SselfieActivities>(providerJobRequests());
const providerJobs = proxyActivities<ProviderJobActivities>(providerJobRequests());

/** A prediction takes seconds to a few minutes; past this it is cancelled and that image refunded. */
const PREDICTION_DEADLINE = '30 minutes';

/**
 * SSELFIE images: one credit reserved per image → one prediction per image on the user's
 * trained version (created once per image) → each awaited by webhook or poll, downloaded and
 * stored with its prompt and seed → its credit committed. An image that fails is refunded alone;
 * the generation ends completed, partial or failed (none delivered). Cancelling the run cancels
 * the predictions still running and refunds what was not delivered.
 */
export async function imageGenerationWorkflow(input: ImageGenerationInput): Promise<ImageGenerationResult> {
  const jobs = watchProviderJobs();
  const media = proxyActivities<SselfieMediaActivities>(providerJobRequests(input.mediaTaskQueue));
  const { generationId, count } = input;
  return trackRun({ type: IMAGE_GENERATION_JOB_TYPE, userId: input.userId, domainId: generationId }, async (run) => {
    const holds: CreditHold[] = [];
    let delivered = 0;

    /** One image end to end; false when it failed (refunded), a cancellation is rethrown. */
    const generate = async (image: { position: number; seed: number }): Promise<boolean> => {
      const hold = holds[image.position]!;
      try {
        const job = await submits.startImagePrediction({ generationId, ...image, workflowId: workflowInfo().workflowId });
        const done = await jobs.awaitJob({
          provider: job.provider,
          jobId: job.jobId,
          poll: () => providerJobs.pollProviderJob({ provider: job.provider, jobId: job.jobId, kind: 'prediction' }),
          cancel: () => providerJobs.cancelProviderJob({ provider: job.provider, jobId: job.jobId, kind: 'prediction' }),
          deadline: PREDICTION_DEADLINE,
          polling: { initial: input.polling.initialMs, max: input.polling.maxMs, factor: 2 },
        });
        const outputUrl = done.outputUrls?.[0];
        if (!outputUrl)
          throw ApplicationFailure.nonRetryable(`prediction ${job.jobId} succeeded without an image`, FailureType.ProviderJobFailed);
        await media.storeGeneratedImage({ generationId, position: image.position, outputUrl });
        await hold.commit();
        delivered += 1;
        await run.stage('generating', 10 + (90 * delivered) / count, { delivered });
        return true;
      } catch (err) {
        if (isCancellation(err)) throw err;
        const reason = failureMessage(err);
        await rows.failGeneratedImage({ generationId, position: image.position, reason });
        await hold.refund(`image ${image.position + 1} of generation ${generationId}: ${reason}`);
        return false;
      }
    };

    try {
      await run.stage('reserving-credits', 5);
      for (let position = 0; position < count; position++)
        holds.push(
          await CreditHold.reserve({
            userId: input.userId,
            amount: IMAGE_CREDIT_COST,
            item: `image-${position}`,
            reason: `image generation ${generationId}`,
          }),
        );
      const images = await rows.prepareImageGeneration({ generationId });
      await run.stage('generating', 10, { delivered: 0 });
      // Every image settles before a cancellation is handled below, so no hold is refunded mid-commit.
      const outcomes = await Promise.allSettled(images.map(generate));
      const cancelled = outcomes.find((outcome) => outcome.status === 'rejected');
      if (cancelled) throw cancelled.reason;
    } catch (err) {
      const reason = failureMessage(err);
      await CancellationScope.nonCancellable(async () => {
        for (const hold of holds) await hold.refund(`image generation ${generationId}: ${reason}`);
        await rows.endImageGeneration({ generationId, status: isCancellation(err) ? 'canceled' : 'failed', reason });
      });
      throw err;
    }
    const failed = count - delivered;
    if (delivered === 0) {
      await rows.endImageGeneration({ generationId, status: 'failed', reason: 'no image could be generated' });
      throw ApplicationFailure.nonRetryable(`no image of generation ${generationId} could be generated`, FailureType.GenerationFailed);
    }
    await rows.endImageGeneration({
      generationId,
      status: failed === 0 ? 'completed' : 'partial',
      reason: failed === 0 ? null : `${failed} of ${count} images failed`,
    });
    return { generationId, delivered, failed };
  });
}
