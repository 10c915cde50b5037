import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createActivities, createMediaActivities } from '../../activities';
import { createApp } from '../../api/app';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import type { PlanSlug } from '../../schemas/billing';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { mediaStoreFor } from '../../lib/media/store';
import { freePort } from '../../lib/runtime/ports';
import { createSecretBox, loadEncryptionKey } from '../../lib/secrets';
import { urlGuardOptions } from '../../lib/ssrf';
import { taskQueues } from '../../lib/task-queues';
import { createProviders } from '../../providers';
import { anthropicSandbox, startAnthropicSandbox } from '../../sandbox/anthropic';
import { googleSandbox } from '../../sandbox/google';
import { startSandboxes, type SandboxDefinition, type RunningSandboxes } from '../../sandbox/index';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { VideoImportResult } from '../../schemas/video-import';
import { createMainWorker, createMediaWorker } from '../../worker/create-worker';
import type { BenchStack } from './stack';

/** A creator's talk, six sentences (the user supplies it, so YouTube is asked for metadata only). */
export const SAMPLE_TRANSCRIPT = [
  'Today I want to show you how I plan a whole month of videos in a single afternoon.',
  'The first step is to write down every question your audience asked in the comments last month.',
  'I group those questions into three themes, and each theme becomes a short series of four videos.',
  'Batch filming saves me roughly nine hours a week because the lights and the camera stay set up.',
  'The second step is to script only the hook and the ending, and to talk freely in the middle.',
  'Finally, schedule the uploads for the same weekday and hour, because consistency trains your viewers.',
].join(' ');

/** A transcript of exactly `words` words: the sample repeated. */
export function transcriptOfWords(words: number): string {
  const sample = SAMPLE_TRANSCRIPT.split(' ');
  return Array.from({ length: words }, (_, i) => sample[i % sample.length]).join(' ');
}

export interface ImportRequest {
  contentTypes: readonly string[];
  transcript: string;
}

export interface FinishedImport {
  runId: string;
  /** POST /v1/videos/import → workflow result. */
  wallMs: number;
  result: VideoImportResult;
}

export interface ImportPlatform {
  apiUrl: string;
  /** A user of the plan with an API key of every user scope. */
  newCaller(plan?: PlanSlug): Promise<{ userId: string; authorization: string }>;
  /** POST /v1/videos/import; the HTTP status and the run id when accepted (202). */
  start(authorization: string, request: ImportRequest): Promise<{ status: number; runId?: string; retryAfterSeconds?: number }>;
  /** start, then wait for the workflow's result; throws when the API refuses. */
  importVideo(authorization: string, request: ImportRequest): Promise<FinishedImport>;
}

/** The Google (YouTube metadata) and Anthropic sandboxes, Anthropic answering after `aiLatencyMs`. */
export function startImportSandboxes(aiLatencyMs: number): Promise<RunningSandboxes> {
  const anthropic: SandboxDefinition = { ...anthropicSandbox, start: () => startAnthropicSandbox({ latencyMs: aiLatencyMs }) };
  return startSandboxes(loadConfig({ LOG_LEVEL: 'silent' }), [googleSandbox, anthropic]);
}

export interface ImportPlatformOptions {
  anthropicCap?: number;
  /** Also run the media worker (downloads, ffprobe, ffmpeg) on the media queue, as the platform does. */
  media?: boolean;
  /** Settings over the production ones below. */
  env?: Record<string, string>;
}

/**
 * The API and the real main worker (with `media`, the media worker too), in production mode against
 * the sandboxes, on task queues of their own while `body` runs (B1, B7, B9, B10 import videos
 * through it; B12 ingests video files). Providers send job webhooks to this API.
 */
export async function withImportPlatform<T>(
  stack: BenchStack,
  sandboxUrls: Record<string, string>,
  options: ImportPlatformOptions,
  body: (platform: ImportPlatform) => Promise<T>,
): Promise<T> {
  const prefix = `bi${randomBytes(3).toString('hex')}-`;
  const port = await freePort();
  const config = loadConfig({
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    PORT: String(port),
    TASK_QUEUE_PREFIX: prefix,
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    // Production settings against the Google and Anthropic sandboxes, on purpose.
    ALLOW_SANDBOX_PROVIDERS: 'true',
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64url')}`,
    ...(options.anthropicCap === undefined ? {} : { ANTHROPIC_MAX_CONCURRENCY: String(options.anthropicCap) }),
    ...options.env,
  });
  const logger = createLogger('silent');
  const queues = taskQueues(prefix);
  const providers = createProviders({ config, logger, db: stack.db, sandboxUrls });
  const activityDeps = { db: stack.db, logger, providers, secrets: createSecretBox(loadEncryptionKey(config)) };
  const worker = await createMainWorker({
    connection: stack.connection,
    namespace: 'default',
    taskQueue: queues.main,
    dataConverter: stack.dataConverter,
    activities: createActivities(activityDeps),
    workflowBundle: await stack.productionBundle(),
  });
  const mediaWorker = options.media
    ? await createMediaWorker({
        connection: stack.connection,
        namespace: 'default',
        taskQueue: queues.media,
        dataConverter: stack.dataConverter,
        activities: createMediaActivities({
          ...activityDeps,
          mediaStore: mediaStoreFor(config, () => providers.cloudinary),
          urlGuard: urlGuardOptions(config),
        }),
      })
    : undefined;
  const app = createApp({ db: stack.db, temporal: stack.client, logger, config, taskQueues: queues, sandboxUrls });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const apiUrl = `http://127.0.0.1:${port}`;

  const platform: ImportPlatform = {
    apiUrl,
    async newCaller(plan = 'creator') {
      const user = await createUser(stack.db, { email: `bench-${randomUUID()}@example.test`, plan });
      const { plaintext } = await createApiKey(stack.db, { userId: user.id, name: 'bench', scopes: [...USER_SCOPES] });
      return { userId: user.id, authorization: `Bearer ${plaintext}` };
    },
    async start(authorization, request) {
      const youtubeId = randomBytes(8).toString('base64url').slice(0, 11);
      const res = await fetch(`${apiUrl}/v1/videos/import`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({
          url: `https://www.youtube.com/watch?v=${youtubeId}`,
          contentTypes: request.contentTypes,
          transcript: { content: request.transcript, format: 'text' },
        }),
      });
      const answer = (await res.json()) as { runId?: string; detail?: string };
      const retryAfter = Number(res.headers.get('retry-after') ?? Number.NaN);
      return {
        status: res.status,
        ...(answer.runId ? { runId: answer.runId } : {}),
        ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
      };
    },
    async importVideo(authorization, request) {
      const begin = performance.now();
      const started = await platform.start(authorization, request);
      if (started.status !== 202 || !started.runId) throw new Error(`import refused: ${started.status}`);
      const result = (await stack.client.workflow.getHandle(started.runId).result()) as VideoImportResult;
      return { runId: started.runId, wallMs: performance.now() - begin, result };
    },
  };
  try {
    return await worker.runUntil(mediaWorker ? mediaWorker.runUntil(body(platform)) : body(platform));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
