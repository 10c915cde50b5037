import { randomUUID } from 'node:crypto';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startAyrshareSandbox, type AyrshareSandbox } from '../../sandbox/ayrshare';
import { startSocialSandbox, type SandboxSocialPlatform, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { PostWorkflowResult } from '../../schemas/posts';
import { postStateQuery } from '../../workflows/posts/contract';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * One post to several platforms through the HTTP API on the real stack (PostgreSQL, Temporal, the
 * real post activities) against the social and Ayrshare sandboxes: one publish per target, each
 * retried on its own, the post's status summarising them.
 */
describe('posts to several platforms, and through Ayrshare (API + real stack + sandboxes)', () => {
  let platform: TestPlatform;
  let social: SocialSandbox;
  let ayrshare: AyrshareSandbox;

  beforeAll(async () => {
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    ayrshare = await startAyrshareSandbox({ apiKey: SANDBOX_CREDENTIALS.ayrshareApiKey, port: 0 });
    const sandboxUrls = { social: social.url, ayrshare: ayrshare.url };
    // The API checks Ayrshare profile keys, so it reads the sandbox URLs too.
    platform = await startTestPlatform({ sandboxUrls, env: { SANDBOX_URLS: JSON.stringify(sandboxUrls) } });
  });
  afterAll(async () => {
    await platform?.stop();
    await social?.stop();
    await ayrshare?.stop();
  });

  const db = () => platform.database.db;

  async function newUser() {
    const user = await createUser(db(), { email: `targets-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    return { id: user.id, call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth) };
  }
  type User = Awaited<ReturnType<typeof newUser>>;

  async function connect(user: User, network: SandboxSocialPlatform) {
    const issued = social.issueAccount(network);
    const res = await user.call('POST', '/v1/social-accounts', {
      platform: network,
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      platformUserId: issued.platformUserId,
      username: issued.username,
    });
    expect(res.status).toBe(201);
    return { accountId: res.json.id as string, issued };
  }

  const soon = () => new Date(Date.now() + 2000).toISOString();
  const image = { mediaType: 'image', mediaUrls: ['https://cdn.example.com/launch.png'] };

  /** The run's result once every target settled; the run then waits for metrics, so it is ended here. */
  async function settledRun(runId: string): Promise<PostWorkflowResult> {
    const row = await eventually(
      () => db().selectFrom('posts').select('status').where('run_id', '=', runId).executeTakeFirstOrThrow(),
      (r) => ['published', 'partially_published', 'failed'].includes(r.status),
      `post ${runId} settled`,
      45_000,
    );
    const handle = platform.client.workflow.getHandle(runId);
    const { status, platformPostId, error } = await handle.query(postStateQuery);
    expect(status).toBe(row.status);
    await handle.terminate('test done (metrics timers)');
    return { status: status as PostWorkflowResult['status'], platformPostId, error };
  }

  it('a two-platform post with one platform failing is partially_published with each platform id, URL and error; the other is retried on its own', async () => {
    const user = await newUser();
    const instagram = await connect(user, 'instagram');
    const x = await connect(user, 'x');
    // Instagram's container creation is down once (retried), X refuses the post for good.
    social.server.faults.inject({
      match: { method: 'POST', path: `/instagram/v23.0/${instagram.issued.platformUserId}/media` },
      status: 503,
    });
    social.server.faults.inject({ match: { method: 'POST', path: '/x/2/tweets' }, status: 400, times: 3 });

    const created = await user.call('POST', '/v1/posts', {
      socialAccountIds: [instagram.accountId, x.accountId],
      caption: 'Launch day',
      ...image,
      scheduledAt: soon(),
    });
    expect(created.status).toBe(202);
    const result = await settledRun(created.json.runId);

    const view = await user.call('GET', `/v1/posts/${created.json.postId}`);
    const igPost = social.posts.filter((p) => p.userId === instagram.issued.platformUserId);
    expect(igPost).toHaveLength(1);
    expect(social.posts.filter((p) => p.userId === x.issued.platformUserId)).toHaveLength(0);
    expect(view.json).toMatchObject({
      status: 'partially_published',
      platform: 'instagram',
      platformPostId: igPost[0]!.id,
      error: expect.stringContaining('x: InvalidInput'),
      targets: [
        {
          socialAccountId: instagram.accountId,
          platform: 'instagram',
          via: 'direct',
          status: 'published',
          platformPostId: igPost[0]!.id,
          platformUrl: expect.stringMatching(/^https:\/\//),
          error: null,
          attempts: 2,
        },
        {
          socialAccountId: x.accountId,
          platform: 'x',
          via: 'direct',
          status: 'failed',
          platformPostId: null,
          platformUrl: null,
          error: expect.stringContaining('rejected the request (HTTP 400)'),
          attempts: 1,
        },
      ],
    });
    expect(result).toEqual({
      status: 'partially_published',
      platformPostId: igPost[0]!.id,
      error: expect.objectContaining({ type: 'InvalidInput' }),
    });
  });

  it('refuses an account of another user and a disconnected one with 422 naming each', async () => {
    const user = await newUser();
    const other = await newUser();
    const own = await connect(user, 'linkedin');
    const gone = await connect(user, 'facebook');
    const foreign = await connect(other, 'x');
    expect((await user.call('DELETE', `/v1/social-accounts/${gone.accountId}`)).status).toBeLessThan(300);

    const res = await user.call('POST', '/v1/posts', {
      socialAccountIds: [own.accountId, foreign.accountId, gone.accountId],
      caption: 'Not everywhere',
      ...image,
      scheduledAt: soon(),
    });
    expect(res.status).toBe(422);
    expect(res.json.errors).toEqual([
      { field: 'socialAccountIds.1', message: `${foreign.accountId} is not one of your social accounts` },
      { field: 'socialAccountIds.2', message: 'the facebook account is disconnected; reconnect it first' },
    ]);
    const none = await user.call('POST', '/v1/posts', { platforms: ['tiktok'], caption: 'x', ...image, scheduledAt: soon() });
    expect(none.status).toBe(422);
    expect(none.json.errors[0].field).toBe('platforms.0');
  });

  it('publishes through Ayrshare: profile key checked and sealed, one Ayrshare post per network with the Profile-Key header', async () => {
    const user = await newUser();
    expect((await user.call('POST', '/v1/social-accounts', { platform: 'ayrshare', profileKey: 'UNKNOWN-KEY-123' })).json.errors).toEqual([
      { field: 'profileKey', message: 'Ayrshare does not know this profile key' },
    ]);
    const profileKey = ayrshare.issueProfile(['linkedin', 'twitter'], 'Glow Studio');
    const connected = await user.call('POST', '/v1/social-accounts', { platform: 'ayrshare', profileKey });
    expect(connected.status).toBe(201);
    expect(connected.json).toMatchObject({ platform: 'ayrshare', username: 'Glow Studio', status: 'active' });
    const stored = await db()
      .selectFrom('social_accounts')
      .select('encrypted_tokens')
      .where('id', '=', connected.json.id)
      .executeTakeFirstOrThrow();
    expect(stored.encrypted_tokens).not.toContain(profileKey);

    const created = await user.call('POST', '/v1/posts', {
      platforms: ['linkedin', 'x'],
      caption: 'Via Ayrshare',
      ...image,
      scheduledAt: soon(),
    });
    expect(created.status).toBe(202);
    expect((await settledRun(created.json.runId)).status).toBe('published');

    const sent = ayrshare.posts.filter((p) => p.profileKey === profileKey);
    expect(sent.map((p) => p.platforms).sort()).toEqual([['linkedin'], ['twitter']]);
    expect(sent.every((p) => p.post.startsWith('Via Ayrshare') && p.mediaUrls[0] === image.mediaUrls[0])).toBe(true);
    const posting = ayrshare.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/post');
    expect(posting.every((r) => r.headers['profile-key'] === profileKey)).toBe(true);
    const view = await user.call('GET', `/v1/posts/${created.json.postId}`);
    expect(view.json.status).toBe('published');
    expect(view.json.targets).toEqual(
      ['linkedin', 'x'].map((network) => {
        const post = sent.find((p) => p.platforms[0] === (network === 'x' ? 'twitter' : network))!;
        return expect.objectContaining({
          platform: network,
          via: 'ayrshare',
          status: 'published',
          platformPostId: post.postIds[0]!.id,
          platformUrl: post.postIds[0]!.postUrl,
        });
      }),
    );
    const targets = await db().selectFrom('post_targets').select('ayrshare_post_id').where('post_id', '=', created.json.postId).execute();
    expect(targets.map((t) => t.ayrshare_post_id).sort()).toEqual(sent.map((p) => p.id).sort());
  });
});
