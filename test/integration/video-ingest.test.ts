import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { resolveMediaBinaries } from '../../lib/media/binaries';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { ClipsResult } from '../../schemas/clips';
import type { IngestResult } from '../../schemas/video-ingest';
import { makeTestVideo } from '../media/media-fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { unpunctuatedSrt } from './clips-fixtures';

/**
 * Video ingest as a workflow through the HTTP API on the real stack: the import answers 202 at
 * once, the `ingest:<videoId>` run downloads (resuming with Range after a broken connection),
 * probes, marks key moments, commits or refunds the plan's video slot, and chains autoClips.
 */
describe('video ingest (API + real stack + local file server + ffprobe)', () => {
  let platform: TestPlatform;
  let anthropic: SandboxServer;
  let files: Server;
  let filesUrl: string;
  let dataDir: string;
  let talk: Buffer;
  const ranges: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'ingest-it-'));
    talk = await readFile(await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 30, size: '160x90', fps: 5 }));
    files = createServer((req, res) => {
      if (req.url === '/talk.mp4') res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': talk.length }).end(talk);
      else if (req.url === '/flaky/talk.mp4') {
        // The API's pre-flight request comes first; the run's first download breaks off halfway;
        // later ones honour Range, as file servers and CDNs do.
        const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        ranges.push(req.headers.range ?? '');
        if (ranges.length === 2) {
          res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': talk.length });
          // The connection drops a moment after the half was sent (once the client has written it).
          res.write(talk.subarray(0, Math.floor(talk.length / 2)), () => setTimeout(() => res.destroy(), 300));
        } else if (range) {
          const from = Number(range[1]);
          res
            .writeHead(206, {
              'content-type': 'video/mp4',
              'content-length': talk.length - from,
              'content-range': `bytes ${from}-${talk.length - 1}/${talk.length}`,
            })
            .end(talk.subarray(from));
        } else res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': talk.length }).end(talk);
      } else if (req.url === '/fake.mp4') res.writeHead(200, { 'content-type': 'video/mp4' }).end('these are not video bytes');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    anthropic = await startAnthropicSandbox({ port: 0 });
    platform = await startTestPlatform({
      sandboxUrls: { anthropic: anthropic.url },
      env: { DATA_DIR: dataDir, SSRF_ALLOWED_HOSTS: new URL(filesUrl).host },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await anthropic?.stop();
    await new Promise<void>((r) => (files ? files.close(() => r()) : r()));
    await rm(dataDir, { recursive: true, force: true });
  });

  const db = () => platform.database.db;
  const call = (auth: Record<string, string>, method: string, path: string, body?: unknown) =>
    api(platform.apiUrl, method, path, body, auth);

  async function newUser(plan = 'basic') {
    const user = await createUser(db(), { email: `ingest-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return { id: user.id, auth: { authorization: `Bearer ${plaintext}` } };
  }

  const usage = (userId: string) =>
    db()
      .selectFrom('subscription_usage')
      .select(['videos_processed', 'videos_reserved', 'processing_minutes'])
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
  const outcome = (runId: string) =>
    platform.client.workflow
      .getHandle(runId)
      .result()
      .then(
        (result: IngestResult) => ({ result, error: undefined }),
        (error: any) => ({ result: undefined, error }),
      );

  it('answers 202 at once, resumes a broken download with Range, ends ready with key moments and chains autoClips', async () => {
    const { id: userId, auth } = await newUser();
    const started = await call(auth, 'POST', '/v1/videos/import-file', {
      url: `${filesUrl}/flaky/talk.mp4`,
      transcript: unpunctuatedSrt(30),
      autoClips: { count: 2, aspectRatios: ['9:16'], minSeconds: 5, maxSeconds: 12, captions: null },
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ status: 'pending', runId: `ingest:${started.json.videoId}` });
    const { videoId, runId } = started.json;

    const { result, error } = await outcome(runId);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ status: 'ready', hasAudio: true, clipsRunId: `clips:${videoId}:auto`, transcriptSkipped: null });
    expect(result!.durationSeconds).toBeCloseTo(30, 0);
    // The second attempt asked only for the bytes the first did not get, and the stored file is whole.
    expect(ranges.slice(0, 2)).toEqual(['', '']);
    expect(ranges[2]).toMatch(/^bytes=[1-9]\d*-$/);
    const row = await db().selectFrom('videos').selectAll().where('id', '=', videoId).executeTakeFirstOrThrow();
    expect(await readFile(row.file_path!)).toEqual(talk);
    expect(row).toMatchObject({ processing_status: 'ready', progress: 100, has_audio: true, source_type: 'url' });
    expect(row.processing_completed_at).not.toBeNull();
    expect((row.key_moments as unknown[]).length).toBeGreaterThan(0);

    const view = await call(auth, 'GET', `/v1/videos/${videoId}`);
    expect(view.json).toMatchObject({ processingStatus: 'ready', hasAudio: true, runId, transcriptWords: expect.any(Number) });
    expect(view.json.transcriptWords).toBeGreaterThan(50);
    // The slot is committed with the minutes processed.
    expect(await usage(userId)).toMatchObject({ videos_processed: 1, videos_reserved: 0 });
    expect(Number((await usage(userId)).processing_minutes)).toBeCloseTo(0.5, 1);

    const clips: ClipsResult = await platform.client.workflow.getHandle(result!.clipsRunId!).result();
    expect(clips.clips).toHaveLength(2);
  });

  it('fails the run with a typed reason and refunds the video slot when the file is not a video', async () => {
    const { id: userId, auth } = await newUser();
    const started = await call(auth, 'POST', '/v1/videos/import-file', { url: `${filesUrl}/fake.mp4` });
    expect(started.status).toBe(202);
    expect(await usage(userId)).toMatchObject({ videos_reserved: 1 });
    const { error } = await outcome(started.json.runId);
    expect(error?.cause?.cause?.type).toBe('InvalidMedia');
    const view = await call(auth, 'GET', `/v1/videos/${started.json.videoId}`);
    expect(view.json).toMatchObject({ processingStatus: 'failed', error: expect.stringContaining('not a readable media file: url') });
    expect(view.json.error).not.toContain(started.json.videoId); // no temp path of ours
    expect(await usage(userId)).toMatchObject({ videos_processed: 0, videos_reserved: 0 });
    // Clips of a failed video are refused up front.
    const clips = await call(auth, 'POST', `/v1/videos/${started.json.videoId}/clips`, { count: 1 });
    expect(clips.status).toBe(422);
  });

  it('skips transcription of a video without audio and refuses its clips with the reason', async () => {
    const { auth } = await newUser();
    const silent = join(dataDir, 'silent.mp4');
    await promisify(execFile)(resolveMediaBinaries().ffmpeg.path, [
      '-v',
      'error',
      '-y',
      '-i',
      join(dataDir, 'talk.mp4'),
      '-an',
      '-c',
      'copy',
      silent,
    ]);
    const form = new FormData();
    form.append('file', new Blob([await readFile(silent)], { type: 'video/mp4' }), 'silent.mp4');
    form.append('autoClips', JSON.stringify({ count: 1 }));
    const res = await fetch(`${platform.apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: auth });
    const uploaded = (await res.json()) as any;
    expect(res.status).toBe(201);
    expect(uploaded).toMatchObject({ hasAudio: false, runId: `ingest:${uploaded.videoId}` });
    const { result } = await outcome(uploaded.runId);
    expect(result).toMatchObject({ status: 'ready', hasAudio: false, transcriptSkipped: 'the video has no audio track', clipsRunId: null });
    const clips = await call(auth, 'POST', `/v1/videos/${uploaded.videoId}/clips`, { count: 1 });
    expect(clips.status).toBe(422);
    expect(clips.json.errors).toEqual([{ field: 'id', message: expect.stringContaining('no audio track') }]);
  });

  it('refuses up front what is knowable without downloading, keeping nothing', async () => {
    const { id: userId, auth } = await newUser();
    const missing = await call(auth, 'POST', '/v1/videos/import-file', { url: `${filesUrl}/gone.mp4` });
    expect(missing.status).toBe(422);
    expect(missing.json.errors).toEqual([{ field: 'url', message: expect.stringContaining('HTTP 404') }]);
    const badClips = await call(auth, 'POST', '/v1/videos/import-file', { url: `${filesUrl}/talk.mp4`, autoClips: { count: 50 } });
    expect(badClips.status).toBe(400);
    expect(badClips.json.errors[0].field).toMatch(/^autoClips/);
    expect(await db().selectFrom('videos').select('id').where('user_id', '=', userId).execute()).toEqual([]);
  });
});
