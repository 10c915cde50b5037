import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { probeMedia } from '../../lib/media/probe';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';
import { makeTestVideo, processesMentioning } from '../media/media-fixtures';
import { TALK_SRT } from './clips-fixtures';

/**
 * kill -9 the media worker process while ffmpeg renders clips; after the render's heartbeat
 * timeout a fresh media worker finishes the run with exactly one row per clip, and no ffmpeg of
 * the killed worker is left running.
 */
describe('clips survive a worker killed mid-render', () => {
  let platform: TestPlatform;
  let anthropic: SandboxServer;
  let dataDir: string;
  let source: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'clips-crash-'));
    anthropic = await startAnthropicSandbox({ port: 0 });
    // Larger than the other clip tests' video, so each render lasts long enough to be killed under.
    source = await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '960x540', fps: 25 });
    platform = await startTestPlatform({ workers: 'later', env: { DATA_DIR: dataDir }, sandboxUrls: { anthropic: anthropic.url } });
  });
  afterAll(async () => {
    await platform?.stop();
    await anthropic?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A media-queue-only worker process (no workflow bundle: it starts in seconds). */
  const mediaWorkerProcess = () =>
    platform.spawnWorkerProcess({}, { entry: 'test/integration/clips-media.worker.ts', ready: /media worker running/ });

  it('completes after kill -9 and restart: one row per clip, every file rendered, no orphan ffmpeg', async () => {
    const { database, client, apiUrl } = platform;
    // The main queue is served in this process from the start, the media queue by the process to kill.
    const [first] = await Promise.all([mediaWorkerProcess(), platform.startWorkers(['main'])]);
    const user = await createUser(database.db, { email: `crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(database.db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    const form = new FormData();
    form.append('file', new Blob([await readFile(source)], { type: 'video/mp4' }), 'talk.mp4');
    form.append('transcript', TALK_SRT);
    const uploaded = await fetch(`${apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: auth }).then(
      (r) => r.json() as Promise<any>,
    );
    // Where the local media store (DATA_DIR/media) keeps the upload; every render reads it.
    const stored = join(dataDir, 'media', 'videos', uploaded.videoId, 'source.mp4');

    const started = await api(
      apiUrl,
      'POST',
      `/v1/videos/${uploaded.videoId}/clips`,
      { count: 2, aspectRatios: ['9:16', '1:1'], minSeconds: 1.5, maxSeconds: 3 },
      auth,
    );
    expect(started.status).toBe(202);

    // Kill while ffmpeg is encoding from the stored source.
    const deadline = Date.now() + 60_000;
    let encoding = false;
    while (!(encoding = processesMentioning(stored).some((p) => p.includes('ffmpeg'))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(encoding).toBe(true);
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(processesMentioning(stored)).toEqual([]);
    const clipsAtKill = await database.db
      .selectFrom('clips')
      .select(['clip_index', 'render_status'])
      .where('run_id', '=', started.json.runId)
      .execute();
    expect(clipsAtKill.some((c) => c.render_status !== 'completed')).toBe(true);

    await platform.startWorkers(['media']);
    const result = await client.workflow.getHandle(started.json.runId).result();
    expect(result.clips).toHaveLength(2);
    expect(result.failedClips).toEqual([]);

    const clips = await database.db
      .selectFrom('clips')
      .selectAll()
      .where('video_id', '=', uploaded.videoId)
      .orderBy('clip_index')
      .execute();
    expect(clips.map((c) => c.clip_index)).toEqual([0, 1]);
    const runId: string = started.json.runId;
    expect(clips.map((c) => [c.run_id, c.render_status, c.render_error])).toEqual(clips.map(() => [runId, 'completed', null]));
    for (const clip of clips) {
      expect(Object.keys(clip.file_urls).sort()).toEqual(['1:1', '9:16']);
      const square = await probeMedia(fileURLToPath(clip.file_urls['1:1']!));
      expect([square.width, square.height]).toEqual([540, 540]);
      expect(Math.abs(square.durationSeconds - clip.duration_seconds)).toBeLessThanOrEqual(0.1);
    }
    const captions = await database.db
      .selectFrom('captions')
      .select('clip_id')
      .where(
        'clip_id',
        'in',
        clips.map((c) => c.id),
      )
      .execute();
    expect(captions).toHaveLength(2);
    const run = await database.db
      .selectFrom('job_runs')
      .select(['status', 'progress'])
      .where('id', '=', started.json.runId)
      .executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'completed', progress: 100 });
  });
});
