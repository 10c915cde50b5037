import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveMediaBinaries } from '../lib/media/binaries';
import { SANDBOX_CREDENTIALS } from '../lib/sandbox-credentials';
import { createSandboxServer, HttpError, type Route, type SandboxDefinition, type SandboxServer } from './http';
import { solidPng } from './png';

export interface FreepikSandboxOptions {
  apiKey: string;
  host?: string;
  port?: number;
  /** Each task spends this long CREATED, then as long IN_PROGRESS, then ends (default 1500 ms). */
  stepMs?: number;
}

type TaskKind = 'image' | 'video';

export interface FreepikSandboxTask {
  id: string;
  kind: TaskKind;
  body: Record<string, unknown>;
  createdAt: number;
  /** Decided at creation: FAILED at the end instead of COMPLETED. */
  fails: boolean;
}

export interface FreepikSandbox {
  url: string;
  server: SandboxServer;
  tasks: FreepikSandboxTask[];
  /** The next `count` tasks of this kind end FAILED (a content-policy refusal). */
  failNext(kind: TaskKind, count?: number): void;
  stop(): Promise<void>;
}

const IMAGE_PATH = '/v1/ai/text-to-image/flux-dev';
const VIDEO_CREATE_PATH = '/v1/ai/image-to-video/kling-v2-1-std';
const VIDEO_GET_PATH = '/v1/ai/image-to-video/kling-v2-1';
const SIZES: Record<string, [number, number]> = { social_story_9_16: [144, 256], square_1_1: [192, 192], widescreen_16_9: [256, 144] };

const execFileAsync = promisify(execFile);

