import { ApplicationFailure } from '@temporalio/common';
import Replicate, { type Prediction, type Training } from 'replicate';
import { Webhook } from 'standardwebhooks';
import { FailureType } from '../schemas/failures';
import type { ProviderJobStatus, ProviderJobUpdate } from '../schemas/provider-jobs';
import type { ProviderCall } from './call';
import { WebhookVerificationError, type ProviderJobClient, type ProviderWebhookVerifier, type VerifiedProviderWebhook } from './jobs';

export const REPLICATE = 'replicate';
export type ReplicateJobKind = 'training' | 'prediction';

export interface ReplicateAdapterOptions {
  auth: string;
  /** The API root including `/v1`; unset → api.replicate.com. */
  baseUrl?: string;
  call: ProviderCall;
  /** The `whsec_` signing secret; unset → read once from Replicate's GET /v1/webhooks/default/secret. */
  webhookSecret?: string;
  /** Where Replicate sends job webhooks (our public `/v1/webhooks/replicate`); unset → no webhooks, polling only. */
  webhookUrl?: string;
  /** The trainer `owner/name:version` personal models are fine-tuned with. */
  trainer: string;
  /** The Replicate account personal models are created under. */
  modelOwner: string;
  /** The image-to-video model `owner/name:version` animations run on. */
  animationModel: string;
}

/** A job as created: its id and first status. */
export interface ReplicateJobStart {
  jobId: string;
  status: ProviderJobStatus;
}

const STATUS: Record<Training['status'], ProviderJobStatus> = {
  starting: 'queued',
  processing: 'processing',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
  // Replicate stopped it at its own deadline: a failure, not our cancel.
  aborted: 'failed',
};

/** The last percentage a trainer's progress bar printed ("… 45%|████"), if any. */
function progressFromLogs(logs: string | undefined): number | undefined {
  const matches = logs?.match(/(\d{1,3})%/g);
  const last = matches?.at(-1);
  return last === undefined ? undefined : Math.min(100, Number.parseInt(last, 10));
}

const urlsOf = (output: unknown): string[] => {
  if (typeof output === 'string') return /^https?:\/\//.test(output) ? [output] : [];
  if (Array.isArray(output)) return output.flatMap(urlsOf);
  if (output && typeof output === 'object' && 'weights' in output) return urlsOf(output.weights);
  return [];
};

/** A Replicate prediction or training in the platform's provider-job vocabulary. */
export function replicateJobUpdate(job: Prediction | Training, now: number = Date.now()): ProviderJobUpdate {
  const status = STATUS[job.status];
  const progress = status === 'succeeded' ? 100 : progressFromLogs(job.logs);
  const startedAt = job.started_at ? Date.parse(job.started_at) : undefined;
  // Remaining time at the rate so far: only once it has run and reported some progress.
  const etaSeconds =
    status === 'processing' && startedAt !== undefined && progress !== undefined && progress > 0 && progress < 100
      ? Math.round((((now - startedAt) / 1000) * (100 - progress)) / progress)
      : undefined;
  const outputUrls = status === 'succeeded' ? urlsOf(job.output) : undefined;
  const error =
    job.error == null
      ? job.status === 'aborted'
        ? 'aborted by Replicate'
        : undefined
      : typeof job.error === 'string'
        ? job.error
        : JSON.stringify(job.error);
  return {
    provider: REPLICATE,
    jobId: job.id,
    status,
    ...(progress === undefined ? {} : { progress }),
    ...(etaSeconds === undefined ? {} : { etaSeconds }),
    ...(outputUrls === undefined ? {} : { outputUrls }),
    ...(error === undefined || status !== 'failed' ? {} : { error }),
  };
}

/** The SDK call's result, or null when Replicate answered 404. */
async function orNullWhenNotFound<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === FailureType.NotFound) return null;
    throw err;
  }
}

/**
 * Replicate through its SDK (`replicate`): LoRA trainings and predictions, both long jobs we do
 * not wait on in the activity. Webhooks are verified with `standardwebhooks` (the SDK's own
 * validateWebhook skips the timestamp check and is not constant-time).
 */
export class ReplicateAdapter implements ProviderJobClient, ProviderWebhookVerifier {
  readonly provider = REPLICATE;
  private readonly client: Replicate;
  private signer?: Promise<Webhook>;

  get modelOwner(): string {
    return this.options.modelOwner;
  }

  constructor(private readonly options: ReplicateAdapterOptions) {
    this.client = new Replicate({ auth: options.auth, baseUrl: options.baseUrl, useFileOutput: false });
  }

