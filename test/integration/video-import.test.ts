import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProviders } from '../../providers';
import { createVideoImportActivities, type VideoImportActivities, type VideoImportActivityDeps } from '../../activities/video-import';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { JobTypeAttr, UserIdAttr, VideoIdAttr } from '../../lib/search-attributes';
import { createSecretBox, secretAad } from '../../lib/secrets';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { RESERVED_VIDEO_IDS, startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import { VIDEO_IMPORT_JOB_TYPE } from '../../workflows/video-import/contract';
import { USER_SCOPES } from '../../schemas/api-keys';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { decodedPayload } from '../helpers/temporal';

const BASIC_TYPES = ['transcript', 'summary', 'chapters', 'blog_post', 'social_posts', 'quotes', 'newsletter'];
const FREE_TYPES = ['transcript', 'summary'];

/** A talk long enough for the Anthropic sandbox to extract from (it summarises the transcript it is sent). */
const SUPPLIED_TRANSCRIPT = [
  'Today I want to show you how I plan a whole month of videos in a single afternoon.',
  'The first step is to write down every question your audience asked in the comments last month.',
  'I group those questions into three themes, and each theme becomes a short series of four videos.',
  'Batch filming saves me roughly nine hours a week because the lights and the camera stay set up.',
  'The second step is to script only the hook and the ending, and to talk freely in the middle.',
  'Finally, schedule the uploads for the same weekday and hour, because consistency trains your viewers.',
].join(' ');

/**
 * The import through the HTTP API on the real stack: PostgreSQL, Temporal, the worker with the
 * real activities, googleapis and @anthropic-ai/sdk pointed at the in-process sandboxes.
 */
describe('video import → AI content (API + real stack + sandboxes)', () => {
  let platform: TestPlatform;
  let google: GoogleSandbox;
  let anthropic: SandboxServer;
  let importActivities: VideoImportActivities | undefined;
  const secrets = createSecretBox({ activeKeyId: 't1', keys: new Map([['t1', randomBytes(32)]]) });

  beforeAll(async () => {
    [google, anthropic] = await Promise.all([startGoogleSandbox({ port: 0 }), startAnthropicSandbox({ port: 0 })]);
    // The worker registers these names now; they call the real activities built once the database exists.
    const names = Object.keys(createVideoImportActivities({} as VideoImportActivityDeps)) as Array<keyof VideoImportActivities>;
    const late = Object.fromEntries(
      names.map((name) => [name, (...args: unknown[]) => (importActivities![name] as (...a: unknown[]) => unknown)(...args)]),
    );
    platform = await startTestPlatform({ activities: (real) => ({ ...real, ...late }) });
    const logger = createLogger('silent');
    const providers = createProviders({
      config: platform.config,
      logger,
      db: platform.database.db,
      sandboxUrls: { google: google.url, anthropic: anthropic.url },
    });
    importActivities = createVideoImportActivities({ db: platform.database.db, logger, providers, secrets });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([google?.stop(), anthropic?.stop()]);
  });

  const db = () => platform.database.db;
  const call = (auth: Record<string, string>, method: string, path: string, body?: unknown) =>
    api(platform.apiUrl, method, path, body, auth);

  async function newUser(plan: string) {
    const user = await createUser(db(), { email: `video-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return { id: user.id, auth: { authorization: `Bearer ${plaintext}` } };
  }

  /** The channel the sandbox says a video belongs to. */
  async function channelOf(youtubeVideoId: string): Promise<string> {
    const res = await fetch(`${google.url}/youtube/v3/videos?id=${youtubeVideoId}&part=snippet&key=test`);
    return ((await res.json()) as { items: Array<{ snippet: { channelId: string } }> }).items[0]!.snippet.channelId;
  }

  /** A connected YouTube channel (the given one, else some other): its (sealed) token lets the worker read the owner's captions. */
  async function connectYoutube(userId: string, channelId = `UC${randomBytes(11).toString('hex')}`) {
    const row = await db()
      .insertInto('youtube_oauth_tokens')
      .values({ user_id: userId, channel_id: channelId, encrypted_tokens: 'pending' })
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

  async function connectDrive(userId: string, tokens: { access_token: string; refresh_token: string }, expiresAt: Date) {
    const row = await db()
      .insertInto('cloud_storage_credentials')
      .values({
        user_id: userId,
        provider: 'google_drive',
        encrypted_tokens: 'pending',
        folder_naming_pattern: 'AmplifyContent/{video_code}/{content_type}',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sealed = secrets.encrypt(JSON.stringify(tokens), secretAad('cloud_storage_credentials', 'encrypted_tokens', row.id));
    await db()
      .updateTable('cloud_storage_credentials')
      .set({ encrypted_tokens: sealed, token_expires_at: expiresAt })
      .where('id', '=', row.id)
      .execute();
    return row.id;
  }

  const videoId = () => randomBytes(8).toString('base64url').slice(0, 11);
  const watchUrl = (id: string) => `https://www.youtube.com/watch?v=${id}`;
  /** A video id the sandbox describes as at most `maxMinutes` long (its durations are 4-28 minutes), for the free plan's cap. */
  async function shortVideoId(maxMinutes = 15): Promise<string> {
    for (;;) {
      const id = videoId();
      const res = await fetch(`${google.url}/youtube/v3/videos?id=${id}&part=contentDetails&key=test`);
      const duration: string = ((await res.json()) as any).items[0].contentDetails.duration;
      const [, h, m] = /PT(?:(\d+)H)?(?:(\d+)M)?/.exec(duration)!;
      if (!h && Number(m ?? 0) < maxMinutes) return id;
    }
  }
  const runResult = (runId: string) => platform.client.workflow.getHandle(runId).result();
  async function runFailure(runId: string): Promise<{ type?: string; message?: string }> {
    const err: any = await runResult(runId).then(
      () => undefined,
      (e: unknown) => e,
    );
    // WorkflowFailedError → (ActivityFailure →) ApplicationFailure carrying the type.
    let cause = err?.cause;
    while (cause && !cause.type && cause.cause) cause = cause.cause;
    return { type: cause?.type, message: cause?.message };
  }
  const usage = (userId: string) =>
    db().selectFrom('subscription_usage').select(['videos_processed', 'videos_reserved']).where('user_id', '=', userId).execute();
  const contentRows = (id: string) =>
    db()
      .selectFrom('video_content as vc')
      .innerJoin('content_types as ct', 'ct.id', 'vc.content_type_id')
      .select(['ct.key', 'vc.version', 'vc.id', 'vc.prompt_used_id', 'vc.tokens_used'])
      .where('vc.video_id', '=', id)
      .execute();

  it('imports a video: metadata, owner captions, one content row per plan type, usage counted once; regenerate writes version 2 with its parent', async () => {
    const user = await newUser('basic');
    const owned = videoId();
    await connectYoutube(user.id, await channelOf(owned));
    const started = await call(user.auth, 'POST', '/v1/videos/import', { url: `https://youtu.be/${owned}` });
    expect(started.status).toBe(202);
    expect(started.json.runId).toBe(`video-import:${started.json.videoId}`);
    const result = await runResult(started.json.runId);
    expect(result).toMatchObject({ videoId: started.json.videoId, failedContentTypes: [], quota: 'committed' });
    expect([...result.generatedContentTypes].sort()).toEqual([...BASIC_TYPES].sort());
    const described = await platform.client.workflow.getHandle(started.json.runId).describe();
    expect(described.typedSearchAttributes.get(VideoIdAttr)).toBe(started.json.videoId);
    expect(described.typedSearchAttributes.get(UserIdAttr)).toBe(user.id);
    expect(described.typedSearchAttributes.get(JobTypeAttr)).toBe(VIDEO_IMPORT_JOB_TYPE);

    const video = await call(user.auth, 'GET', `/v1/videos/${started.json.videoId}`);
    expect(video.status).toBe(200);
    expect(video.json).toMatchObject({ processingStatus: 'completed', progress: 100, transcriptSource: 'youtube_captions', error: null });
    expect(video.json.title).toEqual(expect.any(String));
    expect(video.json.channel.title).toEqual(expect.any(String));
    expect(video.json.durationSeconds).toBeGreaterThan(0);
    expect(video.json.tags.length).toBeGreaterThan(0);
    expect(video.json.content.map((c: { contentType: string }) => c.contentType).sort()).toEqual([...BASIC_TYPES].sort());

    const rows = await contentRows(started.json.videoId);
    expect(rows).toHaveLength(BASIC_TYPES.length);
    expect(rows.every((r) => r.version === 1)).toBe(true);
    expect(rows.filter((r) => r.key !== 'transcript').every((r) => r.prompt_used_id && (r.tokens_used ?? 0) > 0)).toBe(true);
    expect(await usage(user.id)).toEqual([{ videos_processed: 1, videos_reserved: 0 }]);
    const aiCalls = await db().selectFrom('ai_usage_logs').select('operation').where('run_id', '=', started.json.runId).execute();
    expect(aiCalls).toHaveLength(BASIC_TYPES.length - 1);

    const summary = await call(user.auth, 'GET', `/v1/videos/${started.json.videoId}/content/summary`);
    expect(summary.json).toMatchObject({ version: 1, parentContentId: null, aiProvider: 'anthropic', versions: [1] });
    expect(summary.json.content.length).toBeGreaterThan(50);

    const regen = await call(user.auth, 'POST', `/v1/videos/${started.json.videoId}/content/summary/regenerate`, {
      instructions: 'Make it shorter.',
    });
    expect(regen.status).toBe(202);
    expect(regen.json).toMatchObject({ version: 2, contentType: 'summary', runId: `video-content:${started.json.videoId}:summary:v2` });
    await runResult(regen.json.runId);
    const v2 = await call(user.auth, 'GET', `/v1/videos/${started.json.videoId}/content/summary`);
    expect(v2.json).toMatchObject({ version: 2, parentContentId: summary.json.id, instructions: 'Make it shorter.', versions: [1, 2] });
    const v1 = await call(user.auth, 'GET', `/v1/videos/${started.json.videoId}/content/summary?version=1`);
    expect(v1.json.id).toBe(summary.json.id);
    // Regenerating is not another import.
    expect(await usage(user.id)).toEqual([{ videos_processed: 1, videos_reserved: 0 }]);

    const again = await call(user.auth, 'POST', '/v1/videos/import', { url: watchUrl(video.json.youtubeVideoId) });
    expect(again.status).toBe(409);
    expect(again.json.videoId).toBe(started.json.videoId);
  });

  it('refuses bad input and plan-disallowed content types at request time, writing nothing', async () => {
    const user = await newUser('basic');
    const before = await db().selectFrom('videos').select('id').where('user_id', '=', user.id).execute();
    for (const url of [
      'https://vimeo.com/123456789',
      'http://169.254.169.254/latest/meta-data',
      'https://youtu.be/short',
      'file:///etc/passwd',
      'https://www.youtube.com.evil.test/watch?v=dQw4w9WgXcQ',
    ]) {
      const res = await call(user.auth, 'POST', '/v1/videos/import', { url });
      expect(res.status).toBe(400);
      expect(res.json.errors).toEqual([{ field: 'url', message: expect.stringContaining('YouTube') }]);
    }
    const forbidden = await call(user.auth, 'POST', '/v1/videos/import', { url: watchUrl(videoId()), contentTypes: ['summary', 'ebook'] });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json).toMatchObject({ plan: 'basic', disallowedContentTypes: ['ebook'] });
    const unknown = await call(user.auth, 'POST', '/v1/videos/import', { url: watchUrl(videoId()), contentTypes: ['haiku'] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors[0].field).toBe('contentTypes');
    const noDrive = await call(user.auth, 'POST', '/v1/videos/import', {
      url: watchUrl(videoId()),
      export: { provider: 'google_drive', formats: ['md'] },
    });
    expect(noDrive.status).toBe(422);
    expect(noDrive.json.errors[0].field).toBe('export.provider');
    expect(await db().selectFrom('videos').select('id').where('user_id', '=', user.id).execute()).toEqual(before);
    expect(await usage(user.id)).toEqual([]);
  });

  it("answers 404 for another user's video, content and regenerate", async () => {
    const owner = await newUser('basic');
    const other = await newUser('basic');
    const started = await call(owner.auth, 'POST', '/v1/videos/import', {
      url: watchUrl(videoId()),
      contentTypes: ['summary'],
      transcript: { content: SUPPLIED_TRANSCRIPT },
    });
    expect(started.status).toBe(202);
    await runResult(started.json.runId);
    expect((await call(other.auth, 'GET', `/v1/videos/${started.json.videoId}`)).status).toBe(404);
    expect((await call(other.auth, 'GET', `/v1/videos/${started.json.videoId}/content/summary`)).status).toBe(404);
    expect((await call(other.auth, 'POST', `/v1/videos/${started.json.videoId}/content/summary/regenerate`, {})).status).toBe(404);
    expect(await contentRows(started.json.videoId)).toHaveLength(1);
  });

  it('free tier: of 10 concurrent imports exactly one is accepted; the rest get 402/429 problems with the reason', async () => {
    const user = await newUser('free');
    const ids = await Promise.all(Array.from({ length: 10 }, () => shortVideoId()));
    const responses = await Promise.all(
      ids.map((id) =>
        call(user.auth, 'POST', '/v1/videos/import', { url: watchUrl(id), transcript: { content: SUPPLIED_TRANSCRIPT, format: 'text' } }),
      ),
    );
    const accepted = responses.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(1);
    for (const refused of responses.filter((r) => r.status !== 202)) {
      expect([402, 429]).toContain(refused.status);
      expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(refused.json.detail).toEqual(expect.any(String));
    }
    expect(responses.some((r) => r.status === 402 && /free plan/.test(r.json.detail))).toBe(true);
    const result = await runResult(accepted[0]!.json.runId);
    expect([...result.generatedContentTypes].sort()).toEqual([...FREE_TYPES].sort());
    expect(await db().selectFrom('videos').select('id').where('user_id', '=', user.id).execute()).toHaveLength(1);
    const flags = await db().selectFrom('users').select('free_video_used').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(flags.free_video_used).toBe(true);
    const video = await call(user.auth, 'GET', `/v1/videos/${accepted[0]!.json.videoId}`);
    expect(video.json.transcriptSource).toBe('manual');
  });

  it('an active admin grant beats a used free video; a used-up paid plan is refused with 402', async () => {
    const granted = await newUser('free');
    await db().updateTable('users').set({ free_video_used: true }).where('id', '=', granted.id).execute();
    await db()
      .insertInto('admin_subscription_grants')
      .values({ user_id: granted.id, grant_type: 'unlimited_videos', reason: 'beta tester' })
      .execute();
    const ok = await call(granted.auth, 'POST', '/v1/videos/import', {
      url: watchUrl(await shortVideoId()),
      contentTypes: ['summary'],
      transcript: { content: SUPPLIED_TRANSCRIPT },
    });
    expect(ok.status).toBe(202);
    await runResult(ok.json.runId);
    expect(await usage(granted.id)).toEqual([{ videos_processed: 1, videos_reserved: 0 }]);

    const spent = await newUser('basic');
    const now = new Date();
    await db()
      .insertInto('subscription_usage')
      .values({
        user_id: spent.id,
        period_start: new Date(now.getTime() - 86_400_000),
        period_end: new Date(now.getTime() + 86_400_000),
        usage_limit: 10,
        videos_processed: 10,
      })
      .execute();
    const refused = await call(spent.auth, 'POST', '/v1/videos/import', {
      url: watchUrl(videoId()),
      transcript: { content: SUPPLIED_TRANSCRIPT },
    });
    expect(refused.status).toBe(402);
    expect(refused.json.detail).toMatch(/basic plan's 10 videos/);
  });

  it("reserves an import's slot once: the run adopts the API's reservation and never takes a slot the API did not hold", async () => {
    const user = await newUser('basic');
    const started = await call(user.auth, 'POST', '/v1/videos/import', {
      url: watchUrl(videoId()),
      contentTypes: ['summary'],
      transcript: { content: SUPPLIED_TRANSCRIPT },
    });
    expect(started.status).toBe(202);
    await runResult(started.json.runId);
    const history = await platform.client.workflow.getHandle(started.json.runId).fetchHistory();
    const quotaCall = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reserveVideoQuota');
    const payload = quotaCall!.activityTaskScheduledEventAttributes!.input!.payloads![0]!;
    expect(await decodedPayload(payload)).toMatchObject({ videoId: started.json.videoId, reserved: true });
    expect(await usage(user.id)).toEqual([{ videos_processed: 1, videos_reserved: 0 }]);

    // A run told to adopt a reservation that is not held fails QuotaExceeded instead of reserving a slot itself.
    const unreserved = await db()
      .insertInto('videos')
      .values({ user_id: user.id, source_type: 'youtube', source_url: watchUrl('aaaaaaaaaaa'), youtube_video_id: 'aaaaaaaaaaa' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await expect(importActivities!.reserveVideoQuota({ videoId: unreserved.id, userId: user.id, reserved: true })).rejects.toMatchObject({
      type: 'QuotaExceeded',
    });
    expect(await usage(user.id)).toEqual([{ videos_processed: 1, videos_reserved: 0 }]);
  });

  it('fails typed and gives the slot back: no transcript, private, live, too long for the plan', async () => {
    const user = await newUser('basic');
    await connectYoutube(user.id);
    const cases = [
      [RESERVED_VIDEO_IDS.noCaptions, 'TranscriptUnavailable'],
      [RESERVED_VIDEO_IDS.private, 'NotFound'],
      [RESERVED_VIDEO_IDS.live, 'InvalidInput'],
      [RESERVED_VIDEO_IDS.tooLong, 'InvalidInput'],
    ] as const;
    for (const [id, type] of cases) {
      const started = await call(user.auth, 'POST', '/v1/videos/import', { url: watchUrl(id) });
      expect(started.status).toBe(202);
      expect(await runFailure(started.json.runId)).toMatchObject({ type });
      const video = await call(user.auth, 'GET', `/v1/videos/${started.json.videoId}`);
      expect(video.json).toMatchObject({ processingStatus: 'failed', content: [] });
      expect(video.json.error).toEqual(expect.any(String));
    }
    expect(await usage(user.id)).toEqual([{ videos_processed: 0, videos_reserved: 0 }]);
  });

  it('exports md, txt, docx and pdf to Google Drive into the naming-pattern folders, one upload row per file', async () => {
    const user = await newUser('basic');
    await connectDrive(user.id, { access_token: 'ya29.drive-ok', refresh_token: '1//drive-refresh' }, new Date(Date.now() - 60_000));
    const yt = videoId();
    const started = await call(user.auth, 'POST', '/v1/videos/import', {
      url: watchUrl(yt),
      contentTypes: ['summary', 'blog_post'],
      transcript: { content: SUPPLIED_TRANSCRIPT },
      export: { provider: 'google_drive', formats: ['md', 'txt', 'docx', 'pdf'] },
    });
    expect(started.status).toBe(202);
    const result = await runResult(started.json.runId);
    expect(result.export).toEqual({ status: 'completed', uploaded: 8, failed: 0 });
    const uploads = await db().selectFrom('cloud_storage_uploads').selectAll().where('video_id', '=', started.json.videoId).execute();
    expect(uploads).toHaveLength(8);
    expect(
      uploads.every((u) => u.status === 'completed' && u.cloud_file_id && u.cloud_folder_path === `AmplifyContent/${yt}/${u.content_type}`),
    ).toBe(true);
    // The expired token was refreshed and sealed again.
    const credential = await db()
      .selectFrom('cloud_storage_credentials')
      .select(['token_expires_at', 'last_refreshed_at'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(credential.token_expires_at!.getTime()).toBeGreaterThan(Date.now());

    const files = [...google.driveFiles.values()].filter((f) => uploads.some((u) => u.cloud_file_id === f.id));
    const byExt = (ext: string) => files.find((f) => f.name.endsWith(`.${ext}`) && f.name.includes('Summary'))!.content!;
    const markdown = byExt('md').toString('utf8');
    expect(markdown).toMatch(/^# .+ — Summary\n/);
    const firstBodyLine = markdown
      .split('\n')
      .slice(1)
      .find((l) => /\w{4}/.test(l))!
      .replace(/^([-*#]+|\d+\.)\s*/, '');
    expect(byExt('pdf').subarray(0, 5).toString()).toBe('%PDF-');
    const dir = mkdtempSync(join(tmpdir(), 'docx-'));
    try {
      writeFileSync(join(dir, 'summary.docx'), byExt('docx'));
      const listing = execFileSync('python3', [
        '-c',
        'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print("\\n".join(z.namelist())); print(z.read("word/document.xml").decode())',
        join(dir, 'summary.docx'),
      ]).toString();
      expect(listing).toContain('word/document.xml');
      expect(listing).toContain(firstBodyLine.slice(0, 40));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('revoked Drive authorization fails the uploads with the reason and keeps the content', async () => {
    const user = await newUser('basic');
    await connectDrive(user.id, { access_token: 'ya29.expired', refresh_token: 'revoked-refresh' }, new Date(Date.now() - 60_000));
    const started = await call(user.auth, 'POST', '/v1/videos/import', {
      url: watchUrl(videoId()),
      contentTypes: ['summary'],
      transcript: { content: SUPPLIED_TRANSCRIPT },
      export: { provider: 'google_drive', formats: ['md', 'pdf'] },
    });
    const result = await runResult(started.json.runId);
    expect(result.export).toMatchObject({ status: 'failed', uploaded: 0, failed: 2, reason: expect.stringContaining('revoked') });
    expect(await contentRows(started.json.videoId)).toHaveLength(1);
    const uploads = await db()
      .selectFrom('cloud_storage_uploads')
      .select(['status', 'error_message'])
      .where('video_id', '=', started.json.videoId)
      .execute();
    expect(uploads).toHaveLength(2);
    expect(uploads.every((u) => u.status === 'failed' && /revoked/.test(u.error_message ?? ''))).toBe(true);
    const credential = await db()
      .selectFrom('cloud_storage_credentials')
      .select('status')
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(credential.status).toBe('revoked');
  });
});
