import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { secretAad } from '../../lib/secrets';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { ClipsResult } from '../../schemas/clips';
import { makeTestVideo } from '../media/media-fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { TALK_SRT } from './clips-fixtures';

/**
 * Clip sources other than a multipart upload, through the HTTP API on the real stack: a video
 * URL served by a local file server (reached through the SSRF guard's sandbox allowlist) and a
 * Google Drive file (googleapis against the Google sandbox, with the user's sealed tokens).
 */
describe('video import from a URL or Google Drive (API + real stack + sandboxes + ffprobe)', () => {
  let platform: TestPlatform;
  let anthropic: SandboxServer;
  let google: GoogleSandbox;
  let files: Server;
  let filesUrl: string;
  let dataDir: string;
  let talk: Buffer;
  const served: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'clips-import-it-'));
    talk = await readFile(await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '320x180', fps: 25 }));
    files = createServer((req, res) => {
      served.push(req.url ?? '');
      if (req.url === '/talk.mp4') res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': talk.length }).end(talk);
      else if (req.url === '/streamed/talk.mp4') {
        // No Content-Length: the size limit can only be enforced while the bytes arrive.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let offset = 0; offset < talk.length; offset += 16 * 1024) res.write(talk.subarray(offset, offset + 16 * 1024));
        res.end();
      } else if (req.url === '/fake.mp4') res.writeHead(200, { 'content-type': 'video/mp4' }).end('these are not video bytes');
      else if (req.url === '/page.html')
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<html>a page about a video</html>');
      else if (req.url === '/to-loopback') res.writeHead(302, { location: 'https://127.0.0.1/admin/talk.mp4' }).end();
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
    [anthropic, google] = await Promise.all([startAnthropicSandbox({ port: 0 }), startGoogleSandbox({ port: 0 })]);
    platform = await startTestPlatform({
      sandboxUrls: { anthropic: anthropic.url, google: google.url },
      env: {
        DATA_DIR: dataDir,
        // The local file server is allowlisted like a sandbox; every other private address stays refused.
        SSRF_ALLOWED_HOSTS: new URL(filesUrl).host,
        SANDBOX_URLS: JSON.stringify({ google: google.url }),
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([anthropic?.stop(), google?.stop()]);
    await new Promise<void>((r) => (files ? files.close(() => r()) : r()));
    await rm(dataDir, { recursive: true, force: true });
  });

  const db = () => platform.database.db;
  const call = (auth: Record<string, string>, method: string, path: string, body?: unknown) =>
    api(platform.apiUrl, method, path, body, auth);
  const importFile = (auth: Record<string, string>, body: Record<string, unknown>) => call(auth, 'POST', '/v1/videos/import-file', body);

  async function newUser(plan = 'basic') {
    const user = await createUser(db(), { email: `clips-import-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return { id: user.id, auth: { authorization: `Bearer ${plaintext}` } };
  }

  const videosOf = (userId: string) => db().selectFrom('videos').selectAll().where('user_id', '=', userId).execute();
  /** Imports answer 202 at once; the ingest run downloads and checks the file. */
  const ingested = (runId: string) =>
    platform.client.workflow
      .getHandle(runId)
      .result()
      .then(
        () => undefined,
        (error: any) => error?.cause?.cause?.type as string,
      );
  const storedSources = async () => readdir(join(dataDir, 'media', 'videos')).catch(() => [] as string[]);

  /** A refused import writes no row and stores no file. */
  async function expectNothingWritten(userId: string, sourcesBefore: string[]) {
    expect(await videosOf(userId)).toEqual([]);
    expect(await storedSources()).toEqual(sourcesBefore);
  }

  async function connectDrive(userId: string) {
    const row = await db()
      .insertInto('cloud_storage_credentials')
      .values({ user_id: userId, provider: 'google_drive', encrypted_tokens: 'pending', folder_naming_pattern: 'ClipFlow/{video_code}' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sealed = platform.secrets.encrypt(
      JSON.stringify({ access_token: `ya29.drive-owner-${userId}`, refresh_token: '1//refresh' }),
      secretAad('cloud_storage_credentials', 'encrypted_tokens', row.id),
    );
    await db()
      .updateTable('cloud_storage_credentials')
      .set({ encrypted_tokens: sealed, token_expires_at: new Date(Date.now() + 3_600_000) })
      .where('id', '=', row.id)
      .execute();
  }

  it('imports a video URL with its SRT, stores it, and makes clips of it', async () => {
    const { id: userId, auth } = await newUser();
    const imported = await importFile(auth, { url: `${filesUrl}/talk.mp4`, transcript: TALK_SRT });
    expect(imported.status).toBe(202);
    expect(await ingested(imported.json.runId)).toBeUndefined();
    const [video] = await videosOf(userId);
    expect(video).toMatchObject({
      id: imported.json.videoId,
      title: 'talk',
      width: 320,
      height: 180,
      has_audio: true,
      mime_type: 'video/mp4',
      transcript_source: 'uploaded_srt',
      source_type: 'url',
      source_url: `${filesUrl}/talk.mp4`,
      processing_status: 'ready',
      file_size_bytes: talk.length,
    });
    expect((await stat(video!.file_path!)).size).toBe(talk.length);
    expect(video!.file_path).toContain(join(dataDir, 'media', 'videos', video!.id));

    const started = await call({ ...auth, 'idempotency-key': randomUUID() }, 'POST', `/v1/videos/${video!.id}/clips`, {
      count: 1,
      aspectRatios: ['9:16'],
      captions: null,
      minSeconds: 1.5,
      maxSeconds: 3,
    });
    expect(started.status).toBe(202);
    const result: ClipsResult = await platform.client.workflow.getHandle(started.json.runId).result();
    expect(result.clips).toHaveLength(1);
    const clips = (await call(auth, 'GET', `/v1/videos/${video!.id}/clips`)).json.data;
    expect(clips).toEqual([
      expect.objectContaining({ renderStatus: 'completed', fileUrls: { '9:16': expect.stringMatching(/^file:.*9x16\.mp4$/) } }),
    ]);
  });

  it('refuses private addresses (directly or by redirect) with a 400 naming url, before any download', async () => {
    const { id: userId, auth } = await newUser();
    const before = await storedSources();
    for (const url of [
      'https://169.254.169.254/latest/meta-data/talk.mp4',
      'https://10.0.0.7/talk.mp4',
      `https://[::1]/talk.mp4`,
      `${filesUrl}/to-loopback`,
    ]) {
      const refused = await importFile(auth, { url });
      expect([url, refused.status]).toEqual([url, 400]);
      expect(refused.json.errors).toEqual([{ field: 'url', message: expect.stringMatching(/private or reserved/) }]);
    }
    const plainHttp = await importFile(auth, { url: 'http://93.184.215.14/talk.mp4' });
    expect(plainHttp.json.errors).toEqual([{ field: 'url', message: expect.stringMatching(/use https/) }]);
    await expectNothingWritten(userId, before);
  });

  it("refuses a video over the plan's size: 413 by its declared length, a failed ingest (slot refunded) while streaming", async () => {
    const { id: userId, auth } = await newUser('free');
    const planId = (await db().selectFrom('subscription_plans').select('id').where('slug', '=', 'free').executeTakeFirstOrThrow()).id;
    const { max_upload_bytes: original } = await db()
      .selectFrom('subscription_plan_features')
      .select('max_upload_bytes')
      .where('plan_id', '=', planId)
      .executeTakeFirstOrThrow();
    const before = await storedSources();
    const limit = Math.floor(talk.length / 2);
    await db().updateTable('subscription_plan_features').set({ max_upload_bytes: limit }).where('plan_id', '=', planId).execute();
    try {
      const tooLarge = await importFile(auth, { url: `${filesUrl}/talk.mp4` });
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.json).toMatchObject({ limit, plan: 'free', errors: [{ field: 'url' }] });
      await expectNothingWritten(userId, before);
      // Without a declared length the limit can only be enforced while the run streams the bytes.
      const streamed = await importFile(auth, { url: `${filesUrl}/streamed/talk.mp4` });
      expect(streamed.status).toBe(202);
      expect(await ingested(streamed.json.runId)).toBe('QuotaExceeded');
    } finally {
      await db().updateTable('subscription_plan_features').set({ max_upload_bytes: original }).where('plan_id', '=', planId).execute();
    }
    const [failed] = await videosOf(userId);
    expect(failed).toMatchObject({ processing_status: 'failed', file_path: null, error_message: expect.stringContaining('bytes') });
    expect((failed!.metadata as { quota: { state: string } }).quota.state).toBe('released');
    expect(await storedSources()).toEqual(before);
  });

  it('refuses what is not a video (by content type, or by ffprobe) with a problem naming url', async () => {
    const { id: userId, auth } = await newUser();
    const before = await storedSources();
    const page = await importFile(auth, { url: `${filesUrl}/page.html` });
    expect(page.status).toBe(422);
    expect(page.json.errors).toEqual([{ field: 'url', message: expect.stringContaining('text/html') }]);
    const missing = await importFile(auth, { url: `${filesUrl}/gone.mp4` });
    expect(missing.status).toBe(422);
    expect(missing.json.errors).toEqual([{ field: 'url', message: expect.stringContaining('HTTP 404') }]);
    const both = await importFile(auth, { url: `${filesUrl}/talk.mp4`, driveFileId: 'abc' });
    expect(both.status).toBe(400);
    await expectNothingWritten(userId, before);
    // Bytes that only ffprobe can judge are judged in the run: the video fails and keeps no file.
    const fake = await importFile(auth, { url: `${filesUrl}/fake.mp4` });
    expect(fake.status).toBe(202);
    expect(await ingested(fake.json.runId)).toBe('InvalidMedia');
    expect(await videosOf(userId)).toEqual([expect.objectContaining({ processing_status: 'failed', file_path: null })]);
    expect(await storedSources()).toEqual(before);
  });

  it("imports a video from the user's Google Drive; an unknown file is a 404 and no connection a 422", async () => {
    const { id: userId, auth } = await newUser();
    const driveFileId = `drive-talk-${randomUUID()}`;
    google.driveFiles.set(driveFileId, {
      id: driveFileId,
      name: 'Launch talk.mp4',
      mimeType: 'video/mp4',
      parents: ['root'],
      appProperties: {},
      content: talk,
      createdTime: new Date().toISOString(),
    });

    const notConnected = await importFile(auth, { driveFileId });
    expect(notConnected.status).toBe(422);
    expect(notConnected.json).toMatchObject({
      type: expect.stringMatching(/drive-not-connected$/),
      errors: [{ field: 'driveFileId', message: 'Google Drive is not connected' }],
    });

    await connectDrive(userId);
    const imported = await importFile(auth, { driveFileId, transcript: TALK_SRT });
    expect(imported.status).toBe(202);
    expect(await ingested(imported.json.runId)).toBeUndefined();
    const [video] = await videosOf(userId);
    expect(video).toMatchObject({
      title: 'Launch talk',
      width: 320,
      height: 180,
      transcript_source: 'uploaded_srt',
      processing_status: 'ready',
      source_type: 'drive',
      source_url: `https://drive.google.com/file/d/${driveFileId}/view?usp=drivesdk`,
      metadata: expect.objectContaining({ driveFileId, driveFileName: 'Launch talk.mp4' }),
    });
    expect((await stat(video!.file_path!)).size).toBe(talk.length);
    const download = google.requests.find((r) => r.path === `/drive/v3/files/${driveFileId}` && r.query.alt === 'media');
    expect(download?.headers.authorization).toBe(`Bearer ya29.drive-owner-${userId}`);

    const before = await storedSources();
    const unknown = await importFile(auth, { driveFileId: 'no-such-file-0000' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors).toEqual([{ field: 'driveFileId', message: expect.stringContaining('no-such-file-0000') }]);
    expect(await videosOf(userId)).toHaveLength(1);
    expect(await storedSources()).toEqual(before);
  });
});
