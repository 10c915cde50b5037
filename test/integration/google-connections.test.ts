import { randomBytes, randomUUID } from 'node:crypto';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import { googleErrorBody, startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import { USER_SCOPES } from '../../schemas/api-keys';
import { startDefinedWorkflow } from '../../api/workflow-starts';
import { channelSyncSweepRun } from '../../workflows/channel-sync/contract';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

const REDIRECT_URI = 'https://app.example.test/google/callback';
const NOT_OWNED = 'connect the channel that owns it or supply a transcript';

/**
 * Google connect → own videos → import without a transcript → export any time, through the HTTP
 * API on the real stack (PostgreSQL, Temporal, worker), googleapis pointed at the Google sandbox.
 */
describe('Google connections: YouTube channel and Drive (API + real stack + sandboxes)', () => {
  let platform: TestPlatform;
  let google: GoogleSandbox;
  let anthropic: SandboxServer;
  let email: EmailSandbox;

  beforeAll(async () => {
    [google, anthropic, email] = await Promise.all([
      startGoogleSandbox({ port: 0 }),
      startAnthropicSandbox({ port: 0 }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
    ]);
    const sandboxUrls = { google: google.url, anthropic: anthropic.url, email: email.url };
    platform = await startTestPlatform({ env: { SANDBOX_URLS: JSON.stringify(sandboxUrls) }, sandboxUrls });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([google?.stop(), anthropic?.stop(), email?.stop()]);
  });

  const db = () => platform.database.db;

  async function newUser(plan = 'basic') {
    const user = await createUser(db(), { email: `google-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    return { id: user.id, call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth) };
  }
  type User = Awaited<ReturnType<typeof newUser>>;

  /** The sandbox consent screen approves at once: its redirect carries the code and our state. */
  async function consent(authorizationUrl: string): Promise<{ code: string; state: string }> {
    const res = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    return { code: back.searchParams.get('code')!, state: back.searchParams.get('state')! };
  }

  async function connect(user: User, services = ['youtube', 'drive']): Promise<{ id: string; channel: { id: string } }> {
    const started = await user.call('POST', '/v1/connections/google', { services, redirectUri: REDIRECT_URI });
    expect(started.status).toBe(200);
    const callback = await user.call('POST', '/v1/connections/google/callback', await consent(started.json.authorizationUrl));
    expect(callback.status).toBe(201);
    return callback.json as { id: string; channel: { id: string } };
  }

  const runResult = (runId: string) => platform.client.workflow.getHandle(runId).result();
  const driveFilesIn = (folderId: string) => [...google.driveFiles.values()].filter((f) => f.parents.includes(folderId));

  it('connects YouTube and Drive through one consent: state single-use and bound to the caller, tokens sealed', async () => {
    const user = await newUser();
    const other = await newUser();
    const started = await user.call('POST', '/v1/connections/google', { services: ['youtube', 'drive'], redirectUri: REDIRECT_URI });
    const scopes = new URL(started.json.authorizationUrl).searchParams.get('scope')!.split(' ');
    expect(scopes).toEqual(
      expect.arrayContaining(['https://www.googleapis.com/auth/youtube.force-ssl', 'https://www.googleapis.com/auth/drive.file']),
    );
    const redirect = await consent(started.json.authorizationUrl);

    const stolen = await other.call('POST', '/v1/connections/google/callback', redirect);
    expect(stolen.status).toBe(400);
    expect(stolen.json.errors[0].field).toBe('state');
    // A social-account callback cannot spend a Google connection's state.
    const wrongFlow = await user.call('POST', '/v1/social-accounts/oauth/callback', redirect);
    expect(wrongFlow.status).toBe(400);
    expect(wrongFlow.json.errors[0].field).toBe('state');

    const connected = await user.call('POST', '/v1/connections/google/callback', redirect);
    expect(connected.status).toBe(201);
    expect(connected.json).toMatchObject({
      provider: 'google',
      services: ['youtube', 'drive'],
      status: 'active',
      channel: { id: expect.stringMatching(/^UC/), title: expect.any(String) },
      email: expect.stringContaining('@'),
    });
    const replayed = await user.call('POST', '/v1/connections/google/callback', redirect);
    expect(replayed.status).toBe(400);
    expect(replayed.json.detail).toMatch(/state: this state was already used/);

    const listed = await user.call('GET', '/v1/connections');
    expect(listed.json.connections).toEqual([connected.json]);
    const token = await db().selectFrom('youtube_oauth_tokens').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(token.encrypted_tokens).not.toMatch(/ya29|1\/\//);
    const channel = await db().selectFrom('user_youtube_channels').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(channel).toMatchObject({ channel_id: connected.json.channel.id, youtube_oauth_token_id: token.id, is_active: true });
    const drive = await db().selectFrom('cloud_storage_credentials').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(drive).toMatchObject({ provider: 'google_drive', status: 'active', google_connection_id: connected.json.id });

    // The basic plan connects one channel: a second YouTube connection is a service the plan does not allow.
    const second = await user.call('POST', '/v1/connections/google', { services: ['youtube'], redirectUri: REDIRECT_URI });
    expect(second.status).toBe(403);
    expect(second.json.errors[0].field).toBe('services');
  });

  it('lists own uploads, imports one without a transcript from its captions, and refuses videos it does not own', async () => {
    const user = await newUser();
    const connection = await connect(user);
    const page = await user.call('GET', `/v1/connections/${connection.id}/videos`);
    expect(page.status).toBe(200);
    expect(page.json.videos.length).toBeGreaterThan(0);
    const [own] = page.json.videos;
    expect(own).toMatchObject({
      id: expect.any(String),
      title: expect.any(String),
      durationSeconds: expect.any(Number),
      imported: false,
      videoId: null,
    });

    const started = await user.call('POST', '/v1/videos/import', { url: `https://youtu.be/${own.id}`, contentTypes: ['summary'] });
    expect(started.status).toBe(202);
    await runResult(started.json.runId);
    const video = await user.call('GET', `/v1/videos/${started.json.videoId}`);
    expect(video.json).toMatchObject({
      processingStatus: 'completed',
      transcriptSource: 'youtube_captions',
      channel: { id: connection.channel.id },
    });
    const again = await user.call('GET', `/v1/connections/${connection.id}/videos`);
    expect(again.json.videos.find((v: { id: string }) => v.id === own.id)).toMatchObject({ imported: true, videoId: started.json.videoId });

    // Someone else's video: with a channel connected the run finds out; without one the API refuses up front. Same words.
    const foreign = randomBytes(8).toString('base64url').slice(0, 11);
    const inRun = await user.call('POST', '/v1/videos/import', { url: `https://youtu.be/${foreign}`, contentTypes: ['summary'] });
    expect(inRun.status).toBe(202);
    const failure = await runResult(inRun.json.runId).then(
      () => undefined,
      (err: { cause?: { cause?: { type?: string; message?: string } } }) => err.cause?.cause,
    );
    expect(failure).toMatchObject({ type: 'TranscriptUnavailable', message: expect.stringContaining(NOT_OWNED) });
    const stranger = await newUser();
    const upFront = await stranger.call('POST', '/v1/videos/import', { url: `https://youtu.be/${foreign}` });
    expect(upFront.status).toBe(422);
    expect(upFront.json.errors).toEqual([{ field: 'transcript', message: expect.stringContaining(NOT_OWNED) }]);
  });

  it('exports docx and pdf any time into one Drive folder per video, never twice; a full Drive fails that upload only', async () => {
    const user = await newUser();
    const connection = await connect(user);
    const [own] = (await user.call('GET', `/v1/connections/${connection.id}/videos`)).json.videos;
    const imported = await user.call('POST', '/v1/videos/import', {
      url: `https://youtu.be/${own.id}`,
      contentTypes: ['summary', 'quotes'],
    });
    await runResult(imported.json.runId);
    const videoId: string = imported.json.videoId;

    const exported = await user.call('POST', `/v1/videos/${videoId}/exports`, { provider: 'google_drive', formats: ['docx', 'pdf'] });
    expect(exported.status).toBe(202);
    expect(exported.json.runId).toMatch(new RegExp(`^video-export:${videoId}:`));
    expect(await runResult(exported.json.runId)).toEqual({ status: 'completed', uploaded: 4, failed: 0 });
    const listed = await user.call('GET', `/v1/videos/${videoId}/exports`);
    expect(listed.json.uploads).toHaveLength(4);
    expect(
      listed.json.uploads.every(
        (u: { status: string; retryCount: number; maxRetries: number }) =>
          u.status === 'completed' && u.retryCount === 0 && u.maxRetries === 3,
      ),
    ).toBe(true);
    const rows = await db()
      .selectFrom('cloud_storage_uploads')
      .select(['cloud_folder_id', 'cloud_file_id', 'file_format'])
      .where('video_id', '=', videoId)
      .execute();
    const folders = new Set(rows.map((r) => r.cloud_folder_id));
    expect(folders.size).toBe(1);
    const files = driveFilesIn([...folders][0]!);
    expect(files.map((f) => f.name.split('.').pop()).sort()).toEqual(['docx', 'docx', 'pdf', 'pdf']);
    expect(
      files
        .find((f) => f.name.endsWith('.pdf'))!
        .content!.subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');

    // The same export again uploads nothing new.
    const repeated = await user.call('POST', `/v1/videos/${videoId}/exports`, { provider: 'google_drive', formats: ['docx', 'pdf'] });
    expect(await runResult(repeated.json.runId)).toEqual({ status: 'completed', uploaded: 4, failed: 0 });
    expect(driveFilesIn([...folders][0]!)).toHaveLength(4);

    // Drive full: the markdown upload fails with Drive's reason; the connection stays usable.
    google.faults.inject({
      match: { method: 'POST', path: '/upload/drive/v3/files' },
      status: 403,
      body: googleErrorBody(403, 'The user has exceeded their Drive storage quota', 'storageQuotaExceeded'),
      times: 2,
    });
    const full = await user.call('POST', `/v1/videos/${videoId}/exports`, { provider: 'google_drive', formats: ['md'] });
    expect(await runResult(full.json.runId)).toMatchObject({
      status: 'failed',
      uploaded: 0,
      failed: 2,
      reason: expect.stringContaining('storage'),
    });
    const md = (await user.call('GET', `/v1/videos/${videoId}/exports`)).json.uploads.filter((u: { format: string }) => u.format === 'md');
    expect(md).toHaveLength(2);
    expect(md.every((u: { status: string; error: string }) => u.status === 'failed' && /storage quota/.test(u.error))).toBe(true);
    expect(
      (await db().selectFrom('cloud_storage_credentials').select('status').where('user_id', '=', user.id).executeTakeFirstOrThrow()).status,
    ).toBe('active');
    expect((await user.call('GET', `/v1/videos/${videoId}`)).json.processingStatus).toBe('completed');
  });

  it('an automatic export follows each finished import when the user turned it on', async () => {
    const user = await newUser();
    const connection = await connect(user);
    const patched = await user.call('PATCH', `/v1/connections/${connection.id}`, {
      autoExport: { provider: 'google_drive', formats: ['txt'] },
    });
    expect(patched.status).toBe(200);
    const [own] = (await user.call('GET', `/v1/connections/${connection.id}/videos`)).json.videos;
    const started = await user.call('POST', '/v1/videos/import', { url: `https://youtu.be/${own.id}`, contentTypes: ['summary'] });
    expect(await runResult(started.json.runId)).toMatchObject({ export: { status: 'completed', uploaded: 1, failed: 0 } });
  });

  it('disconnect revokes at Google and deletes the tokens; exports then say Drive is not connected', async () => {
    const user = await newUser();
    const connection = await connect(user);
    const token = await db().selectFrom('youtube_oauth_tokens').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow();
    const sealed = await db()
      .selectFrom('cloud_storage_credentials')
      .select(['id', 'encrypted_tokens'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    const { access_token: accessToken } = JSON.parse(
      platform.secrets.decrypt(sealed.encrypted_tokens, `cloud_storage_credentials:encrypted_tokens:${sealed.id}`),
    ) as { access_token: string };
    expect((await fetch(`${google.url}/drive/v3/about`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);

    expect((await user.call('DELETE', `/v1/connections/${connection.id}`)).status).toBe(204);
    expect((await fetch(`${google.url}/drive/v3/about`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(401);
    expect(await db().selectFrom('youtube_oauth_tokens').select('id').where('id', '=', token.id).execute()).toEqual([]);
    expect(await db().selectFrom('cloud_storage_credentials').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
    expect((await user.call('GET', '/v1/connections')).json.connections).toEqual([]);
    const video = await db()
      .insertInto('videos')
      .values({ user_id: user.id, source_type: 'upload' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const refused = await user.call('POST', `/v1/videos/${video.id}/exports`, { provider: 'google_drive', formats: ['pdf'] });
    expect(refused.status).toBe(422);
    expect(refused.json.errors[0]).toEqual({ field: 'provider', message: expect.stringContaining('not connected') });
  });

  it("auto-import: a new upload of the channel is imported exactly once; the plan's channel limit holds", async () => {
    const user = await newUser('creator');
    const connection = await connect(user, ['youtube']);
    const others = [await connect(user, ['youtube']), await connect(user, ['youtube']), await connect(user, ['youtube'])];
    const channelRow = () =>
      db().selectFrom('user_youtube_channels').selectAll().where('channel_id', '=', connection.channel.id).executeTakeFirstOrThrow();
    const sweep = async () => {
      const workflowId = `channel-sync-sweep:test-${randomUUID()}`;
      await startDefinedWorkflow(platform.client, platform.queues, channelSyncSweepRun, { workflowId, args: [{ batchSize: 2 }] });
      return runResult(workflowId);
    };
    const importsOf = (youtubeVideoId: string) =>
      db()
        .selectFrom('videos')
        .select(['id', 'processing_status'])
        .where('user_id', '=', user.id)
        .where('youtube_video_id', '=', youtubeVideoId)
        .execute();

    const patched = await user.call('PATCH', `/v1/connections/${connection.id}`, { autoImport: true });
    expect(patched.status).toBe(200);
    expect(patched.json.channel).toMatchObject({ autoImport: true, lastSyncedAt: expect.any(String) });
    const before = await channelRow();

    // Uploads published before auto-import was turned on stay the user's to import by hand.
    expect(await sweep()).toMatchObject({ imports: 0 });
    const uploadId = google.publishUpload(connection.channel.id);
    expect(await sweep()).toMatchObject({ imports: 1 });
    const [imported] = await importsOf(uploadId);
    expect(imported).toBeDefined();
    await runResult(`video-import:${imported!.id}`);
    expect(await importsOf(uploadId)).toEqual([{ id: imported!.id, processing_status: 'completed' }]);
    const after = await channelRow();
    expect(after.video_count).toBe(before.video_count + 1);
    expect(after.subscriber_count).toBe(before.subscriber_count);
    expect(after.last_synced_at!.getTime()).toBeGreaterThan(before.last_synced_at!.getTime());

    // Synced again (and again with the sync point moved back): the upload is never imported twice.
    expect(await sweep()).toMatchObject({ imports: 0 });
    await db().updateTable('user_youtube_channels').set({ last_synced_at: before.last_synced_at }).where('id', '=', after.id).execute();
    expect(await sweep()).toMatchObject({ imports: 0 });
    expect(await importsOf(uploadId)).toHaveLength(1);
    const runs = await db().selectFrom('job_runs').select('id').where('id', '=', `video-import:${imported!.id}`).execute();
    expect(runs).toHaveLength(1);

    // Downgraded to premium (3 channels): a fourth auto-import channel is over the plan's limit.
    await db().updateTable('users').set({ subscription_tier: 'premium' }).where('id', '=', user.id).execute();
    for (const other of others.slice(0, 2))
      expect((await user.call('PATCH', `/v1/connections/${other.id}`, { autoImport: true })).status).toBe(200);
    const over = await user.call('PATCH', `/v1/connections/${others[2]!.id}`, { autoImport: true });
    expect(over.status).toBe(422);
    expect(over.json.errors[0].field).toBe('autoImport');
    // A plan without auto-import refuses it outright.
    await db().updateTable('users').set({ subscription_tier: 'basic' }).where('id', '=', user.id).execute();
    expect((await user.call('PATCH', `/v1/connections/${others[2]!.id}`, { autoImport: true })).status).toBe(403);
  });

  it('auto-import leaves an expired connection alone', async () => {
    const user = await newUser('premium');
    const connection = await connect(user, ['youtube']);
    expect((await user.call('PATCH', `/v1/connections/${connection.id}`, { autoImport: true })).status).toBe(200);
    await db().updateTable('google_connections').set({ status: 'expired' }).where('id', '=', connection.id).execute();
    const uploadId = google.publishUpload(connection.channel.id);
    const workflowId = `channel-sync-sweep:test-${randomUUID()}`;
    await startDefinedWorkflow(platform.client, platform.queues, channelSyncSweepRun, { workflowId, args: [{}] });
    await runResult(workflowId);
    const imported = await db()
      .selectFrom('videos')
      .select('id')
      .where('user_id', '=', user.id)
      .where('youtube_video_id', '=', uploadId)
      .execute();
    expect(imported).toEqual([]);
  });

  it('invalid_grant marks the connection expired and emails the user once', async () => {
    const user = await newUser();
    const connection = await connect(user, ['youtube']);
    const row = await db()
      .selectFrom('youtube_oauth_tokens')
      .select(['id', 'encrypted_tokens'])
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    const { refresh_token: refreshToken } = JSON.parse(
      platform.secrets.decrypt(row.encrypted_tokens, `youtube_oauth_tokens:encrypted_tokens:${row.id}`),
    ) as { refresh_token: string };
    google.revokeGrant(refreshToken);
    // Due for a refresh: the token source refreshes before using it and meets invalid_grant.
    await db()
      .updateTable('youtube_oauth_tokens')
      .set({ token_expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', row.id)
      .execute();

    const first = await user.call('GET', `/v1/connections/${connection.id}/videos`);
    expect(first.status).toBe(409);
    expect((await user.call('GET', '/v1/connections')).json.connections[0]).toMatchObject({
      id: connection.id,
      status: 'expired',
      statusReason: expect.stringContaining('revoked'),
    });
    expect((await user.call('GET', `/v1/connections/${connection.id}/videos`)).status).toBe(409);
    const user_ = await db().selectFrom('users').select('email').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(email.messages.filter((m) => m.to.includes(user_.email))).toHaveLength(1);
  });
});
