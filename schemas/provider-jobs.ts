import { z } from 'zod';

/**
 * Where a long job at an AI/media provider (a Replicate training or prediction, a transcript, a
 * Freepik task) stands, in one vocabulary: each adapter maps its provider's statuses onto it.
 */
export const PROVIDER_JOB_STATUSES = ['queued', 'processing', 'succeeded', 'failed', 'canceled'] as const;
export const ProviderJobStatusSchema = z.enum(PROVIDER_JOB_STATUSES);
export type ProviderJobStatus = z.infer<typeof ProviderJobStatusSchema>;

export const TERMINAL_PROVIDER_JOB_STATUSES: readonly ProviderJobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isTerminalProviderJobStatus = (status: ProviderJobStatus): boolean => TERMINAL_PROVIDER_JOB_STATUSES.includes(status);

/**
 * One observation of a provider job, from a verified webhook (delivered as a signal) or a poll.
 * Small on purpose: it travels through workflow history, so outputs are URLs, never blobs.
 */
export const ProviderJobUpdateSchema = z.object({
  /** The provider's name as used in `POST /v1/webhooks/:provider` and provider_jobs.provider. */
  provider: z.string().min(1),
  jobId: z.string().min(1),
  status: ProviderJobStatusSchema,
  /** 0–100 when the provider reports it (or it can be derived from its logs). */
  progress: z.number().min(0).max(100).optional(),
  etaSeconds: z.number().min(0).optional(),
  outputUrls: z.array(z.string()).optional(),
  /** The provider's own error text on `failed`. */
  error: z.string().optional(),
});
export type ProviderJobUpdate = z.infer<typeof ProviderJobUpdateSchema>;

/** What a submit activity returns: the job to await (the provider's id) and its first status. */
export const SubmittedProviderJobSchema = z.object({
  provider: z.string(),
  jobId: z.string(),
  status: ProviderJobStatusSchema,
  /** False when an earlier attempt had already created it (found by our idempotency key). */
  created: z.boolean(),
});
export type SubmittedProviderJob = z.infer<typeof SubmittedProviderJobSchema>;
