import { createHash, randomBytes } from 'node:crypto';
import busboy from 'busboy';
import { Webhook } from 'standardwebhooks';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';
import { createSandboxServer, HttpError, type Route, type RouteRequest, type SandboxDefinition, type SandboxServer } from './http';
import { renderClip } from './freepik';
import { solidPng, tiledPng } from './png';
import { createSandboxWebhookSender, type SentWebhookRecord } from './webhook-sender';

/** The version of the public models (trainer, image-to-video) in the sandbox: config defaults end in `:sandbox`. */
export const SANDBOX_PUBLIC_VERSION = 'sandbox';

type Status = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
type Kind = 'training' | 'prediction';
type WebhookEvent = 'start' | 'output' | 'logs' | 'completed';

export interface ReplicateSandboxOptions {
  apiToken: string;
  host?: string;
  port?: number;
  /** One step of every job's clock: a job starts after one step and moves on each step after. */
  stepMs?: number;
  /** Steps a training spends processing (its log prints 100/steps % per step). */
  trainingSteps?: number;
  predictionSteps?: number;
  /** Replaces the origin of the `webhook` URLs jobs were created with (tests whose API port is known late). */
  webhookOrigin?: string;
}

interface Job {
  kind: Kind;
  id: string;
  status: Status;
  model: string;
  version: string;
  input: Record<string, unknown>;
  destination?: string;
  output: unknown;
  error: string | null;
  logs: string;
  step: number;
  webhook?: string;
  events: WebhookEvent[];
  created_at: string;
  started_at?: string;
  completed_at?: string;
  /** Set by failNext(): this job ends `failed` with the given error. */
  failWith?: string;
  /** Set by stallNext(): this job keeps processing until it is canceled. */
  stalled?: boolean;
}

export interface SentWebhook extends SentWebhookRecord {
  deliveryId: string;
  jobId: string;
  status: Status;
}

export interface ReplicateSandbox {
  url: string;
  server: SandboxServer;
  /** The `whsec_` secret webhooks are signed with (also served at GET /v1/webhooks/default/secret). */
  webhookSecret: string;
  jobs: Map<string, Job>;
  webhooks: SentWebhook[];
  /** Fault switch: webhooks are not sent (recorded as dropped), so polling must finish the jobs. */
  dropWebhooks(drop: boolean): void;
  /** The next job of this kind created fails with `error`. */
  failNext(kind: Kind, error: string): void;
  /** The next job of this kind created never finishes by itself (a cancel ends it). */
  stallNext(kind: Kind): void;
  /** The provider forgets a job: it answers 404 from then on. */
  forget(jobId: string): void;
  setWebhookOrigin(origin: string | undefined): void;
  stop(): Promise<void>;
}

const replicateError = (status: number, detail: string) => new HttpError(status, detail, { title: detail, detail, status });
const newId = () =>
  randomBytes(13)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')
    .slice(0, 26);
/** A colour per output, so every generated image is a distinct real PNG. */
const colourOf = (seed: string): [number, number, number] => {
  const digest = createHash('sha256').update(seed).digest();
  return [digest[0]!, digest[1]!, digest[2]!];
};

function parseUpload(req: RouteRequest): Promise<{ filename: string; contentType: string; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    let file: { filename: string; contentType: string; bytes: Buffer } | undefined;
    const parser = busboy({ headers: req.headers });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (field === 'content') file = { filename: info.filename ?? 'upload', contentType: info.mimeType, bytes: Buffer.concat(chunks) };
      });
    });
    parser.on('close', () => (file ? resolve(file) : reject(replicateError(422, 'content: a file is required'))));
    parser.on('error', reject);
    parser.end(req.body);
  });
}

/**
 * Replicate's HTTP API as the `replicate` SDK calls it (under /v1): models, trainings on a model
 * version with a destination, predictions on a version, cancel, files, and the default webhook
 * secret. Jobs move starting → processing (a progress bar in `logs`) → succeeded on the sandbox's
 * clock, and signed Standard Webhooks go to each job's `webhook` for the events it asked for.
 * A training produces a new version of its destination (predictions accept only known
 * versions) and weights; a prediction produces `num_outputs` real PNGs served by the sandbox
 * (a 3×3 contact sheet when the prompt asks for a "3x3 grid"), or, given an `image`
 * (image-to-video), one real small mp4.
 */
