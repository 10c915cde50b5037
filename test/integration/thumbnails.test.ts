import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviders } from '../../providers';
import type { ActivityDeps } from '../../activities/deps';
import { createThumbnailActivities, type ThumbnailActivities } from '../../activities/thumbnails';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { mediaStoreFor } from '../../lib/media/store';
import { createSecretBox, secretAad } from '../../lib/secrets';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { imageSize, startCloudinarySandbox, type CloudinarySandbox } from '../../sandbox/cloudinary';
import { startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { USER_SCOPES } from '../../schemas/api-keys';
import { THUMBNAIL_STYLE_SEEDS } from '../../db/seed/thumbnails';
import { makeTestVideo } from '../media/media-fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

const ALL_STYLES = THUMBNAIL_STYLE_SEEDS.map((s) => s.key);
const TRANSCRIPT = [
  'Today I want to show you how I plan a whole month of videos in a single afternoon.',
  'The first step is to write down every question your audience asked in the comments last month.',
  'Batch filming saves me roughly nine hours a week because the lights and the camera stay set up.',
  'Finally, schedule the uploads for the same weekday and hour, because consistency trains your viewers.',
].join(' ');

/**
 * Thumbnail generation through the HTTP API on the real stack: PostgreSQL, Temporal, the worker
 * with the real activities, ffmpeg rendering, and @anthropic-ai/sdk, cloudinary and googleapis
 * pointed at in-process sandboxes.
 */
describe('thumbnail generation (API + real stack + sandboxes)', () => {
  let platform: TestPlatform;
  let anthropic: SandboxServer;
  let cloudinary: CloudinarySandbox;
  let google: GoogleSandbox;
  let thumbnailActivities: ThumbnailActivities | undefined;
  let mediaDir: string;
  let videoFile: string;
  let storedVideo: { path: string | null; url: string };
  const secrets = createSecretBox({ activeKeyId: 't1', keys: new Map([['t1', randomBytes(32)]]) });

  beforeAll(async () => {
    mediaDir = mkdtempSync(join(tmpdir(), 'thumbnails-test-'));
    [anthropic, cloudinary, google, videoFile] = await Promise.all([
      startAnthropicSandbox({ port: 0 }),
      startCloudinarySandbox({ ...SANDBOX_CREDENTIALS.cloudinary, port: 0 }),
      startGoogleSandbox({ port: 0 }),
      makeTestVideo(join(mediaDir, 'talk.mp4'), { seconds: 4, size: '640x360' }),
    ]);
    const sandboxUrls = { anthropic: anthropic.url, cloudinary: cloudinary.url, google: google.url };
    // The main worker registers these names now; they call real activities built with a secret box
    // (for YouTube tokens) once the test database exists. Renders run on the platform's media worker.
    const names = Object.keys(createThumbnailActivities({} as ActivityDeps)) as Array<keyof ThumbnailActivities>;
    const late = Object.fromEntries(
      names.map((name) => [name, (...args: unknown[]) => (thumbnailActivities![name] as (...a: unknown[]) => unknown)(...args)]),
    );
    platform = await startTestPlatform({ sandboxUrls, env: { DATA_DIR: mediaDir }, activities: (real) => ({ ...real, ...late }) });
    const logger = createLogger('silent');
    const providers = createProviders({ config: platform.config, logger, db: platform.database.db, sandboxUrls });
    thumbnailActivities = createThumbnailActivities({ db: platform.database.db, logger, providers, secrets });
    const stored = await mediaStoreFor(platform.config, () => providers.cloudinary).put(
      `videos/${randomUUID()}/source.mp4`,
      videoFile,
      'video',
    );
    storedVideo = { path: stored.path, url: stored.url };
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([anthropic?.stop(), cloudinary?.stop(), google?.stop()]);
    rmSync(mediaDir, { recursive: true, force: true });
  });

  const db = () => platform.database.db;
  const call = (auth: Record<string, string>, method: string, path: string, body?: unknown) =>
    api(platform.apiUrl, method, path, body, auth);

  async function newUser(plan: string) {
    const user = await createUser(db(), { email: `thumbs-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return { id: user.id, auth: { authorization: `Bearer ${plaintext}` } };
  }

  /** A video of the user: a YouTube import with its file in the media store (frames as backgrounds), or one without (styled backgrounds). */
  async function newVideo(userId: string, options: { withFile: boolean }) {
    const row = await db()
      .insertInto('videos')
      .values({
        user_id: userId,
        source_type: 'youtube',
        youtube_video_id: randomBytes(8).toString('base64url').slice(0, 11),
        title: 'Plan a month of videos in one afternoon',
        transcript: TRANSCRIPT,
        processing_status: 'completed',
        file_path: options.withFile ? storedVideo.path : null,
        media_url: options.withFile ? storedVideo.url : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function connectYoutube(userId: string) {
    const row = await db()
      .insertInto('youtube_oauth_tokens')
      .values({ user_id: userId, channel_id: `UC${randomBytes(11).toString('hex')}`, encrypted_tokens: 'pending' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sealed = secrets.encrypt(
      JSON.stringify({ access_token: `ya29.owner-${userId}`, refresh_token: '1//refresh' }),
      secretAad('youtube_oauth_tokens', 'encrypted_tokens', row.id),
    );
    await db()
      .updateTable('youtube_oauth_tokens')
      .set({ encrypted_tokens: sealed, token_expires_at: new Date(Date.now() + 3_600_000) })
      .where('id', '=', row.id)
      .execute();
  }

  const request = (overrides: Record<string, unknown> = {}) => ({
    topic: 'Plan a month of videos',
    subTopic: 'in one afternoon',
    expression: 'excited',
    aspectRatio: '16:9',
    ...overrides,
  });
  const runResult = (runId: string) => platform.client.workflow.getHandle(runId).result();
  const usage = (userId: string) =>
    db()
      .selectFrom('thumbnail_usage')
      .select(['aspect_ratio', 'iterations_used', 'iterations_reserved', 'thumbnails_generated'])
      .where('user_id', '=', userId)
      .execute();

  type Delivered = Awaited<ReturnType<typeof delivered>>;
  /** The uploaded image as Cloudinary serves it, with its size read from the PNG/JPEG header. */
  async function delivered(url: string) {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    return { bytes, size: imageSize(bytes), sha: createHash('sha256').update(bytes).digest('hex') };
  }

  it('renders one real image per style from video frames, uploads it, lists it on the job and charges one iteration', async () => {
    const user = await newUser('basic');
    const videoId = await newVideo(user.id, { withFile: true });
    const started = await call(user.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request({ contentCategory: 'education' }));
    expect(started.status).toBe(202);
    expect(started.json.runId).toBe(`thumbnails:${started.json.jobId}`);
    const result = await runResult(started.json.runId);
    expect(result).toMatchObject({ status: 'completed', failedStyles: [], charged: true });

    const job = await call(user.auth, 'GET', `/v1/thumbnail-jobs/${started.json.jobId}`);
    expect(job.status).toBe(200);
    expect(job.json).toMatchObject({
      status: 'completed',
      progress: 100,
      currentStyle: null,
      retryCount: 0,
      errorMessage: null,
      thumbnailsRequested: 4,
      thumbnailsGenerated: 4,
    });
    expect(job.json.thumbnails.map((t: { style: string }) => t.style)).toEqual(ALL_STYLES);
    const images: Delivered[] = await Promise.all(job.json.thumbnails.map((t: { url: string }) => delivered(t.url)));
    for (const [i, image] of images.entries()) {
      expect(image.size).toEqual({ width: 1280, height: 720, format: 'jpg' });
      expect(job.json.thumbnails[i]).toMatchObject({ width: 1280, height: 720, format: 'jpg', version: 1, bytes: image.bytes.length });
      expect(job.json.thumbnails[i].overlayText.length).toBeGreaterThan(0);
    }
    expect(new Set(images.map((i) => i.sha)).size).toBe(ALL_STYLES.length);

    // Renders ran on the media worker's queue; everything else on the main queue.
    const history = await platform.client.workflow.getHandle(started.json.runId).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes] : [],
    );
    const queueOf = (type: string) => [...new Set(scheduled.filter((a) => a.activityType?.name === type).map((a) => a.taskQueue?.name))];
    expect(queueOf('renderThumbnail')).toEqual([platform.queues.media]);
    expect(queueOf('writeThumbnailCopy')).toEqual([platform.queues.main]);

    const run = await call(user.auth, 'GET', `/v1/runs/${encodeURIComponent(started.json.runId)}`);
    expect(run.json).toMatchObject({ status: 'completed', progress: 100 });
    expect(await usage(user.id)).toEqual([{ aspect_ratio: '16:9', iterations_used: 1, iterations_reserved: 0, thumbnails_generated: 4 }]);
    const aiCalls = await db().selectFrom('ai_usage_logs').select('operation').where('run_id', '=', started.json.runId).execute();
    expect(aiCalls.map((c) => c.operation)).toEqual(Array(4).fill('thumbnails.copy'));
  });

  it('renders 9:16 styled backgrounds as PNG when the video has no file', async () => {
    const user = await newUser('basic');
    const videoId = await newVideo(user.id, { withFile: false });
    const started = await call(
      user.auth,
      'POST',
      `/v1/videos/${videoId}/thumbnails`,
      request({ aspectRatio: '9:16', styles: ['vibrant_pop', 'cinematic_dark'] }),
    );
    expect(started.status).toBe(202);
    await runResult(started.json.runId);
    const job = await call(user.auth, 'GET', `/v1/thumbnail-jobs/${started.json.jobId}`);
    expect(job.json.thumbnails.map((t: { style: string }) => t.style)).toEqual(['vibrant_pop', 'cinematic_dark']);
    const images: Delivered[] = await Promise.all(job.json.thumbnails.map((t: { url: string }) => delivered(t.url)));
    expect(images.map((i) => i.size)).toEqual([
      { width: 720, height: 1280, format: 'png' },
      { width: 720, height: 1280, format: 'png' },
    ]);
    expect(images[0]!.sha).not.toBe(images[1]!.sha);
  });

  it('retries a style whose Cloudinary upload answers 500 twice, and still keeps exactly one row and one asset per style', async () => {
    const user = await newUser('basic');
    const videoId = await newVideo(user.id, { withFile: false });
    const uploadsBefore = cloudinary.server.requests.filter((r) => r.path.includes('/image/upload')).length;
    cloudinary.server.faults.inject({ match: { method: 'POST', path: '/v1_1/' }, status: 500, times: 2 });
    const styles = ['bold_contrast', 'clean_minimal'];
    const started = await call(user.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request({ styles }));
    expect(started.status).toBe(202);
    const result = await runResult(started.json.runId);
    expect(result.status).toBe('completed');

    const job = await call(user.auth, 'GET', `/v1/thumbnail-jobs/${started.json.jobId}`);
    expect(job.json).toMatchObject({ status: 'completed', retryCount: 2, thumbnailsGenerated: 2 });
    const rows = await db()
      .selectFrom('video_thumbnails')
      .select(['style_name', 'cloudinary_public_id'])
      .where('job_id', '=', started.json.jobId)
      .execute();
    expect(rows.map((r) => r.style_name).sort()).toEqual([...styles].sort());
    expect(rows.map((r) => r.cloudinary_public_id).sort()).toEqual(styles.map((s) => `thumbnails/${started.json.jobId}/${s}-v1`).sort());
    const assets = [...cloudinary.assets.keys()].filter((key) => key.includes(started.json.jobId));
    expect(assets).toHaveLength(2);
    const uploads = cloudinary.server.requests.filter((r) => r.path.includes('/image/upload')).slice(uploadsBefore);
    expect(uploads.map((r) => r.status)).toEqual([500, 500, 200, 200]);
  });

  it('refuses a job over the tier limit with 402 naming the limit and its reset date, and lets only what fits through a race', async () => {
    const user = await newUser('basic');
    const videoId = await newVideo(user.id, { withFile: false });
    const now = new Date();
    const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    const resetsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
    // Basic allows 5 per month: 3 are used, so 2 of 4 concurrent requests fit.
    await db()
      .insertInto('thumbnail_usage')
      .values({ user_id: user.id, aspect_ratio: '16:9', iterations_used: 3, period_start: periodStart, period_end: resetsAt })
      .execute();
    const body = request({ styles: ['clean_minimal'] });
    const answers = await Promise.all(Array.from({ length: 4 }, () => call(user.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, body)));
    expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 402, 402]);
    const refused = answers.find((a) => a.status === 402)!;
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.json).toMatchObject({ status: 402, plan: 'basic', aspectRatio: '16:9', limit: 5, resetsAt: resetsAt.toISOString() });
    expect(refused.json.type).toContain('thumbnail-limit-exceeded');
    expect(refused.json.detail).toContain(resetsAt.toISOString().slice(0, 10));

    await Promise.all(answers.filter((a) => a.status === 202).map((a) => runResult(a.json.runId)));
    expect(await usage(user.id)).toEqual([{ aspect_ratio: '16:9', iterations_used: 5, iterations_reserved: 0, thumbnails_generated: 2 }]);
    // The other ratio has its own allowance.
    expect(
      (await call(user.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request({ aspectRatio: '9:16', styles: ['clean_minimal'] })))
        .status,
    ).toBe(202);

    // The free tier's single try never resets.
    const free = await newUser('free');
    const freeVideo = await newVideo(free.id, { withFile: false });
    const first = await call(free.auth, 'POST', `/v1/videos/${freeVideo}/thumbnails`, request({ styles: ['clean_minimal'] }));
    expect(first.status).toBe(202);
    const second = await call(free.auth, 'POST', `/v1/videos/${freeVideo}/thumbnails`, request({ styles: ['clean_minimal'] }));
    expect(second.json).toMatchObject({ status: 402, plan: 'free', limit: 1, resetsAt: null });
    await runResult(first.json.runId);
  });

  it('refine writes version 2 linked to its parent; selecting twice leaves one selected; YouTube gets the chosen image', async () => {
    const user = await newUser('premium');
    await connectYoutube(user.id);
    const videoId = await newVideo(user.id, { withFile: false });
    const started = await call(
      user.auth,
      'POST',
      `/v1/videos/${videoId}/thumbnails`,
      request({ styles: ['bold_contrast', 'clean_minimal'] }),
    );
    await runResult(started.json.runId);
    const [first, second] = (await call(user.auth, 'GET', `/v1/thumbnail-jobs/${started.json.jobId}`)).json.thumbnails;

    const refined = await call(user.auth, 'POST', `/v1/thumbnails/${first.id}/refine`, {
      instruction: 'make the text shorter and the colours louder',
    });
    expect(refined.status).toBe(202);
    expect(refined.json).toMatchObject({ parentThumbnailId: first.id, version: 2 });
    await runResult(refined.json.runId);
    const refinedJob = await call(user.auth, 'GET', `/v1/thumbnail-jobs/${refined.json.jobId}`);
    expect(refinedJob.json.thumbnails).toHaveLength(1);
    const v2 = refinedJob.json.thumbnails[0];
    expect(v2).toMatchObject({
      style: 'bold_contrast',
      version: 2,
      parentThumbnailId: first.id,
      refinementInstruction: 'make the text shorter and the colours louder',
      width: 1280,
      height: 720,
    });
    expect((await delivered(v2.url)).size).toEqual({ width: 1280, height: 720, format: 'png' });

    expect((await call(user.auth, 'POST', `/v1/thumbnails/${second.id}/select`, {})).json.thumbnail).toMatchObject({
      id: second.id,
      isSelected: true,
    });
    const selected = await call(user.auth, 'POST', `/v1/thumbnails/${v2.id}/select`, { uploadToYouTube: true });
    expect(selected.status).toBe(202);
    expect(selected.json.thumbnail).toMatchObject({ id: v2.id, isSelected: true });
    await runResult(selected.json.upload.runId);
    const rows = await db()
      .selectFrom('video_thumbnails')
      .select(['id', 'is_selected', 'is_uploaded_to_youtube'])
      .where('video_id', '=', videoId)
      .execute();
    expect(rows.filter((r) => r.is_selected).map((r) => r.id)).toEqual([v2.id]);
    expect(rows.filter((r) => r.is_uploaded_to_youtube).map((r) => r.id)).toEqual([v2.id]);
    const set = google.requests.filter((r) => r.path === '/upload/youtube/v3/thumbnails/set');
    expect(set).toHaveLength(1);
    expect(set[0]!.status).toBe(200);
  });

  it("answers 404 for another user's video, job and thumbnail, and 400 for unknown vocabulary", async () => {
    const owner = await newUser('basic');
    const other = await newUser('basic');
    const videoId = await newVideo(owner.id, { withFile: false });
    const started = await call(owner.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request({ styles: ['clean_minimal'] }));
    await runResult(started.json.runId);
    const [thumbnail] = (await call(owner.auth, 'GET', `/v1/thumbnail-jobs/${started.json.jobId}`)).json.thumbnails;

    expect((await call(other.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request())).status).toBe(404);
    expect((await call(other.auth, 'GET', `/v1/thumbnail-jobs/${started.json.jobId}`)).status).toBe(404);
    expect((await call(other.auth, 'POST', `/v1/thumbnails/${thumbnail.id}/refine`, { instruction: 'x' })).status).toBe(404);
    expect((await call(other.auth, 'POST', `/v1/thumbnails/${thumbnail.id}/select`, {})).status).toBe(404);
    expect(
      (await call(owner.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request({ referenceImageIds: [randomUUID()] }))).status,
    ).toBe(404);

    const badStyle = await call(owner.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request({ styles: ['neon_glitch'] }));
    expect(badStyle.status).toBe(400);
    expect(badStyle.json.errors).toEqual([{ field: 'styles', message: expect.stringContaining('neon_glitch') }]);
    expect((await call(owner.auth, 'POST', `/v1/videos/${videoId}/thumbnails`, request({ aspectRatio: '4:3' }))).status).toBe(400);
    // Nothing was reserved by the refused requests: one iteration used, none held.
    expect(await usage(owner.id)).toEqual([{ aspect_ratio: '16:9', iterations_used: 1, iterations_reserved: 0, thumbnails_generated: 1 }]);
  });
});
