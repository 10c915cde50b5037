import { createHash, timingSafeEqual } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { FileService, TranscriptService, type Transcript, type TranscriptStatus } from 'assemblyai';
import { FailureType } from '../schemas/failures';
import type { ProviderJobStatus, ProviderJobUpdate } from '../schemas/provider-jobs';
import type { ProviderCall } from './call';
import { ensureOk, ProviderHttpError } from './errors';
import { WebhookVerificationError, type ProviderJobClient, type ProviderWebhookVerifier, type VerifiedProviderWebhook } from './jobs';

export const ASSEMBLYAI = 'assemblyai';
export const PRODUCTION_ASSEMBLYAI_URL = 'https://api.assemblyai.com';
/** The header AssemblyAI echoes on every webhook of a transcript we submitted (webhook_auth_header_name). */
export const ASSEMBLYAI_WEBHOOK_HEADER = 'x-clipflow-webhook-token';

export interface AssemblyAiAdapterOptions {
  apiKey: string;
  /** API root without `/v2`; unset → api.assemblyai.com. */
  baseUrl?: string;
  call: ProviderCall;
  /** Where AssemblyAI posts `{transcript_id, status}` (our `/v1/webhooks/assemblyai`); unset → polling only. */
  webhookUrl?: string;
  /** The value AssemblyAI sends back in ASSEMBLYAI_WEBHOOK_HEADER: proves a webhook came from a transcript we submitted. */
  webhookSecret: string;
}

/** A word as the platform stores it: times in seconds, as transcript_segments' `words`. */
export interface SpokenWord {
  word: string;
  start: number;
  end: number;
  confidence: number;
}

export interface FinishedTranscript {
  text: string;
  languageCode: string | null;
  words: SpokenWord[];
}

const STATUS: Record<TranscriptStatus, ProviderJobStatus> = {
  queued: 'queued',
  processing: 'processing',
  completed: 'succeeded',
  error: 'failed',
};

export function assemblyAiJobUpdate(transcript: Pick<Transcript, 'id' | 'status' | 'error'>): ProviderJobUpdate {
  const status = STATUS[transcript.status];
  return {
    provider: ASSEMBLYAI,
    jobId: transcript.id,
    status,
    ...(status === 'succeeded' ? { progress: 100 } : {}),
    ...(status === 'failed' ? { error: transcript.error ?? 'no reason given' } : {}),
  };
}

/**
 * The SDK throws a bare Error(message) for a non-2xx answer, losing the status our retry policy
 * depends on (429/5xx retried, other 4xx permanent): these services throw ProviderHttpError
 * (status, Retry-After) carrying AssemblyAI's `{error}` text, which names the cause.
 */
async function keepingStatus(res: Response): Promise<Response> {
  try {
    return await ensureOk(res, 'AssemblyAI');
  } catch (err) {
    if (!(err instanceof ProviderHttpError)) throw err;
    const reason = (err.body as { error?: unknown } | null)?.error;
    throw typeof reason === 'string' ? new ProviderHttpError(err.status, err.headers, err.body, reason) : err;
  }
}
class StatusKeepingTranscripts extends TranscriptService {
  protected override async fetch(input: string, init?: RequestInit): Promise<Response> {
    return keepingStatus(await this.fetchResponse(input, init));
  }
}
class StatusKeepingFiles extends FileService {
  protected override async fetch(input: string, init?: RequestInit): Promise<Response> {
    return keepingStatus(await this.fetchResponse(input, init));
  }
}

/** Equal-time comparison of two strings of any length (hashing first makes the lengths equal). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * AssemblyAI speech-to-text through its SDK (`assemblyai`): submit an audio URL (or upload the
 * bytes first when our media store has no public URL), then a webhook or polling by transcript id.
 * AssemblyAI cannot cancel a transcript; cancelling deletes it (its words are then gone).
 */
export class AssemblyAiAdapter implements ProviderJobClient, ProviderWebhookVerifier {
  readonly provider = ASSEMBLYAI;
  private readonly transcripts: TranscriptService;
  private readonly files: FileService;

