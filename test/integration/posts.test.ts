import { randomBytes, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { ActivityDeps } from '../../activities';
import { createPostActivities, type PostActivities } from '../../activities/posts';
import { createProviders, type Providers } from '../../providers';
import type { SocialPublisher } from '../../providers/social';
import { createApiKey } from '../../db/repositories/api-keys';
import { getPlanLimits } from '../../db/repositories/plans';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { createSecretBox, loadEncryptionKey, secretAad } from '../../lib/secrets';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import { postStateQuery } from '../../workflows/posts/contract';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { eventually } from '../helpers/eventually';

const ENCRYPTION_KEY = randomBytes(32).toString('base64');

/**
 * Scheduled posting through the HTTP API on the real stack: PostgreSQL, Temporal, the worker
 * with the real post activities, and the X/Instagram publishers (fetch) against the social
 * sandbox started in this process.
 */
describe('scheduled social posts (API + real stack + social sandbox)', () => {
  let platform: TestPlatform;
  let social: SocialSandbox;
  let postActivities: PostActivities | undefined;
  /** Set by a test: the next X publish reaches the platform, then its response is lost. */
  let loseNextPublishResponse = false;
  const secrets = createSecretBox(
    loadEncryptionKey({ ENCRYPTION_KEY, ENCRYPTION_KEY_ID: 'k1', NODE_ENV: 'test', dataDir: '/nonexistent' }),
  );

  beforeAll(async () => {
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    // The worker registers these names now; they call the real activities built once the database exists.
    const names = Object.keys(createPostActivities({} as ActivityDeps)) as Array<keyof PostActivities>;
    const late = Object.fromEntries(
      names.map((name) => [name, (...args: unknown[]) => (postActivities![name] as (...a: unknown[]) => unknown)(...args)]),
    );
    platform = await startTestPlatform({ env: { ENCRYPTION_KEY }, activities: (real) => ({ ...real, ...late }) });
    const logger = createLogger('silent');
    const providers = createProviders({ config: platform.config, logger, db: platform.database.db, sandboxUrls: { social: social.url } });
    const x = providers.social.x;
    const flakyX: SocialPublisher = {
      platform: 'x',
      findExisting: (post) => x.findExisting(post),
      fetchMetrics: (account, id) => x.fetchMetrics(account, id),
      refreshToken: (token) => x.refreshToken(token),
      async publish(post) {
        const published = await x.publish(post);
        if (!loseNextPublishResponse) return published;
        loseNextPublishResponse = false;
        throw ApplicationFailure.retryable('x: connection reset after the request was sent', 'ProviderUnavailable');
      },
    };
    // Only `social` is replaced; the other adapters stay lazy getters of the real registry.
    const testProviders = Object.create(providers, { social: { value: { ...providers.social, x: flakyX } } }) as Providers;
    postActivities = createPostActivities({ db: platform.database.db, logger, providers: testProviders, secrets });
  });
  afterAll(async () => {
    await platform?.stop();
    await social?.stop();
  });

  const db = () => platform.database.db;

  async function newUser() {
    const user = await createUser(db(), { email: `posts-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    return { id: user.id, call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth) };
  }
  type User = Awaited<ReturnType<typeof newUser>>;

  async function connectX(user: User) {
    const issued = social.issueAccount('x', undefined, `creator_${randomBytes(3).toString('hex')}`);
    const res = await user.call('POST', '/v1/social-accounts', {
      platform: 'x',
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      tokenExpiresAt: issued.expiresAt,
      platformUserId: issued.platformUserId,
      username: issued.username,
    });
    expect(res.status).toBe(201);
    return { accountId: res.json.id as string, issued };
  }

  const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
  const postRow = (id: string) => db().selectFrom('posts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const sandboxPosts = (platformUserId: string) => social.posts.filter((p) => p.userId === platformUserId);

  const waitForStatus = (postId: string, statuses: string[], timeoutMs = 30_000) =>
    eventually(
      () => postRow(postId),
      (row) => statuses.includes(row.status),
      `post ${postId} in ${statuses.join('/')}`,
      timeoutMs,
    );

  it('publishes at the scheduled time: published with platformPostId and URL; tokens stored encrypted; DELETE then is 409', async () => {
    const user = await newUser();
    const { accountId, issued } = await connectX(user);
    const stored = await db()
      .selectFrom('social_accounts')
      .select('encrypted_tokens')
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(stored.encrypted_tokens).not.toContain(issued.accessToken);

    const scheduledAt = inSeconds(3);
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'New video is live',
      hashtags: ['creators'],
      mediaType: 'image',
      mediaUrls: ['https://cdn.example.com/a.png'],
      scheduledAt,
    });
    expect(created.status).toBe(202);
    expect(created.json).toEqual({
      postId: expect.any(String),
      runId: `post:${created.json.postId}`,
      status: 'scheduled',
      scheduledAt: new Date(scheduledAt).toISOString(),
    });
    expect((await user.call('GET', `/v1/posts/${created.json.postId}`)).json.status).toBe('scheduled');

    const row = await waitForStatus(created.json.postId, ['published', 'failed']);
    expect(row.status).toBe('published');
    expect(row.published_at!.getTime()).toBeGreaterThanOrEqual(Date.parse(scheduledAt));
    const onPlatform = sandboxPosts(issued.platformUserId);
    expect(onPlatform).toHaveLength(1);
    expect(onPlatform[0]!.text).toContain('New video is live\n\n#creators https://cdn.example.com/a.png');

    const view = await user.call('GET', `/v1/posts/${created.json.postId}`);
    expect(view.json).toMatchObject({
      status: 'published',
      platformPostId: onPlatform[0]!.id,
      platformUrl: `https://x.com/${issued.username}/status/${onPlatform[0]!.id}`,
    });
    const del = await user.call('DELETE', `/v1/posts/${created.json.postId}`);
    expect(del.status).toBe(409);
    await platform.client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });

  it('an expired access token is refreshed once, the new token stored encrypted, and the post published', async () => {
    const user = await newUser();
    const { accountId, issued } = await connectX(user);
    social.expireToken(issued.accessToken);
    const refreshesBefore = social.server.requests.filter((r) => r.path === '/x/2/oauth2/token').length;

    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'After a token refresh',
      mediaType: 'image',
      scheduledAt: inSeconds(2),
    });
    expect(created.status).toBe(202);
    expect((await waitForStatus(created.json.postId, ['published', 'failed'])).status).toBe('published');

    expect(social.server.requests.filter((r) => r.path === '/x/2/oauth2/token').length - refreshesBefore).toBe(1);
    const account = await db().selectFrom('social_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    const tokens = JSON.parse(secrets.decrypt(account.encrypted_tokens, secretAad('social_accounts', 'encrypted_tokens', accountId))) as {
      access_token: string;
      refresh_token: string;
    };
    expect(tokens.access_token).not.toBe(issued.accessToken);
    expect(tokens.refresh_token).not.toBe(issued.refreshToken); // X rotates refresh tokens
    expect(account.encrypted_tokens).not.toContain(tokens.access_token);
    expect(account.status).toBe('active');
    expect(sandboxPosts(issued.platformUserId)).toHaveLength(1);
    await platform.client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });

  it('a revoked grant fails the post with ProviderAuth and a clear reason, and marks the account expired', async () => {
    const user = await newUser();
    const { accountId, issued } = await connectX(user);
    social.revokeGrant(issued.accessToken);

    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'Never posted',
      mediaType: 'image',
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
      /^ProviderAuth: the x account @creator_\w+: authorization expired or revoked and could not be refreshed \(.*\); reconnect it to post$/,
    );
    const account = await db()
      .selectFrom('social_accounts')
      .select(['status', 'last_error'])
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    expect(account.status).toBe('expired');
    expect(sandboxPosts(issued.platformUserId)).toHaveLength(0);
  });

  it('refuses a past time and a caption over the platform limit with 422 naming the field', async () => {
    const user = await newUser();
    const { accountId } = await connectX(user);
    const past = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'late',
      mediaType: 'image',
      scheduledAt: new Date(Date.now() - 60_000).toISOString(),
    });
    expect(past.status).toBe(422);
    expect(past.json.errors).toEqual([{ field: 'scheduledAt', message: 'must be in the future' }]);

    const long = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'x'.repeat(281),
      mediaType: 'image',
      scheduledAt: inSeconds(3600),
    });
    expect(long.status).toBe(422);
    expect(long.headers.get('content-type')).toContain('application/problem+json');
    expect(long.json.errors).toEqual([
      { field: 'caption', message: expect.stringContaining('x allows 280 characters; this post has 281') },
    ]);
    expect(await db().selectFrom('posts').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
  });

  it('PATCH reschedules through the workflow update and replies with the new time; DELETE cancels; someone else gets 404', async () => {
    const user = await newUser();
    const { accountId } = await connectX(user);
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'Moved',
      mediaType: 'image',
      scheduledAt: inSeconds(3600),
    });
    const later = new Date(Date.now() + 7_200_000);
    later.setUTCMilliseconds(0);
    const moved = await user.call('PATCH', `/v1/posts/${created.json.postId}`, { scheduledAt: later.toISOString() });
    expect(moved.status).toBe(200);
    expect(moved.json).toEqual({ postId: created.json.postId, scheduledAt: later.toISOString() });
    expect((await postRow(created.json.postId)).scheduled_at!.toISOString()).toBe(later.toISOString());
    expect(await platform.client.workflow.getHandle(created.json.runId).query(postStateQuery)).toMatchObject({
      scheduledAt: later.toISOString(),
    });

    const stranger = await newUser();
    expect((await stranger.call('PATCH', `/v1/posts/${created.json.postId}`, { scheduledAt: later.toISOString() })).status).toBe(404);
    expect((await stranger.call('DELETE', `/v1/posts/${created.json.postId}`)).status).toBe(404);

    const canceled = await user.call('DELETE', `/v1/posts/${created.json.postId}`);
    expect(canceled.status).toBe(200);
    expect(canceled.json).toEqual({ postId: created.json.postId, status: 'canceled' });
    expect(await platform.client.workflow.getHandle(created.json.runId).result()).toMatchObject({ status: 'canceled' });
    expect((await postRow(created.json.postId)).status).toBe('canceled');
    expect((await user.call('PATCH', `/v1/posts/${created.json.postId}`, { scheduledAt: later.toISOString() })).status).toBe(409);
  });

  it('GET /v1/posting-schedule answers the saved schedule to its owner only, 404 before one is saved', async () => {
    const user = await newUser();
    expect((await user.call('GET', '/v1/posting-schedule')).status).toBe(404);
    const saved = await user.call('PUT', '/v1/posting-schedule', { timezone: 'Europe/Paris', days: ['tue', 'sat'], times: ['08:15'] });
    expect(saved.status).toBe(200);
    const read = await user.call('GET', '/v1/posting-schedule');
    expect(read.status).toBe(200);
    expect(read.json).toEqual({ timezone: 'Europe/Paris', days: ['tue', 'sat'], times: ['08:15'], socialAccountId: null });
    expect(read.json).toEqual(saved.json);

    const stranger = await newUser();
    expect((await stranger.call('GET', '/v1/posting-schedule')).status).toBe(404);
  });

  it("slot 'next' takes the next free slot of the schedule in its time zone, never the same slot twice", async () => {
    const user = await newUser();
    const { accountId } = await connectX(user);
    const schedule = await user.call('PUT', '/v1/posting-schedule', {
      timezone: 'America/New_York',
      days: ['mon', 'wed', 'fri'],
      times: ['09:00', '17:30'],
    });
    expect(schedule.status).toBe(200);
    const first = await user.call('POST', '/v1/posts', { socialAccountId: accountId, caption: 'one', mediaType: 'image', slot: 'next' });
    const second = await user.call('POST', '/v1/posts', { socialAccountId: accountId, caption: 'two', mediaType: 'image', slot: 'next' });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(Date.parse(second.json.scheduledAt)).toBeGreaterThan(Date.parse(first.json.scheduledAt));
    for (const slot of [first.json.scheduledAt as string, second.json.scheduledAt as string]) {
      const local = new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(slot));
      expect(local).toMatch(/^(Mon|Wed|Fri) (09:00|17:30)$/);
    }
    for (const created of [first, second]) await user.call('DELETE', `/v1/posts/${created.json.postId}`);
  });

  it('publishes once when the publish is retried after the platform accepted it: findExisting finds the earlier post', async () => {
    const user = await newUser();
    const { accountId, issued } = await connectX(user);
    loseNextPublishResponse = true;
    const created = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'Exactly once',
      mediaType: 'image',
      scheduledAt: inSeconds(2),
    });
    const row = await waitForStatus(created.json.postId, ['published', 'failed']);
    expect(row.status).toBe('published');
    expect(loseNextPublishResponse).toBe(false);
    expect(row.retry_count).toBe(2); // the lost attempt and the retry that found the post
    const onPlatform = sandboxPosts(issued.platformUserId);
    expect(onPlatform).toHaveLength(1);
    expect(row.platform_post_id).toBe(onPlatform[0]!.id);
    await platform.client.workflow.getHandle(created.json.runId).terminate('test done (metrics timers)');
  });

  it("lists scheduled posts among the user's runs (type filter), never counts them against the concurrency cap, and closes a canceled post's run", async () => {
    const user = await newUser();
    const { accountId } = await connectX(user);
    const { maxConcurrentJobs } = await getPlanLimits(db(), user.id);
    const runIds: string[] = [];
    for (let i = 0; i <= maxConcurrentJobs; i++) {
      const created = await user.call('POST', '/v1/posts', {
        socialAccountId: accountId,
        caption: `post ${i}`,
        mediaType: 'image',
        mediaUrls: ['https://cdn.example.com/a.png'],
        scheduledAt: inSeconds(3600 + i * 60),
      });
      expect(created.status).toBe(202);
      runIds.push(created.json.runId);
    }
    // More running posts than the plan's cap, and still room for a job.
    const smoke = await user.call('POST', '/v1/smoke', { delayMs: 0 });
    expect(smoke.status).toBe(202);

    const listed = await user.call('GET', '/v1/runs?type=post&limit=100');
    expect(listed.status).toBe(200);
    expect(listed.json.data.map((r: { id: string }) => r.id).sort()).toEqual([...runIds].sort());
    expect(listed.json.data.every((r: { type: string; status: string }) => r.type === 'post' && r.status === 'running')).toBe(true);
    expect((await user.call('GET', '/v1/runs?limit=100')).json.data.map((r: { id: string }) => r.id)).toEqual(
      expect.arrayContaining([...runIds, smoke.json.runId]),
    );

    // A post ends through its own routes, so its slot and row follow; not through the generic cancel.
    const [canceled, ...rest] = runIds;
    expect((await user.call('POST', `/v1/runs/${encodeURIComponent(canceled!)}/cancel`)).json).toMatchObject({
      status: 409,
      type: expect.stringMatching(/\/run-not-cancelable$/),
    });

    // The list is read from PostgreSQL alone: the post's run closed its own row.
    expect((await user.call('DELETE', `/v1/posts/${canceled!.slice('post:'.length)}`)).status).toBe(200);
    const closed = await eventually(
      async () =>
        (
          (await user.call('GET', '/v1/runs?type=post&limit=100')).json.data as Array<{ id: string; status: string; result?: unknown }>
        ).find((r) => r.id === canceled),
      (run) => run?.status === 'completed',
      'canceled post run closed in job_runs',
    );
    expect(closed).toMatchObject({ result: { status: 'canceled' }, closedAt: expect.any(String) });
    await Promise.all(rest.map((id) => platform.client.workflow.getHandle(id).terminate('test done')));
  });

  it('refuses media URLs on private or local addresses with 422 naming each field, and creates no post', async () => {
    const user = await newUser();
    const { accountId } = await connectX(user);
    const mediaUrls = [
      'https://cdn.example.com/ok.png',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:0:7f00:1]/a.png',
      'https://media.localhost/a.png',
    ];
    const res = await user.call('POST', '/v1/posts', {
      socialAccountId: accountId,
      caption: 'sneaky',
      mediaType: 'image',
      mediaUrls,
      scheduledAt: inSeconds(60),
    });
    expect(res.status).toBe(422);
    expect(res.json.errors.map((e: { field: string }) => e.field)).toEqual(['mediaUrls.1', 'mediaUrls.2', 'mediaUrls.3']);
    expect(await db().selectFrom('posts').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
  });

  it('connects accounts only with ids in the platform format: a bare LinkedIn member id becomes its person URN, other shapes are 422', async () => {
    const user = await newUser();
    const connect = (platform: string, platformUserId: string) =>
      user.call('POST', '/v1/social-accounts', { platform, accessToken: `at-${randomUUID()}`, platformUserId });
    const bare = await connect('linkedin', 'AbC123-xyz');
    expect(bare.status).toBe(201);
    expect(bare.json.platformUserId).toBe('urn:li:person:AbC123-xyz');
    expect((await connect('linkedin', 'urn:li:organization:2414183')).json.platformUserId).toBe('urn:li:organization:2414183');
    for (const [platform, id] of [
      ['linkedin', 'https://www.linkedin.com/in/someone'],
      ['linkedin', 'urn:li:share:123'],
      ['x', '@creator'],
      ['facebook', 'my-page'],
      ['instagram', 'creator_ig'],
      ['youtube', 'creator-channel'],
    ]) {
      const refused = await connect(platform!, id!);
      expect([platform, refused.status, refused.json.errors?.[0]?.field]).toEqual([platform, 422, 'platformUserId']);
    }
  });
});
