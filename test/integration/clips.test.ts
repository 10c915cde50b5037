import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { probeMedia } from '../../lib/media/probe';
import { parseTranscript } from '../../lib/transcript';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { ClipsResult } from '../../schemas/clips';
import { changedPixelShare, makeTestVideo, rgbPixels } from '../media/media-fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { TALK_SRT, unpunctuatedSrt } from './clips-fixtures';

/**
 * Video → clips through the HTTP API on the real stack: PostgreSQL, Temporal, the main and media
 * workers, @anthropic-ai/sdk against the in-process sandbox, real ffmpeg on a generated video.
 */
describe('video → clips (API + real stack + Anthropic sandbox + ffmpeg)', () => {
  let platform: TestPlatform;
  let anthropic: SandboxServer;
  let dataDir: string;
  let source: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'clips-it-'));
    anthropic = await startAnthropicSandbox({ port: 0 });
    [platform, source] = await Promise.all([
      startTestPlatform({ sandboxUrls: { anthropic: anthropic.url }, env: { DATA_DIR: dataDir } }),
      makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '320x180', fps: 25 }),
    ]);
  });
  afterAll(async () => {
    await platform?.stop();
    await anthropic?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const db = () => platform.database.db;
  const call = (auth: Record<string, string>, method: string, path: string, body?: unknown) =>
    api(platform.apiUrl, method, path, body, auth);

  async function newUser(plan = 'basic') {
    const user = await createUser(db(), { email: `clips-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return { id: user.id, auth: { authorization: `Bearer ${plaintext}` } };
  }

  async function upload(auth: Record<string, string>, file: { bytes: Buffer; name: string; type: string }, transcript?: string) {
    const form = new FormData();
    form.append('file', new Blob([file.bytes], { type: file.type }), file.name);
    if (transcript !== undefined) form.append('transcript', transcript);
    const res = await fetch(`${platform.apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: auth });
    return { status: res.status, json: (await res.json()) as any };
  }

  const uploadTalk = async (auth: Record<string, string>, transcript?: string) =>
    upload(auth, { bytes: await readFile(source), name: 'talk.mp4', type: 'video/mp4' }, transcript);

  const outcome = async (runId: string) => {
    const handle = platform.client.workflow.getHandle(runId);
    return handle.result().then(
      (result: ClipsResult) => ({ result, error: undefined }),
      (error: any) => ({ result: undefined, error }),
    );
  };

  it('uploads a video with its SRT, picks moments and renders each clip per ratio with burned captions', async () => {
    const { auth } = await newUser();
    const uploaded = await uploadTalk(auth, TALK_SRT);
    expect(uploaded.status).toBe(201);
    expect(uploaded.json).toMatchObject({ width: 320, height: 180, hasAudio: true, transcript: { source: 'uploaded_srt', segments: 4 } });
    expect(uploaded.json.durationSeconds).toBeCloseTo(9, 0);
    const { videoId } = uploaded.json;

    const started = await call({ ...auth, 'idempotency-key': randomUUID() }, 'POST', `/v1/videos/${videoId}/clips`, {
      count: 2,
      aspectRatios: ['9:16', '16:9'],
      captions: { style: 'bold' },
      minSeconds: 1.5,
      maxSeconds: 3,
    });
    expect(started.status).toBe(202);
    expect(started.json.runId).toMatch(new RegExp(`^clips:${videoId}:[0-9a-f-]{36}$`));
    const { result, error } = await outcome(started.json.runId);
    expect(error).toBeUndefined();
    expect(result!.clips).toHaveLength(2);
    expect(result!.failedClips).toEqual([]);

    const listed = await call(auth, 'GET', `/v1/videos/${videoId}/clips`);
    expect(listed.status).toBe(200);
    const clips: any[] = listed.json.data;
    expect(clips.map((c) => c.clipIndex as number)).toEqual([0, 1]);
    for (const clip of clips) {
      expect(clip).toMatchObject({ runId: started.json.runId, renderStatus: 'completed', status: 'generated', selectionMethod: 'model' });
      expect(clip.durationSeconds).toBeGreaterThanOrEqual(1.5);
      expect(clip.durationSeconds).toBeLessThanOrEqual(3);
      expect(clip.endSeconds).toBeLessThanOrEqual(uploaded.json.durationSeconds);
      for (const score of Object.values(clip.scores)) expect(score).toEqual(expect.any(Number));

      const vertical = await probeMedia(fileURLToPath(clip.fileUrls['9:16']));
      const wide = await probeMedia(fileURLToPath(clip.fileUrls['16:9']));
      expect([vertical.width, vertical.height]).toEqual([180, 320]);
      expect([wide.width, wide.height]).toEqual([320, 180]);
      for (const file of [vertical, wide]) expect(Math.abs(file.durationSeconds - clip.durationSeconds)).toBeLessThanOrEqual(0.1);
      expect(clip.thumbnailUrl).toMatch(/^file:.*thumbnail\.jpg$/);

      // The caption files parse and carry the clip's own words, re-timed to the clip.
      const srt = parseTranscript(clip.captions.srt, 'srt');
      const vtt = parseTranscript(clip.captions.vtt, 'vtt');
      expect(srt.text).toBe(clip.transcript);
      expect(vtt.text).toBe(clip.transcript);
      expect(srt.segments[0]!.start).toBeLessThan(0.2);
      expect(srt.segments.at(-1)!.end).toBeLessThanOrEqual(clip.durationSeconds + 0.001);
      expect(await readFile(fileURLToPath(clip.captions.srtUrl), 'utf8')).toBe(clip.captions.srt);

      // Burned captions: the bottom band differs from the source frame at the same instant; the top does not.
      const at = Math.min(1, clip.durationSeconds / 2);
      const band = { x: 0, y: 120, width: 320, height: 50 };
      const top = { x: 0, y: 0, width: 320, height: 50 };
      const [captioned, plain, captionedTop, plainTop] = await Promise.all([
        rgbPixels(fileURLToPath(clip.fileUrls['16:9']), band, at),
        rgbPixels(source, band, clip.startSeconds + at),
        rgbPixels(fileURLToPath(clip.fileUrls['16:9']), top, at),
        rgbPixels(source, top, clip.startSeconds + at),
      ]);
      expect(changedPixelShare(captioned, plain)).toBeGreaterThan(0.02);
      expect(changedPixelShare(captionedTop, plainTop)).toBeLessThan(0.01);
    }

    const captionRows = await db()
      .selectFrom('captions')
      .select(['clip_id', 'style'])
      .where(
        'clip_id',
        'in',
        clips.map((c) => c.id as string),
      )
      .execute();
    expect(captionRows).toHaveLength(2);
    const run = await db()
      .selectFrom('job_runs')
      .select(['status', 'progress'])
      .where('id', '=', started.json.runId)
      .executeTakeFirstOrThrow();
    expect(run).toEqual({ status: 'completed', progress: 100 });

    // Review: approve one, reject the other with a reason.
    const approved = await call(auth, 'POST', `/v1/clips/${clips[0].id}/approve`);
    expect(approved.json).toMatchObject({ status: 'approved', approvedAt: expect.any(String) });
    const rejected = await call(auth, 'POST', `/v1/clips/${clips[1].id}/reject`, { reason: 'off-brand' });
    expect(rejected.json).toMatchObject({ status: 'rejected', rejectionReason: 'off-brand' });
    expect((await call(auth, 'GET', `/v1/clips/${clips[1].id}`)).json.status).toBe('rejected');
    // Someone else's clip is not found.
    const other = await newUser();
    expect((await call(other.auth, 'GET', `/v1/clips/${clips[0].id}`)).status).toBe(404);
    expect((await call(other.auth, 'POST', `/v1/videos/${videoId}/clips`, { count: 1 })).status).toBe(404);
  });

  it('makes the clips asked for from a 2-minute talk whose SRT has no punctuation, cut on pauses', async () => {
    const { auth } = await newUser();
    const talk = await makeTestVideo(join(dataDir, 'long-talk.mp4'), { seconds: 120, size: '160x90', fps: 5 });
    const uploaded = await upload(auth, { bytes: await readFile(talk), name: 'long-talk.mp4', type: 'video/mp4' }, unpunctuatedSrt(120));
    expect(uploaded.status).toBe(201);
    const started = await call(auth, 'POST', `/v1/videos/${uploaded.json.videoId}/clips`, {
      count: 3,
      captions: null,
      minSeconds: 10,
      maxSeconds: 30,
    });
    expect(started.status).toBe(202);
    const { result, error } = await outcome(started.json.runId);
    expect(error).toBeUndefined();
    expect(result!.clips).toHaveLength(3);
    const clips: any[] = (await call(auth, 'GET', `/v1/videos/${uploaded.json.videoId}/clips`)).json.data;
    expect(clips).toHaveLength(3);
    for (const clip of clips) {
      expect(clip).toMatchObject({ renderStatus: 'completed', selectionMethod: 'pause_windows', scores: { hook: null } });
      expect(clip.durationSeconds).toBeGreaterThanOrEqual(10);
      expect(clip.durationSeconds).toBeLessThanOrEqual(30);
    }
  });

  it('fails the run with TranscriptUnavailable when the video has no timed transcript', async () => {
    const { auth } = await newUser();
    const uploaded = await uploadTalk(auth);
    expect(uploaded.status).toBe(201);
    expect(uploaded.json.transcript).toBeNull();
    const modelCalls = () => anthropic.requests.filter((r) => r.path === '/v1/messages').length;
    const callsBefore = modelCalls();
    const started = await call(auth, 'POST', `/v1/videos/${uploaded.json.videoId}/clips`, { count: 1, minSeconds: 1, maxSeconds: 2 });
    expect(started.status).toBe(202);
    const { error } = await outcome(started.json.runId);
    expect(error?.cause?.cause?.type).toBe('TranscriptUnavailable'); // WorkflowFailedError → ActivityFailure → ApplicationFailure
    const run = await call(auth, 'GET', `/v1/runs/${encodeURIComponent(started.json.runId)}`);
    expect(run.json).toMatchObject({ status: 'failed', error: { type: 'TranscriptUnavailable' } });
    expect(modelCalls()).toBe(callsBefore);
  });

  it('refuses a non-video upload with a problem naming the file field', async () => {
    const { auth } = await newUser();
    const text = await upload(auth, { bytes: Buffer.from('just some notes'), name: 'notes.txt', type: 'text/plain' });
    expect(text.status).toBe(422);
    expect(text.json.errors).toEqual([{ field: 'file', message: expect.stringContaining('text/plain') }]);
    const fake = await upload(auth, { bytes: Buffer.from('not really an mp4'), name: 'fake.mp4', type: 'video/mp4' });
    expect(fake.status).toBe(422);
    expect(fake.json.errors[0].field).toBe('file');
    const badTranscript = await uploadTalk(auth, 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n');
    expect(badTranscript.status).toBe(400);
    expect(badTranscript.json.errors[0].field).toBe('transcript');
    const json = await call(auth, 'POST', '/v1/videos/upload', { file: 'x' });
    expect(json.status).toBe(415);
  });

  it("enforces the plan's upload size, duration and clips per video at request time", async () => {
    const user = await newUser('free');
    const features = () =>
      db()
        .selectFrom('subscription_plan_features')
        .innerJoin('subscription_plans', 'subscription_plans.id', 'subscription_plan_features.plan_id')
        .where('subscription_plans.slug', '=', 'free');
    const free = await features().select(['clips_per_video', 'max_upload_bytes', 'max_video_duration_seconds']).executeTakeFirstOrThrow();
    const uploaded = await uploadTalk(user.auth, TALK_SRT);
    const tooMany = await call(user.auth, 'POST', `/v1/videos/${uploaded.json.videoId}/clips`, { count: free.clips_per_video + 1 });
    expect(tooMany.status).toBe(422);
    expect(tooMany.json).toMatchObject({ plan: 'free', errors: [{ field: 'count' }] });

    // Shrink the free plan's limits for this check (the seed restores them on the next start).
    const planId = (await db().selectFrom('subscription_plans').select('id').where('slug', '=', 'free').executeTakeFirstOrThrow()).id;
    const limit = async (values: { max_upload_bytes?: number; max_video_duration_seconds?: number }) =>
      db().updateTable('subscription_plan_features').set(values).where('plan_id', '=', planId).execute();
    try {
      await limit({ max_upload_bytes: 10_000 });
      const big = await uploadTalk(user.auth);
      expect(big.status).toBe(413);
      expect(big.json.errors[0].field).toBe('file');
      await limit({ max_upload_bytes: free.max_upload_bytes, max_video_duration_seconds: 5 });
      const long = await uploadTalk(user.auth);
      expect(long.status).toBe(422);
      expect(long.json).toMatchObject({ plan: 'free', errors: [{ field: 'file' }] });
      const longVideo = await call(user.auth, 'POST', `/v1/videos/${uploaded.json.videoId}/clips`, { count: 1 });
      expect(longVideo.status).toBe(422);
    } finally {
      await limit({ max_upload_bytes: free.max_upload_bytes, max_video_duration_seconds: free.max_video_duration_seconds });
    }
  });
});