  private get webhook() {
    return this.options.webhookUrl
      ? { webhook: this.options.webhookUrl, webhook_events_filter: ['start' as const, 'logs' as const, 'completed' as const] }
      : {};
  }

  /** Creates the private model a training's versions go to, unless it exists. */
  async ensureModel(owner: string, name: string): Promise<void> {
    if (await orNullWhenNotFound(this.options.call(() => this.client.models.get(owner, name)))) return;
    await this.options.call(() => this.client.models.create(owner, name, { visibility: 'private', hardware: 'cpu' }));
  }

  /** Uploads a file (the training images zip) and returns the URL Replicate serves it from. */
  async uploadFile(bytes: Buffer, filename: string, contentType: string): Promise<string> {
    const file = await this.options.call(() =>
      this.client.files.create(new File([new Uint8Array(bytes)], filename, { type: contentType })),
    );
    return file.urls.get;
  }

  /** Starts a fine-tune with the configured trainer whose result becomes a version of `destination` (`owner/name`). */
  async createTraining(input: { destination: `${string}/${string}`; input: object }): Promise<ReplicateJobStart> {
    const [owner, rest] = this.options.trainer.split('/') as [string, string];
    const [name, version] = rest.split(':') as [string, string];
    const training = await this.options.call(() =>
      this.client.trainings.create(owner, name, version, { destination: input.destination, input: input.input, ...this.webhook }),
    );
    return { jobId: training.id, status: STATUS[training.status] };
  }

  /** Starts a prediction on a model version (`owner/name:version` or a bare version id). */
  async createPrediction(input: { version: string; input: object }): Promise<ReplicateJobStart> {
    const version = input.version.includes(':') ? input.version.split(':')[1]! : input.version;
    const prediction = await this.options.call(() => this.client.predictions.create({ version, input: input.input, ...this.webhook }));
    return { jobId: prediction.id, status: STATUS[prediction.status] };
  }

  /** Starts an image-to-video prediction of `image` (a URL Replicate can read) with the configured model. */
  async createAnimation(input: { image: string; prompt: string }): Promise<ReplicateJobStart> {
    return this.createPrediction({ version: this.options.animationModel, input });
  }

  /** The training as Replicate has it (its output names the new version and the weights), or null when unknown. */
  async getTraining(jobId: string): Promise<Training | null> {
    return orNullWhenNotFound(this.options.call(() => this.client.trainings.get(jobId)));
  }

  async getJob(job: { jobId: string; kind: string }): Promise<ProviderJobUpdate | null> {
    const found =
      job.kind === 'training'
        ? await this.getTraining(job.jobId)
        : await orNullWhenNotFound(this.options.call(() => this.client.predictions.get(job.jobId)));
    return found ? replicateJobUpdate(found) : null;
  }

  async cancelJob(job: { jobId: string; kind: string }): Promise<void> {
    const cancel = () => (job.kind === 'training' ? this.client.trainings.cancel(job.jobId) : this.client.predictions.cancel(job.jobId));
    await orNullWhenNotFound(this.options.call(cancel));
  }

  /** The signing secret: configured, or Replicate's default webhook secret read once. */
  private signingKey(): Promise<Webhook> {
    if (!this.signer) {
      const configured = this.options.webhookSecret;
      this.signer = (
        configured ? Promise.resolve(configured) : this.options.call(() => this.client.webhooks.default.secret.get()).then((s) => s.key)
      ).then((key) => new Webhook(key));
      // A failed read is retried by the next delivery rather than remembered.
      this.signer.catch(() => {
        this.signer = undefined;
      });
    }
    return this.signer;
  }

  async verify(rawBody: Buffer, header: (name: string) => string | undefined): Promise<VerifiedProviderWebhook> {
    const headers = {
      'webhook-id': header('webhook-id') ?? '',
      'webhook-timestamp': header('webhook-timestamp') ?? '',
      'webhook-signature': header('webhook-signature') ?? '',
    };
    const signer = await this.signingKey();
    let body: unknown;
    try {
      // Checks the timestamp (5-minute tolerance) and compares signatures in constant time.
      body = signer.verify(rawBody, headers);
    } catch (err) {
      throw new WebhookVerificationError(`webhook signature: ${(err as Error).message}`);
    }
    const job = body as Partial<Prediction>;
    if (typeof job.id !== 'string' || typeof job.status !== 'string' || !(job.status in STATUS))
      throw new WebhookVerificationError('body: not a Replicate prediction or training');
    return { deliveryId: headers['webhook-id'], update: replicateJobUpdate(job as Prediction) };
  }
}