export async function startReplicateSandbox(options: ReplicateSandboxOptions): Promise<ReplicateSandbox> {
  const stepMs = options.stepMs ?? 1_000;
  const trainingSteps = options.trainingSteps ?? 10;
  const predictionSteps = options.predictionSteps ?? 3;
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const signer = new Webhook(webhookSecret);
  const jobs = new Map<string, Job>();
  const forgotten = new Set<string>();
  const models = new Set<string>();
  // Public models (the trainer, the image-to-video model) are configured with version `sandbox`.
  const versions = new Set<string>([SANDBOX_PUBLIC_VERSION]);
  const files = new Map<string, { filename: string; contentType: string; bytes: Buffer }>();
  const failures: Record<Kind, string[]> = { training: [], prediction: [] };
  const stalls: Record<Kind, number> = { training: 0, prediction: 0 };
  const webhooks = createSandboxWebhookSender<SentWebhook>('replicate', options.webhookOrigin);
  let baseUrl = '';
  /** The one mp4 every image-to-video prediction returns, rendered with ffmpeg on first request. */
  let animation: Promise<Buffer> | undefined;

  const authorize = (req: RouteRequest) => {
    if (req.headers.authorization !== `Bearer ${options.apiToken}`) throw replicateError(401, 'Unauthenticated');
  };

  const view = (job: Job) => ({
    id: job.id,
    model: job.model,
    version: job.version,
    input: job.input,
    logs: job.logs,
    output: job.output,
    error: job.error,
    status: job.status,
    source: 'api',
    created_at: job.created_at,
    started_at: job.started_at,
    completed_at: job.completed_at,
    webhook: job.webhook,
    webhook_events_filter: job.events,
    ...(job.destination ? { destination: job.destination } : {}),
    urls: {
      get: `${baseUrl}/v1/${job.kind}s/${job.id}`,
      cancel: `${baseUrl}/v1/${job.kind}s/${job.id}/cancel`,
    },
  });

  /** Replicate's webhook: the job as GET shows it, signed per attempt (Standard Webhooks). */
  const send = (job: Job, event: WebhookEvent) => {
    if (!job.webhook || !job.events.includes(event)) return;
    const deliveryId = `msg_${newId()}`;
    const body = JSON.stringify(view(job));
    webhooks.send(job.webhook, { deliveryId, jobId: job.id, status: job.status }, body, () => {
      const sentAt = new Date();
      return {
        'webhook-id': deliveryId,
        'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
        'webhook-signature': signer.sign(deliveryId, sentAt, body),
      };
    });
  };

  function finish(job: Job, status: 'succeeded' | 'failed' | 'canceled'): void {
    job.status = status;
    job.completed_at = new Date().toISOString();
    if (status === 'failed') job.error = job.failWith ?? 'failed';
    if (status === 'succeeded') {
      if (job.kind === 'training') {
        const version = `${job.destination}:${createHash('sha256').update(job.id).digest('hex').slice(0, 32)}`;
        versions.add(version.split(':')[1]!);
        job.output = { version, weights: `${baseUrl}/weights/${job.id}.tar` };
      } else if (typeof job.input.image === 'string') {
        job.output = `${baseUrl}/outputs/${job.id}/video.mp4`;
      } else {
        const count = Math.min(4, Math.max(1, Number(job.input.num_outputs ?? 1)));
        job.output = Array.from({ length: count }, (_, i) => `${baseUrl}/outputs/${job.id}/out-${i}.png`);
      }
      job.logs += `\n100%|██████████| done`;
    }
    send(job, 'completed');
  }

  /** One tick of every live job's clock. */
  function advance(): void {
    for (const job of jobs.values()) {
      if (job.status === 'succeeded' || job.status === 'failed' || job.status === 'canceled') continue;
      const steps = job.kind === 'training' ? trainingSteps : predictionSteps;
      job.step += 1;
      if (job.status === 'starting') {
        job.status = 'processing';
        job.started_at = new Date().toISOString();
        job.logs = 'starting\n';
        send(job, 'start');
        continue;
      }
      if (job.stalled && job.step > steps / 2) continue;
      if (job.step > steps) {
        finish(job, job.failWith ? 'failed' : 'succeeded');
        continue;
      }
      const percent = Math.round(((job.step - 1) / steps) * 100);
      job.logs += `${job.kind === 'training' ? 'flux_train' : 'sampling'}: ${percent}%|\n`;
      send(job, 'logs');
    }
  }
  const clock = setInterval(advance, stepMs);

  function create(kind: Kind, fields: Pick<Job, 'model' | 'version' | 'input' | 'destination'>, body: Record<string, unknown>): Job {
    const webhook = typeof body.webhook === 'string' ? body.webhook : undefined;
    const filter = Array.isArray(body.webhook_events_filter) ? (body.webhook_events_filter as WebhookEvent[]) : undefined;
    const job: Job = {
      kind,
      id: newId(),
      status: 'starting',
      ...fields,
      output: null,
      error: null,
      logs: '',
      step: 0,
      webhook,
      events: filter ?? ['start', 'output', 'logs', 'completed'],
      created_at: new Date().toISOString(),
      failWith: failures[kind].shift(),
      stalled: stalls[kind] > 0,
    };
    if (job.stalled) stalls[kind] -= 1;
    jobs.set(job.id, job);
    return job;
  }

  const jobOf = (kind: Kind, id: string): Job => {
    const job = jobs.get(id);
    if (!job || job.kind !== kind || forgotten.has(id)) throw replicateError(404, 'Not found.');
    return job;
  };

  const routes: Route[] = [
    {
      method: 'GET',
      path: '/v1/webhooks/default/secret',
      handle: (req) => {
        authorize(req);
        return { json: { key: webhookSecret } };
      },
    },
    {
      method: 'POST',
      path: '/v1/models',
      handle: (req) => {
        authorize(req);
        const body = req.json<{ owner?: string; name?: string }>() ?? {};
        if (!body.owner || !body.name) throw replicateError(422, 'owner and name are required');
        const id = `${body.owner}/${body.name}`;
        if (models.has(id)) throw replicateError(409, 'A model with that name already exists.');
        models.add(id);
        return { status: 201, json: { owner: body.owner, name: body.name, url: `${baseUrl}/${id}`, visibility: 'private' } };
      },
    },
    {
      method: 'GET',
      path: '/v1/models/:owner/:name',
      handle: (req) => {
        authorize(req);
        const id = `${req.params.owner}/${req.params.name}`;
        if (!models.has(id)) throw replicateError(404, 'Not found.');
        return { json: { owner: req.params.owner, name: req.params.name, url: `${baseUrl}/${id}`, visibility: 'private' } };
      },
    },
    {
      method: 'POST',
      path: '/v1/models/:owner/:name/versions/:version/trainings',
      handle: (req) => {
        authorize(req);
        const body = req.json<{ destination?: string; input?: Record<string, unknown> }>() ?? {};
        if (!body.destination || !models.has(body.destination)) throw replicateError(404, 'The destination model does not exist.');
        const images = body.input?.input_images;
        if (typeof images !== 'string' || !images.startsWith(`${baseUrl}/v1/files/`))
          throw replicateError(422, 'input.input_images: a file URL is required');
        const job = create(
          'training',
          {
            model: `${req.params.owner}/${req.params.name}`,
            version: req.params.version!,
            input: body.input ?? {},
            destination: body.destination,
          },
          body,
        );
        return { status: 201, json: view(job) };
      },
    },
    {
      method: 'POST',
      path: '/v1/predictions',
      handle: (req) => {
        authorize(req);
        const body = req.json<{ version?: string; input?: Record<string, unknown> }>() ?? {};
        if (!body.version || !versions.has(body.version)) throw replicateError(422, 'version: the version does not exist');
        if (typeof body.input?.prompt !== 'string' || body.input.prompt === '') throw replicateError(422, 'input.prompt: required');
        const job = create('prediction', { model: 'trained', version: body.version, input: body.input }, body);
        return { status: 201, json: view(job) };
      },
    },
    ...(['training', 'prediction'] as const).flatMap((kind): Route[] => [
      {
        method: 'GET',
        path: `/v1/${kind}s/:id`,
        handle: (req) => {
          authorize(req);
          return { json: view(jobOf(kind, req.params.id!)) };
        },
      },
      {
        method: 'POST',
        path: `/v1/${kind}s/:id/cancel`,
        handle: (req) => {
          authorize(req);
          const job = jobOf(kind, req.params.id!);
          // Replicate leaves a finished job as it is and answers with it.
          if (job.status === 'starting' || job.status === 'processing') finish(job, 'canceled');
          return { json: view(job) };
        },
      },
    ]),
    {
      method: 'POST',
      path: '/v1/files',
      handle: async (req) => {
        authorize(req);
        const file = await parseUpload(req);
        const id = newId();
        files.set(id, file);
        return {
          status: 201,
          json: {
            id,
            content_type: file.contentType,
            size: file.bytes.length,
            checksums: { sha256: createHash('sha256').update(file.bytes).digest('hex') },
            metadata: {},
            created_at: new Date().toISOString(),
            expires_at: null,
            urls: { get: `${baseUrl}/v1/files/${id}` },
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/files/:id',
      handle: (req) => {
        const file = files.get(req.params.id!);
        if (!file) throw replicateError(404, 'Not found.');
        return { headers: { 'content-type': file.contentType }, text: file.bytes };
      },
    },
    {
      method: 'GET',
      path: '/outputs/:id/:file',
      handle: async (req) => {
        const job = jobs.get(req.params.id!);
        if (!job) throw replicateError(404, 'Not found.');
        const seed = `${req.params.id}/${req.params.file}`;
        if (req.params.file!.endsWith('.mp4')) {
          animation ??= renderClip(160, 160, 1);
          return { headers: { 'content-type': 'video/mp4' }, text: await animation };
        }
        const cellColours = Array.from({ length: 9 }, (_, cell) => colourOf(`${seed}#${cell}`));
        const png = /3x3 grid/i.test(String(job.input.prompt)) ? tiledPng(3, 3, 128, cellColours) : solidPng(64, 64, colourOf(seed));
        return { headers: { 'content-type': 'image/png' }, text: png };
      },
    },
    {
      method: 'GET',
      path: '/weights/:file',
      handle: () => ({ headers: { 'content-type': 'application/x-tar' }, text: Buffer.alloc(1024) }),
    },
  ];

  const adminRoutes: Route[] = [
    webhooks.adminRoute,
    {
      method: 'POST',
      path: '/__sandbox/replicate/fail-next',
      handle: (req) => {
        const body = req.json<{ kind?: Kind; error?: string }>() ?? {};
        if (body.kind !== 'training' && body.kind !== 'prediction') throw new HttpError(400, 'kind: training or prediction');
        failures[body.kind].push(body.error ?? 'failed');
        return { status: 204 };
      },
    },
  ];

  const server = await createSandboxServer({
    name: 'replicate',
    routes,
    adminRoutes,
    host: options.host,
    port: options.port,
    errorBody: (status, message) => ({ title: message, detail: message, status }),
    onReset: () => {
      jobs.clear();
      forgotten.clear();
      webhooks.reset();
    },
  });
  baseUrl = server.url;

  return {
    url: server.url,
    server,
    webhookSecret,
    jobs,
    webhooks: webhooks.sent,
    dropWebhooks: webhooks.dropWebhooks,
    failNext: (kind, error) => {
      failures[kind].push(error);
    },
    stallNext: (kind) => {
      stalls[kind] += 1;
    },
    forget: (jobId) => {
      forgotten.add(jobId);
    },
    setWebhookOrigin: webhooks.setWebhookOrigin,
    async stop() {
      clearInterval(clock);
      await webhooks.settle();
      await server.stop();
    },
  };
}

export const replicateSandbox: SandboxDefinition = {
  name: 'replicate',
  enabled: (config) => !config.REPLICATE_API_TOKEN,
  // A training takes about 20 s here, so a newcomer running `npm start` sees it end.
  start: () =>
    startReplicateSandbox({ apiToken: SANDBOX_CREDENTIALS.replicateApiToken, stepMs: 2_000, trainingSteps: 9, predictionSteps: 2 }),
};
