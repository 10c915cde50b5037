import {
  claimProviderJob,
  recordProviderJobCreated,
  recordProviderJobStatus,
  type ProviderJobClaim,
} from '../db/repositories/provider-jobs';
import type { Db } from '../db/database';
import { FailureType } from '../schemas/failures';
import type { ProviderJobStatus, ProviderJobUpdate, SubmittedProviderJob } from '../schemas/provider-jobs';
import { nonRetryable } from './common';
import type { ActivityDeps } from './deps';

/**
 * Submits a provider job at most once per idempotency key (derived from our ids): the provider_jobs
 * row is claimed first, so a retried or re-run activity finds the job an earlier attempt created
 * and never creates a second one. Only a crash between the provider's answer and the row update
 * (milliseconds) can leave one orphan job at a provider without idempotency keys (Replicate); the
 * retry then creates the job the run uses, and the orphan's webhooks are ignored (unknown job).
 */
export async function submitProviderJobOnce(
  db: Db,
  claim: ProviderJobClaim,
  create: () => Promise<{ jobId: string; status: ProviderJobStatus }>,
): Promise<SubmittedProviderJob> {
  const row = await claimProviderJob(db, claim);
  if (row.provider_job_id !== null)
    return {
      provider: claim.provider,
      jobId: row.provider_job_id,
      status: row.status === 'submitting' ? 'queued' : row.status,
      created: false,
    };
  const job = await create();
  await recordProviderJobCreated(db, {
    provider: claim.provider,
    idempotencyKey: claim.idempotencyKey,
    providerJobId: job.jobId,
    status: job.status,
  });
  return { provider: claim.provider, jobId: job.jobId, status: job.status, created: true };
}

/** The job a poll or cancel concerns: provider_jobs.provider, provider_job_id and kind. */
export interface ProviderJobRef {
  provider: string;
  jobId: string;
  kind: string;
}

/**
 * Polling and cancelling, once for every provider: the workflow helper
 * (workflows/common/provider-jobs.ts) calls these with the job a process submitted. The adapter
 * comes from `providers.jobClient(provider)`.
 */
export function createProviderJobActivities(deps: ActivityDeps) {
  const { db, providers, logger } = deps;
  return {
    /** The job's status now, recorded on its provider_jobs row; a job the provider forgot fails ProviderJobLost. */
    async pollProviderJob(job: ProviderJobRef): Promise<ProviderJobUpdate> {
      const update = await providers.jobClient(job.provider).getJob(job);
      if (!update)
        throw nonRetryable(`${job.provider} ${job.kind} ${job.jobId} is unknown to the provider (lost)`, FailureType.ProviderJobLost);
      await recordProviderJobStatus(db, job.provider, job.jobId, update);
      return update;
    },

    /** Cancels the job at the provider (idempotent: a finished job is left alone). */
    async cancelProviderJob(job: ProviderJobRef): Promise<void> {
      await providers.jobClient(job.provider).cancelJob(job);
      await recordProviderJobStatus(db, job.provider, job.jobId, { status: 'canceled' });
      logger.info({ provider: job.provider, jobId: job.jobId, kind: job.kind }, 'provider job canceled');
    },
  };
}

export type ProviderJobActivities = ReturnType<typeof createProviderJobActivities>;