/** A real small H.264 mp4 (ffmpeg's lavfi test source), made once per size and duration. */
export async function renderClip(width: number, height: number, seconds: number): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'freepik-sandbox-'));
  try {
    const out = join(dir, 'clip.mp4');
    const { ffmpeg } = resolveMediaBinaries();
    await execFileAsync(ffmpeg.path, [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=10:duration=${seconds}`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      out,
    ]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Freepik's AI task API as far as we use it: a text-to-image task (`flux-dev`) and an
 * image-to-video task (Kling 2.1), created with POST and read with GET, `x-freepik-api-key`
 * auth, statuses CREATED → IN_PROGRESS → COMPLETED | FAILED on the sandbox's clock, outputs
 * (a real PNG, a real mp4) served from `/files/`. Faults: `/__sandbox/faults` (429, 5xx, slow) and
 * `POST /__sandbox/freepik/fail-next {kind, count}` for tasks that end FAILED.
 */
export async function startFreepikSandbox(options: FreepikSandboxOptions): Promise<FreepikSandbox> {
  const stepMs = options.stepMs ?? 1500;
  const tasks: FreepikSandboxTask[] = [];
  const failing: Record<TaskKind, number> = { image: 0, video: 0 };
  const clips = new Map<string, Promise<Buffer>>();
  let baseUrl = '';

  const authorize = (headers: Record<string, unknown>) => {
    if (headers['x-freepik-api-key'] !== options.apiKey) throw new HttpError(401, 'Invalid API key', { message: 'Invalid API key' });
  };

  const view = (task: FreepikSandboxTask) => {
    const age = Date.now() - task.createdAt;
    const status = age < stepMs ? 'CREATED' : age < 2 * stepMs ? 'IN_PROGRESS' : task.fails ? 'FAILED' : 'COMPLETED';
    const extension = task.kind === 'image' ? 'png' : 'mp4';
    return {
      data: {
        task_id: task.id,
        status,
        generated: status === 'COMPLETED' ? [`${baseUrl}/files/${task.id}.${extension}`] : [],
        ...(status === 'FAILED' ? { error: 'The content was flagged by the safety filter' } : {}),
      },
    };
  };

  const create = (kind: TaskKind, body: Record<string, unknown>) => {
    const fails = failing[kind] > 0;
    if (fails) failing[kind] -= 1;
    const task: FreepikSandboxTask = { id: randomUUID(), kind, body, createdAt: Date.now(), fails };
    tasks.push(task);
    return { json: view(task) };
  };

  const find = (kind: TaskKind, id: string | undefined) => {
    const task = tasks.find((t) => t.id === id && t.kind === kind);
    if (!task) throw new HttpError(404, 'Not found', { message: 'Not found' });
    return task;
  };

  const routes: Route[] = [
    {
      method: 'POST',
      path: IMAGE_PATH,
      handle: (req) => {
        authorize(req.headers);
        const body = req.json<Record<string, unknown>>() ?? {};
        if (typeof body.prompt !== 'string' || body.prompt.trim() === '')
          throw new HttpError(400, 'prompt is required', { message: 'prompt is required' });
        return create('image', body);
      },
    },
    {
      method: 'GET',
      path: `${IMAGE_PATH}/:taskId`,
      handle: (req) => {
        authorize(req.headers);
        return { json: view(find('image', req.params.taskId)) };
      },
    },
    {
      method: 'POST',
      path: VIDEO_CREATE_PATH,
      handle: (req) => {
        authorize(req.headers);
        const body = req.json<Record<string, unknown>>() ?? {};
        if (typeof body.image !== 'string' || !['5', '10'].includes(String(body.duration)))
          throw new HttpError(400, 'image and duration ("5" or "10") are required', { message: 'image and duration are required' });
        return create('video', body);
      },
    },
    {
      method: 'GET',
      path: `${VIDEO_GET_PATH}/:taskId`,
      handle: (req) => {
        authorize(req.headers);
        return { json: view(find('video', req.params.taskId)) };
      },
    },
    {
      method: 'GET',
      path: '/files/:name',
      handle: async (req) => {
        const [id, extension] = (req.params.name ?? '').split('.');
        const task = tasks.find((t) => t.id === id);
        if (!task) throw new HttpError(404, 'Not found');
        if (extension === 'png') {
          const [w, h] = SIZES[String(task.body.aspect_ratio)] ?? SIZES.square_1_1!;
          return { headers: { 'content-type': 'image/png' }, text: solidPng(w, h, [90, 140, 200]) };
        }
        // The video keeps the still's orientation: the image URL names the image task.
        const imageTask = tasks.find((t) => typeof task.body.image === 'string' && task.body.image.includes(t.id));
        const [w, h] = SIZES[String(imageTask?.body.aspect_ratio)] ?? SIZES.square_1_1!;
        const seconds = Number(task.body.duration) || 5;
        const key = `${w}x${h}x${seconds}`;
        if (!clips.has(key)) clips.set(key, renderClip(w, h, seconds));
        return { headers: { 'content-type': 'video/mp4' }, text: await clips.get(key)! };
      },
    },
  ];

  const adminRoutes: Route[] = [
    {
      method: 'POST',
      path: '/__sandbox/freepik/fail-next',
      handle: (req) => {
        const body = req.json<{ kind?: TaskKind; count?: number }>() ?? {};
        const kind = body.kind === 'image' ? 'image' : 'video';
        failing[kind] += body.count ?? 1;
        return { status: 201, json: { failing } };
      },
    },
  ];

  const server = await createSandboxServer({
    name: 'freepik',
    routes,
    adminRoutes,
    host: options.host,
    port: options.port,
    errorBody: (_status, message) => ({ message }),
    onReset: () => {
      tasks.length = 0;
      failing.image = 0;
      failing.video = 0;
    },
  });
  baseUrl = server.url;
  return {
    url: server.url,
    server,
    tasks,
    failNext(kind, count = 1) {
      failing[kind] += count;
    },
    stop: () => server.stop(),
  };
}

export const freepikSandbox: SandboxDefinition = {
  name: 'freepik',
  enabled: (config) => !config.FREEPIK_API_KEY,
  start: () => startFreepikSandbox({ apiKey: SANDBOX_CREDENTIALS.freepikApiKey }),
};