  constructor(private readonly options: AssemblyAiAdapterOptions) {
    const params = { apiKey: options.apiKey, baseUrl: (options.baseUrl ?? PRODUCTION_ASSEMBLYAI_URL).replace(/\/$/, '') };
    this.files = new StatusKeepingFiles(params);
    this.transcripts = new StatusKeepingTranscripts(params, this.files);
  }

  /** Uploads audio bytes AssemblyAI cannot fetch from us; returns the URL to transcribe. */
  async upload(bytes: Buffer): Promise<string> {
    return this.options.call(() => this.files.upload(bytes));
  }

  /** Starts a transcript with language detection and word timings; the webhook carries our secret header. */
  async submit(audioUrl: string): Promise<{ jobId: string; status: ProviderJobStatus }> {
    const webhook = this.options.webhookUrl
      ? {
          webhook_url: this.options.webhookUrl,
          webhook_auth_header_name: ASSEMBLYAI_WEBHOOK_HEADER,
          webhook_auth_header_value: this.options.webhookSecret,
        }
      : {};
    const transcript = await this.options.call(() =>
      this.transcripts.submit({ audio_url: audioUrl, language_detection: true, punctuate: true, format_text: true, ...webhook }),
    );
    return { jobId: transcript.id, status: STATUS[transcript.status] };
  }

  private async find(jobId: string): Promise<Transcript | null> {
    try {
      return await this.options.call(() => this.transcripts.get(jobId));
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.NotFound) return null;
      throw err;
    }
  }

  /** The words of a completed transcript (times in seconds), or null when AssemblyAI does not know it. */
  async finishedTranscript(jobId: string): Promise<FinishedTranscript | null> {
    const transcript = await this.find(jobId);
    if (!transcript) return null;
    if (transcript.status !== 'completed')
      throw ApplicationFailure.nonRetryable(
        `assemblyai: transcript ${jobId} is ${transcript.status}, not completed`,
        FailureType.InvalidInput,
      );
    return {
      text: transcript.text ?? '',
      languageCode: transcript.language_code ?? null,
      words: (transcript.words ?? []).map((w) => ({ word: w.text, start: w.start / 1000, end: w.end / 1000, confidence: w.confidence })),
    };
  }

  async getJob(job: { jobId: string }): Promise<ProviderJobUpdate | null> {
    const transcript = await this.find(job.jobId);
    return transcript ? assemblyAiJobUpdate(transcript) : null;
  }

  async cancelJob(job: { jobId: string }): Promise<void> {
    try {
      await this.options.call(() => this.transcripts.delete(job.jobId));
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.NotFound) return;
      throw err;
    }
  }

  /**
   * AssemblyAI does not sign webhooks: it echoes the header we set at submit, compared here in
   * constant time. The body says only `{transcript_id, status}`, so a failed transcript is read
   * back for its error. Each status is delivered once per transcript, so it keys the delivery.
   */
  async verify(rawBody: Buffer, header: (name: string) => string | undefined): Promise<VerifiedProviderWebhook> {
    if (!sameSecret(header(ASSEMBLYAI_WEBHOOK_HEADER) ?? '', this.options.webhookSecret))
      throw new WebhookVerificationError(`${ASSEMBLYAI_WEBHOOK_HEADER}: missing or wrong`);
    let body: { transcript_id?: unknown; status?: unknown };
    try {
      body = JSON.parse(rawBody.toString('utf8')) as typeof body;
    } catch {
      throw new WebhookVerificationError('body: not JSON');
    }
    const { transcript_id: jobId, status } = body;
    if (typeof jobId !== 'string' || typeof status !== 'string' || !(status in STATUS))
      throw new WebhookVerificationError('body: not an AssemblyAI transcript notification');
    const update =
      status === 'error'
        ? ((await this.getJob({ jobId })) ?? assemblyAiJobUpdate({ id: jobId, status: 'error' }))
        : assemblyAiJobUpdate({ id: jobId, status: status as TranscriptStatus });
    return { deliveryId: `${jobId}:${status}`, update };
  }
}
