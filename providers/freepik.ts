import type { ProviderJobStatus, ProviderJobUpdate } from '../schemas/provider-jobs';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../schemas/failures';
import type { ProviderCall } from './call';
import { ensureOk } from './errors';
import type { ProviderJobClient } from './jobs';

/** provider_jobs.provider and ProviderJobUpdate.provider for Freepik tasks. */
export const FREEPIK_PROVIDER = 'freepik';

/** Freepik's task models we use: a text-to-image model for the still, Kling for image-to-video. */
export const FREEPIK_IMAGE_MODEL_PATH = '/v1/ai/text-to-image/flux-dev';
export const FREEPIK_VIDEO_CREATE_PATH = '/v1/ai/image-to-video/kling-v2-1-std';
export const FREEPIK_VIDEO_GET_PATH = '/v1/ai/image-to-video/kling-v2-1';

export type FreepikTaskKind = 'image' | 'video';

/** Freepik's aspect-ratio names for our three ratios. */
export const FREEPIK_ASPECT_RATIOS = { '9:16': 'social_story_9_16', '1:1': 'square_1_1', '16:9': 'widescreen_16_9' } as const;

export interface FreepikOptions {
  /** https://api.freepik.com or the Freepik sandbox. */
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
}

/** A task as Freepik answers it: `{ data: { task_id, status, generated: [url] } }`. */
interface FreepikTaskBody {
  data?: { task_id?: string; status?: string; generated?: unknown[]; error?: string };
}

const STATUS: Record<string, ProviderJobStatus> = {
  CREATED: 'queued',
  IN_PROGRESS: 'processing',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
};

/**
 * Freepik's AI task API over plain fetch (Freepik has no npm client), `x-freepik-api-key` auth,
 * errors classified by the shared `ProviderCall`. Tasks are polled: Freepik's webhooks carry no
 * signature we could verify, so none is requested. Freepik has no cancel endpoint either.
 */
export class FreepikAdapter implements ProviderJobClient {
  readonly provider = FREEPIK_PROVIDER;

  constructor(
    private readonly options: FreepikOptions,
    private readonly call: ProviderCall,
  ) {}

  /** Starts a text-to-image task for the product still. */
  createImageTask(input: { prompt: string; aspectRatio: keyof typeof FREEPIK_ASPECT_RATIOS }): Promise<ProviderJobUpdate> {
    return this.request('POST', FREEPIK_IMAGE_MODEL_PATH, { prompt: input.prompt, aspect_ratio: FREEPIK_ASPECT_RATIOS[input.aspectRatio] });
  }

  /** Starts an image-to-video task animating `imageUrl`. */
  createVideoTask(input: { imageUrl: string; prompt: string; durationSeconds: 5 | 10 }): Promise<ProviderJobUpdate> {
    return this.request('POST', FREEPIK_VIDEO_CREATE_PATH, {
      image: input.imageUrl,
      prompt: input.prompt,
      duration: String(input.durationSeconds),
    });
  }

  /** Where a task stands; a task Freepik does not know is a non-retryable NotFound. */
  getTask(kind: FreepikTaskKind, taskId: string): Promise<ProviderJobUpdate> {
    const base = kind === 'image' ? FREEPIK_IMAGE_MODEL_PATH : FREEPIK_VIDEO_GET_PATH;
    return this.request('GET', `${base}/${encodeURIComponent(taskId)}`);
  }

  /** The generic provider-job activities' view: a task Freepik does not know (404) is lost. */
  async getJob(job: { jobId: string; kind: string }): Promise<ProviderJobUpdate | null> {
    try {
      return await this.getTask(job.kind === 'image' ? 'image' : 'video', job.jobId);
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.NotFound) return null;
      throw err;
    }
  }

  /** Freepik has no cancel endpoint: a task we stop waiting for runs out and is never read. */
  async cancelJob(): Promise<void> {}

  private request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<ProviderJobUpdate> {
    return this.call(async () => {
      const res = await ensureOk(
        await fetch(`${this.options.baseUrl}${path}`, {
          method,
          headers: { 'x-freepik-api-key': this.options.apiKey, accept: 'application/json', 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        }),
        `Freepik ${method} ${path}`,
      );
      return toUpdate((await res.json()) as FreepikTaskBody);
    });
  }
}

function toUpdate(body: FreepikTaskBody): ProviderJobUpdate {
  const data = body.data;
  if (!data?.task_id || !data.status) throw new Error('Freepik answered without data.task_id/status');
  const status = STATUS[data.status] ?? 'processing';
  const outputUrls = (data.generated ?? []).filter((u): u is string => typeof u === 'string');
  return {
    provider: FREEPIK_PROVIDER,
    jobId: data.task_id,
    status,
    ...(outputUrls.length > 0 ? { outputUrls } : {}),
    ...(status === 'failed' ? { error: data.error ?? 'the task failed at Freepik' } : {}),
  };
}
