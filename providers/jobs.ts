import type { ProviderJobUpdate } from '../schemas/provider-jobs';

/**
 * What the generic provider-job activities (activities/provider-jobs.ts) need of an adapter whose
 * provider runs long jobs (Replicate, AssemblyAI, Freepik): read a job's status and cancel it.
 */
export interface ProviderJobClient {
  readonly provider: string;
  /** The job's status now, or null when the provider does not know it (404: lost). `kind` is provider_jobs.kind. */
  getJob(job: { jobId: string; kind: string }): Promise<ProviderJobUpdate | null>;
  /** Cancels the job; a finished or unknown job is left as it is. */
  cancelJob(job: { jobId: string; kind: string }): Promise<void>;
}

/** A webhook that passed its provider's signature check, normalised. */
export interface VerifiedProviderWebhook {
  /** The provider's delivery id (Standard Webhooks `webhook-id`): the same delivery retried keeps it. */
  deliveryId: string;
  update: ProviderJobUpdate;
}

/** A bad, missing or stale signature, or a signed body we cannot read: the route answers 400. */
export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/** Checks an inbound webhook of one provider over the raw body and normalises it to a ProviderJobUpdate. */
export interface ProviderWebhookVerifier {
  readonly provider: string;
  verify(rawBody: Buffer, header: (name: string) => string | undefined): Promise<VerifiedProviderWebhook>;
}
