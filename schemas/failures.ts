import { z } from 'zod';

/**
 * `ApplicationFailure.type` names that activities throw, workflows branch on and the API maps to
 * problem+json, so both sides read one list.
 *
 * Provider failures (classified in providers/errors.ts): non-retryable ProviderAuth, QuotaExceeded,
 * InvalidInput, NotFound, PaymentFailed, TranscriptUnavailable (retrying cannot help); retryable
 * RateLimited, ProviderUnavailable, ProviderTimeout (Temporal retries with backoff or the
 * provider's Retry-After). YouTube's daily budget reuses QuotaExceeded as a retryable wait (see
 * providers/youtube/quota.ts). Media and run outcomes: InvalidMedia, MediaToolMissing and
 * NoClipMoments are permanent; GenerationFailed and ClipRenderFailed end a run that produced nothing.
 */
export const FailureType = {
  ProviderAuth: 'ProviderAuth',
  QuotaExceeded: 'QuotaExceeded',
  InvalidInput: 'InvalidInput',
  NotFound: 'NotFound',
  PaymentFailed: 'PaymentFailed',
  TranscriptUnavailable: 'TranscriptUnavailable',
  RateLimited: 'RateLimited',
  ProviderUnavailable: 'ProviderUnavailable',
  ProviderTimeout: 'ProviderTimeout',
  InvalidMedia: 'InvalidMedia',
  MediaToolMissing: 'MediaToolMissing',
  NoClipMoments: 'NoClipMoments',
  GenerationFailed: 'GenerationFailed',
  ClipRenderFailed: 'ClipRenderFailed',
  // Product scrapes (EcomVideo AI): robots.txt forbids the page, or the page describes no product.
  BlockedByRobots: 'BlockedByRobots',
  NotAProduct: 'NotAProduct',
  // Long provider jobs (workflows/common/provider-jobs.ts): the provider reported failure or
  // cancellation, forgot the job (404 on poll), or it ran past the run's deadline.
  ProviderJobFailed: 'ProviderJobFailed',
  ProviderJobCanceled: 'ProviderJobCanceled',
  ProviderJobLost: 'ProviderJobLost',
  ProviderJobTimedOut: 'ProviderJobTimedOut',
  // Outgoing webhooks: one delivery attempt got no 2xx; retried with the delivery's backoff.
  WebhookAttemptFailed: 'WebhookAttemptFailed',
} as const;
export const FailureTypeSchema = z.enum(FailureType);
export type FailureType = z.infer<typeof FailureTypeSchema>;

/**
 * Failures no retry can fix: workflows pass them as `nonRetryableErrorTypes`. Activities already
 * throw them non-retryable; the policy makes it explicit. QuotaExceeded is listed, so activities
 * that wait out YouTube's daily budget must not use this list.
 */
export const PERMANENT_FAILURE_TYPES: FailureType[] = [
  FailureType.InvalidInput,
  FailureType.InvalidMedia,
  FailureType.NotFound,
  FailureType.ProviderAuth,
  FailureType.QuotaExceeded,
  FailureType.TranscriptUnavailable,
  FailureType.NoClipMoments,
  FailureType.MediaToolMissing,
  FailureType.BlockedByRobots,
  FailureType.NotAProduct,
];

/**
 * The permanent failures of activities that call YouTube: QuotaExceeded there is the daily unit
 * budget, thrown retryable with the time until the Pacific reset, so the retry waits for it (a
 * plan quota is thrown non-retryable by the activity itself).
 */
export const PERMANENT_YOUTUBE_FAILURE_TYPES: FailureType[] = PERMANENT_FAILURE_TYPES.filter((type) => type !== FailureType.QuotaExceeded);
