import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { ActivityDeps } from '../../activities';
import { createPostActivities, type PostActivities } from '../../activities/posts';
import { createProviders, type Providers } from '../../providers';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { secretAad } from '../../lib/secrets';
import { startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import { makeTestVideo } from '../media/media-fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { eventually } from '../helpers/eventually';

const REDIRECT_URI = 'http://127.0.0.1:9/connected';

/**
 * YouTube publishing and the OAuth connect flow through the HTTP API on the real stack:
 * PostgreSQL, Temporal, the worker's post activities on the googleapis YouTube adapter, and the
 * Google and social sandboxes (consent screens, token endpoints, uploads) started in this process.
 */
describe('YouTube posts and OAuth connect (API + real stack + Google/social sandboxes)', () => {
  let platform: TestPlatform;
  let google: GoogleSandbox;
  let social: SocialSandbox;
  let clipFile: string;
  let postActivities: PostActivities | undefined;
  /** Set by a test: the next upload reaches YouTube, then its response is lost. */
  let loseNextUploadResponse = false;

  beforeAll(async () => {
    [google, social] = await Promise.all([startGoogleSandbox({ port: 0 }), startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 })]);
    clipFile = await makeTestVideo(join(await mkdtemp(join(tmpdir(), 'yt-post-')), 'clip.mp4'), { seconds: 1, size: '180x320', fps: 15 });
    const sandboxUrls = { google: google.url, social: social.url };
    // The worker registers these names now; they call the real activities built once the database exists.
    const names = Object.keys(createPostActivities({} as ActivityDeps)) as Array<keyof PostActivities>;
    const late = Object.fromEntries(
      names.map((name) => [name, (...args: unknown[]) => (postActivities![name] as (...a: unknown[]) => unknown)(...args)]),
    );
    platform = await startTestPlatform({
      env: { SANDBOX_URLS: JSON.stringify(sandboxUrls) },
      sandboxUrls,
      activities: (real) => ({ ...real, ...late }),
    });
    const logger = createLogger('silent');
    const providers = createProviders({ config: platform.config, logger, db: platform.database.db, sandboxUrls });
    const youtube = providers.youtube;
    const flakyYoutube = Object.create(youtube, {
      uploadVideo: {
        value: async (request: Parameters<typeof youtube.uploadVideo>[0]) => {
          const uploaded = await youtube.uploadVideo(request);
          if (!loseNextUploadResponse) return uploaded;
          loseNextUploadResponse = false;
          throw ApplicationFailure.retryable('youtube: connection reset after the upload was sent', 'ProviderUnavailable');
        },
      },
    }) as typeof youtube;
    // Only `youtube` is replaced; the other adapters stay lazy getters of the real registry.
    const testProviders = Object.create(providers, { youtube: { value: flakyYoutube } }) as Providers;
    postActivities = createPostActivities({ db: platform.database.db, logger, providers: testProviders, secrets: platform.secrets });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([google?.stop(), social?.stop()]);
  });

  const db = () => platform.database.db;

  async function newUser() {
    const user = await createUser(db(), { email: `yt-posts-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    return { id: user.id, call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth) };
  }
  type User = Awaited<ReturnType<typeof newUser>>;

  /** The consent screen approves at once: its redirect carries the code and our state. */
  async function consent(authorizationUrl: string): Promise<{ code: string; state: string }> {
    const res = await fetch(authorizationUrl, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    return { code: back.searchParams.get('code')!, state: back.searchParams.get('state')! };
  }

  async function connectYoutube(user: User) {
    const grant = google.issueGrant();
    const res = await user.call('POST', '/v1/social-accounts', {
      platform: 'youtube',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      tokenExpiresAt: grant.expiresAt,
      platformUserId: grant.channelId,
      username: 'sandboxchannel',
    });
    expect(res.status).toBe(201);
    return { accountId: res.json.id as string, grant };
  }

  /** A rendered clip of the user, stored in the local media store (a file: URL), as the clips workflow leaves it. */
  async function renderedClip(userId: string): Promise<string> {
    const video = await db()
      .insertInto('videos')
      .values({ user_id: userId, source_type: 'upload' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const clip = await db()
      .insertInto('clips')
      .values({
        video_id: video.id,
        user_id: userId,
        run_id: `clips:${video.id}`,
        clip_index: 0,
        start_time: 0,
        end_time: 1,
        render_status: 'completed',
        file_urls: JSON.stringify({ '9:16': pathToFileURL(clipFile).href }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return clip.id;
  }

  const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
  const postRow = (id: string) => db().selectFrom('posts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const uploadsOf = (channelId: string) => [...google.uploadedVideos.values()].filter((v) => v.channelId === channelId);
  const uploadRequests = () => google.requests.filter((r) => r.path === '/upload/youtube/v3/videos').length;

  const waitForStatus = (postId: string, statuses: string[], timeoutMs = 30_000) =>
    eventually(
      () => postRow(postId),
      (row) => statuses.includes(row.status),
      `post ${postId} in ${statuses.join('/')}`,
      timeoutMs,
    );

  it('connects a YouTube channel through the OAuth flow, then a post uploads the clip once to that channel; the replayed state is 400', async () => {
    const user = await newUser();
    const started = await user.call('POST', '/v1/social-accounts', { platform: 'youtube', redirectUri: REDIRECT_URI });
    expect(started.status).toBe(200);
    expect(started.json).toEqual({
      authorizationUrl: expect.stringContaining(`${google.url}/o/oauth2/v2/auth?`),
      state: expect.any(String),
      expiresAt: expect.any(String),
    });
    const consentUrl = new URL(started.json.authorizationUrl);
    expect(Object.fromEntries(consentUrl.searchParams)).toMatchObject({
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      access_type: 'offline',
      state: started.json.state,
    });
    const { code, state } = await consent(started.json.authorizationUrl);
    expect(state).toBe(started.json.state);

    const connected = await user.call('POST', '/v1/social-accounts/oauth/callback', { code, state });
    expect(connected.status).toBe(201);
    expect(connected.json).toMatchObject({
      platform: 'youtube',
      platformUserId: expect.stringMatching(/^UC[\w-]{22}$/),
      status: 'active',
      tokenExpiresAt: expect.any(String),
    });
    const accountId = connected.json.id as string;
    const channelId = connected.json.platformUserId as string;
    const stored = await db()
      .selectFrom('social_accounts')
      .select('encrypted_tokens')
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    const tokens = JSON.parse(
      platform.secrets.decrypt(stored.encrypted_tokens, secretAad('social_accounts', 'encrypted_tokens', accountId)),
    ) as { access_token: string; refresh_token: string };
    expect(tokens).toEqual({ access_token: expect.stringMatching(/^ya29\./), refresh_token: expect.stringMatching(/^1\/\//) });
    expect(stored.encrypted_tokens).not.toContain(tokens.access_token);
    expect(google.channelOf(tokens.access_token)).toBe(channelId);

    const replayed = await user.call('POST', '/v1/social-accounts/oauth/callback', { code, state });
    expect(replayed.status).toBe(400);
    expect(replayed.headers.get('content-type')).toContain('application/problem+json');
    expect(replayed.json.errors).toEqual([{ field: 'state', message: 'this state was already used' }]);

    const clipId = await renderedClip(user.id);
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'How I batch film a month of videos',
      hashtags: ['creators', 'batching'],
      clipId,
      mediaType: 'video',
      scheduledAt: inSeconds(2),
      platformOptions: { privacyStatus: 'unlisted' },
    });
    expect(created.status).toBe(202);
    const row = await waitForStatus(created.json.postId, ['published', 'failed']);
    expect(row.status).toBe('published');

    const [video, ...more] = uploadsOf(channelId);
    expect(more).toHaveLength(0);
    expect(video).toMatchObject({
      title: 'How I batch film a month of videos',
      tags: ['creators', 'batching'],
      privacyStatus: 'unlisted',
      sha256: createHash('sha256')
        .update(await readFile(clipFile))
        .digest('hex'),
    });
    expect(video!.description.startsWith('How I batch film a month of videos\n\n#creators #batching')).toBe(true);
    const view = await user.call('GET', `/v1/posts/${created.json.postId}`);
    expect(view.json).toMatchObject({
      platform: 'youtube',
      status: 'published',
      platformPostId: video!.id,
      platformUrl: `https://www.youtube.com/watch?v=${video!.id}`,
    });
    const clip = await db().selectFrom('clips').select('times_published').where('id', '=', clipId).executeTakeFirstOrThrow();
    expect(clip.times_published).toBe(1);
    await platform.client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });

  it('uploads once when the publish is retried after YouTube accepted it: the marker lookup finds the video', async () => {
    const user = await newUser();
    const { accountId, grant } = await connectYoutube(user);
    const clipId = await renderedClip(user.id);
    const before = uploadRequests();
    loseNextUploadResponse = true;
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'Exactly once on YouTube',
      clipId,
      mediaType: 'video',
      scheduledAt: inSeconds(2),
    });
    const row = await waitForStatus(created.json.postId, ['published', 'failed']);
    expect(row.status).toBe('published');
    expect(loseNextUploadResponse).toBe(false);
    expect(row.retry_count).toBe(2); // the lost attempt and the retry that found the video
    expect(uploadRequests() - before).toBe(1);
    const uploads = uploadsOf(grant.channelId);
    expect(uploads).toHaveLength(1);
    expect(row.platform_post_id).toBe(uploads[0]!.id);
    await platform.client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });

  it('an expired token is refreshed at the Google token endpoint, re-sealed, and the video published once', async () => {
    const user = await newUser();
    const { accountId, grant } = await connectYoutube(user);
    google.expireAccessToken(grant.accessToken);
    const refreshesBefore = google.requests.filter((r) => r.path === '/token').length;
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'After a token refresh',
      clipId: await renderedClip(user.id),
      mediaType: 'video',
      scheduledAt: inSeconds(2),
    });
    expect(created.status).toBe(202);
    expect((await waitForStatus(created.json.postId, ['published', 'failed'])).status).toBe('published');

    expect(google.requests.filter((r) => r.path === '/token').length - refreshesBefore).toBe(1);
    const account = await db().selectFrom('social_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    const tokens = JSON.parse(
      platform.secrets.decrypt(account.encrypted_tokens, secretAad('social_accounts', 'encrypted_tokens', accountId)),
    ) as { access_token: string; refresh_token: string };
    expect(tokens.access_token).not.toBe(grant.accessToken);
    expect(tokens.refresh_token).toBe(grant.refreshToken);
    expect(account.status).toBe('active');
    expect(uploadsOf(grant.channelId)).toHaveLength(1);
    await platform.client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });

  it('a revoked grant fails the post with ProviderAuth and a clear reason, marks the account expired, uploads nothing', async () => {
    const user = await newUser();
    const { accountId, grant } = await connectYoutube(user);
    google.revokeGrant(grant.accessToken);
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'Never uploaded',
      clipId: await renderedClip(user.id),
      mediaType: 'video',
      scheduledAt: inSeconds(2),
    });
    expect(created.status).toBe(202);
    const err = await platform.client.workflow
      .getHandle(created.json.runId)
      .result()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe('ProviderAuth');
    const view = await user.call('GET', `/v1/posts/${created.json.postId}`);
    expect(view.json.status).toBe('failed');
    expect(view.json.error).toMatch(
      /^ProviderAuth: the youtube account @sandboxchannel: authorization expired or revoked and could not be refreshed \(.*\); reconnect it to post$/,
    );
    const account = await db().selectFrom('social_accounts').select('status').where('id', '=', accountId).executeTakeFirstOrThrow();
    expect(account.status).toBe('expired');
    expect(uploadsOf(grant.channelId)).toHaveLength(0);
  });

  it('refuses YouTube posts YouTube cannot take with 422 naming the field: an image, more than 15 hashtags, a bad privacy', async () => {
    const user = await newUser();
    const { accountId } = await connectYoutube(user);
    const base = {
      socialAccountId: accountId,
      caption: 'A video',
      mediaType: 'video',
      clipId: await renderedClip(user.id),
      scheduledAt: inSeconds(3600),
    };
    const image = await user.call('POST', '/v1/posts', {
      ...base,
      clipId: undefined,
      mediaType: 'image',
      mediaUrls: ['https://cdn.example.com/a.png'],
    });
    expect(image.status).toBe(422);
    expect(image.json.errors).toEqual([{ field: 'mediaType', message: 'youtube does not support image posts' }]);
    const tags = await user.call('POST', '/v1/posts', { ...base, hashtags: Array.from({ length: 16 }, (_, i) => `tag${i}`) });
    expect(tags.json.errors).toEqual([{ field: 'hashtags', message: 'youtube allows at most 15 hashtags' }]);
    const privacy = await user.call('POST', '/v1/posts', { ...base, platformOptions: { privacyStatus: 'friends' } });
    expect(privacy.status).toBe(422);
    expect(privacy.json.errors).toEqual([{ field: 'platformOptions.privacyStatus', message: expect.any(String) }]);
  });

  it('connects a TikTok account through its OAuth flow; a state of another user, an expired state and an unknown state are 400 naming state', async () => {
    const user = await newUser();
    const started = await user.call('POST', '/v1/social-accounts', { platform: 'tiktok', redirectUri: REDIRECT_URI });
    expect(started.status).toBe(200);
    const { code, state } = await consent(started.json.authorizationUrl);

    const stranger = await newUser();
    const stolen = await stranger.call('POST', '/v1/social-accounts/oauth/callback', { code, state });
    expect(stolen.status).toBe(400);
    expect(stolen.json.errors).toEqual([{ field: 'state', message: 'unknown state: start the connection again' }]);

    const connected = await user.call('POST', '/v1/social-accounts/oauth/callback', { code, state });
    expect(connected.status).toBe(201);
    expect(connected.json).toMatchObject({ platform: 'tiktok', platformUserId: expect.stringMatching(/^tiktok-user-/), status: 'active' });
    const accounts = await user.call('GET', '/v1/social-accounts');
    expect(accounts.json.accounts.map((a: { id: string }) => a.id)).toEqual([connected.json.id]);

    const again = await user.call('POST', '/v1/social-accounts', { platform: 'tiktok', redirectUri: REDIRECT_URI });
    await db()
      .updateTable('social_oauth_states')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .where('used_at', 'is', null)
      .execute();
    const expired = await user.call('POST', '/v1/social-accounts/oauth/callback', {
      code: (await consent(again.json.authorizationUrl)).code,
      state: again.json.state,
    });
    expect(expired.status).toBe(400);
    expect(expired.json.errors).toEqual([{ field: 'state', message: 'this state expired: start the connection again' }]);
    const unknown = await user.call('POST', '/v1/social-accounts/oauth/callback', {
      code: 'x',
      state: randomBytes(32).toString('base64url'),
    });
    expect(unknown.json.errors).toEqual([{ field: 'state', message: 'unknown state: start the connection again' }]);
    const unsupported = await user.call('POST', '/v1/social-accounts', { platform: 'x', redirectUri: REDIRECT_URI });
    expect(unsupported.status).toBe(400);
  });
});
