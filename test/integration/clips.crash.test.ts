import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities, createMediaActivities } from '../../activities';
import { createProviders } from '../../activities/providers';
import { createApp } from '../../api/app';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { probeMedia } from '../../lib/media/probe';
import { mediaStoreFor } from '../../lib/media-store';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import { createMainWorker, createMediaWorker } from '../../worker/create-worker';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { api } from '../helpers/platform';
import { killGroup, spawnTs, type SpawnedProcess } from '../helpers/processes';
import { stackValue } from '../helpers/stack-env';
import { testClient, testNativeConnection, uniqueTaskQueues, workflowBundle } from '../helpers/temporal';
import { makeTestVideo, processesMentioning } from '../media/media-fixtures';
import { TALK_SRT } from './clips-fixtures';

/**
 * kill -9 the media worker process while ffmpeg renders clips; after the render's heartbeat
 * timeout a fresh media worker finishes the run with exactly one row per clip, and no ffmpeg of
 * the killed worker is left running.
 */
describe('clips survive a worker killed mid-render', () => {
  let database: TestDatabase;
  let client: Client;
  let server: Server;
  let apiUrl: string;
  let anthropic: SandboxServer;
  let dataDir: string;
  let source: string;
  const workers: SpawnedProcess[] = [];
  const queues = uniqueTaskQueues();
  let bundle: Promise<WorkflowBundleWithSourceMap>;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    bundle = workflowBundle();
    dataDir = await mkdtemp(join(tmpdir(), 'clips-crash-'));
    database = await createTestDatabase();
    client = await testClient();
    anthropic = await startAnthropicSandbox({ port: 0 });
    // Larger than the other clip tests' video, so each render lasts long enough to be killed under.
    source = await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '960x540', fps: 25 });
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', TASK_QUEUE_PREFIX: queues.prefix, DATA_DIR: dataDir });
    const app = createApp({ db: database.db, temporal: client, logger: createLogger('silent'), config, taskQueues: queues });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    workers.forEach((w) => killGroup(w));
    for (const stop of stops) await stop();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await anthropic?.stop();
    await client?.connection.close();
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const mediaWorkerProcess = async () => {
    const worker = spawnTs('test/integration/clips-media.worker.ts', {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: stackValue('temporalAddress'),
      TASK_QUEUE_PREFIX: queues.prefix,
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
    });
    workers.push(worker);
    await worker.waitForOutput(/media worker running/, 60_000);
    return worker;
  };

  /** Workers in this process: the main queue from the start, the media queue once the spawned one is dead. */
  const startWorker = async (kind: 'main' | 'media') => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', TASK_QUEUE_PREFIX: queues.prefix, DATA_DIR: dataDir });
    const logger = createLogger('silent');
    const providers = createProviders({ config, logger, db: database.db, sandboxUrls: { anthropic: anthropic.url } });
    const deps = { db: database.db, logger, providers };
    const connection = await testNativeConnection();
    const worker =
      kind === 'main'
        ? await createMainWorker({ connection, namespace: 'default', taskQueue: queues.main, activities: createActivities(deps), workflowBundle: await bundle })
        : await createMediaWorker({
            connection,
            namespace: 'default',
            taskQueue: queues.media,
            activities: createMediaActivities({ ...deps, mediaStore: mediaStoreFor(config, () => providers.cloudinary) }),
          });
    const running = worker.run();
    stops.push(async () => {
      worker.shutdown();
      await running;
      await connection.close();
    });
  };

  it('completes after kill -9 and restart: one row per clip, every file rendered, no orphan ffmpeg', async () => {
    const [first] = await Promise.all([mediaWorkerProcess(), startWorker('main')]);
    const user = await createUser(database.db, { email: `crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    const form = new FormData();
    form.append('file', new Blob([await readFile(source)], { type: 'video/mp4' }), 'talk.mp4');
    form.append('transcript', TALK_SRT);
    const uploaded = await fetch(`${apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: auth }).then((r) => r.json() as Promise<any>);
    // Where the local media store (DATA_DIR/media) keeps the upload; every render reads it.
    const stored = join(dataDir, 'media', 'videos', uploaded.videoId, 'source.mp4');

    const started = await api(apiUrl, 'POST', `/v1/videos/${uploaded.videoId}/clips`, { count: 2, aspectRatios: ['9:16', '1:1'], minSeconds: 1.5, maxSeconds: 3 }, auth);
    expect(started.status).toBe(202);

    // Kill while ffmpeg is encoding from the stored source.
    const deadline = Date.now() + 60_000;
    let encoding = false;
    while (!(encoding = processesMentioning(stored).some((p) => p.includes('ffmpeg'))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(encoding).toBe(true);
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(processesMentioning(stored)).toEqual([]);
    const clipsAtKill = await database.db.selectFrom('clips').select(['clip_index', 'render_status']).where('run_id', '=', started.json.runId).execute();
    expect(clipsAtKill.some((c) => c.render_status !== 'completed')).toBe(true);

    await startWorker('media');
    const result = await client.workflow.getHandle(started.json.runId).result();
    expect(result.clips).toHaveLength(2);
    expect(result.failedClips).toEqual([]);

    const clips = await database.db.selectFrom('clips').selectAll().where('video_id', '=', uploaded.videoId).orderBy('clip_index').execute();
    expect(clips.map((c) => c.clip_index)).toEqual([0, 1]);
    const runId: string = started.json.runId;
    expect(clips.map((c) => [c.run_id, c.render_status, c.render_error])).toEqual(clips.map(() => [runId, 'completed', null]));
    for (const clip of clips) {
      expect(Object.keys(clip.file_urls).sort()).toEqual(['1:1', '9:16']);
      const square = await probeMedia(fileURLToPath(clip.file_urls['1:1']!));
      expect([square.width, square.height]).toEqual([540, 540]);
      expect(Math.abs(square.durationSeconds - clip.duration_seconds)).toBeLessThanOrEqual(0.1);
    }
    const captions = await database.db.selectFrom('captions').select('clip_id').where('clip_id', 'in', clips.map((c) => c.id)).execute();
    expect(captions).toHaveLength(2);
    const run = await database.db.selectFrom('job_runs').select(['status', 'progress']).where('id', '=', started.json.runId).executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'completed', progress: 100 });
  });
});
