import { CancellationScope, isCancellation, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { ProviderJobActivities } from '../../activities/provider-jobs';
import type { SselfieActivities, SselfieMediaActivities } from '../../activities/sselfie';
import { PERMANENT_FAILURE_TYPES } from '../../schemas/failures';
import type { ModelTrainingInput, ModelTrainingResult } from '../../schemas/sselfie';
import { databaseWrites } from '../common/activity-options';
import { CreditHold } from '../common/credit-holds';
import { failureMessage } from '../common/failures';
import { providerJobRequests, watchProviderJobs } from '../common/provider-jobs';
import { trackRun } from '../common/run-tracking';
import { MODEL_TRAINING_JOB_TYPE } from './contract';

const rows = proxyActivities<SselfieActivities>(databaseWrites({ maximumAttempts: 10, nonRetryableErrorTypes: PERMANENT_FAILURE_TYPES }));
const providerJobs = proxyActivities<ProviderJobActivities>(providerJobRequests());

/** A LoRA training takes tens of minutes at Replicate; past this it is cancelled and refunded. */
const TRAINING_DEADLINE = '3 hours';

/**
 * SSELFIE personal model: reserve the credits → create the training at Replicate (once per
 * model) → wait for its webhook or poll (progress and ETA written to training_runs) → store the
 * new version and weights and make it the user's active model → commit the credits. A failure
 * or cancel refunds once and keeps the reason; cancelling the run cancels the training.
 */
export async function modelTrainingWorkflow(input: ModelTrainingInput): Promise<ModelTrainingResult> {
  const jobs = watchProviderJobs();
  // Zipping and uploading the selfies runs where the media store is.
  const media = proxyActivities<SselfieMediaActivities>(providerJobRequests(input.mediaTaskQueue));
  return trackRun({ type: MODEL_TRAINING_JOB_TYPE, userId: input.userId, domainId: input.modelId }, async (run) => {
    let hold: CreditHold | undefined;
    try {
      await run.stage('reserving-credits', 5);
      hold = await CreditHold.reserve({
        userId: input.userId,
        amount: input.credits,
        item: 'training',
        reason: `model training ${input.modelId}`,
      });
      await run.stage('submitting', 10);
      const job = await media.startModelTraining({ modelId: input.modelId, workflowId: workflowInfo().workflowId });
      await run.stage('training', 15);
      await jobs.awaitJob({
        provider: job.provider,
        jobId: job.jobId,
        poll: () => providerJobs.pollProviderJob({ provider: job.provider, jobId: job.jobId, kind: 'training' }),
        cancel: () => providerJobs.cancelProviderJob({ provider: job.provider, jobId: job.jobId, kind: 'training' }),
        deadline: TRAINING_DEADLINE,
        polling: { initial: input.polling.initialMs, max: input.polling.maxMs, factor: 2 },
        onUpdate: async (update) => {
          await rows.recordTrainingUpdate({ modelId: input.modelId, update });
          // The run's own progress follows the training's: 15 % submitted … 95 % trained.
          await run.stage('training', 15 + (update.progress ?? 0) * 0.8);
        },
      });
      await run.stage('activating', 95);
      const { versionId } = await rows.completeModelTraining({ modelId: input.modelId, trainingId: job.jobId });
      await hold.commit();
      return { modelId: input.modelId, versionId };
    } catch (err) {
      const reason = failureMessage(err);
      // Also when the run is being cancelled: the credits come back once and the row says why.
      await CancellationScope.nonCancellable(async () => {
        await hold?.refund(`model training ${input.modelId}: ${reason}`);
        await rows.endModelTraining({ modelId: input.modelId, status: isCancellation(err) ? 'canceled' : 'failed', reason });
      });
      throw err;
    }
  });
}
