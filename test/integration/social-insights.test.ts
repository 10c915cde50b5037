import { randomBytes, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from '../../activities';
import { createSocialAccountSchedules } from '../../api/social-schedules';
import { createSocialEngagementActivities, type SocialEngagementActivities } from '../../activities/social-engagement';
import { createApiKey } from '../../db/repositories/api-keys';
import { insertPostTargets, recordTargetPublished } from '../../db/repositories/post-targets';
import { insertPost, recordPublished } from '../../db/repositories/posts';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { createProviders, type Providers } from '../../providers';
import type { SocialPublisher } from '../../providers/social';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import type { SandboxServer } from '../../sandbox/http';
import { sandboxDailyInsights, startSocialSandbox, type SandboxSocialPlatform, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import type { CommentsPollResult } from '../../schemas/social-insights';
import { accountSyncScheduleId } from '../../workflows/account-sync/contract';
import { COMMENTS_POLL_WORKFLOW_TYPE, commentsPollScheduleId } from '../../workflows/comments-poll/contract';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * ClipFlow analytics, comments inbox and revoked accounts through the HTTP API on the real
 * stack: PostgreSQL, Temporal (the accounts' Schedules on the dev server), the worker with the
 * real activities, the social publishers (fetch) against the social sandbox, the model against
 * the Anthropic sandbox and mail against the email sandbox.
 */
describe('account analytics, comments inbox and social token refresh (API + real stack + sandboxes)', () => {
  let platform: TestPlatform;
  let social: SocialSandbox;
  let anthropic: SandboxServer;
  let email: EmailSandbox;
  let providers: Providers;
  let engagement: SocialEngagementActivities | undefined;
  /** Set by a test: the next X reply reaches the platform, then its response is lost. */
  let loseNextReplyResponse = false;

  beforeAll(async () => {
    [social, anthropic, email] = await Promise.all([
      startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 }),
      startAnthropicSandbox({ port: 0 }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
    ]);
    const sandboxUrls = { social: social.url, anthropic: anthropic.url, email: email.url };
    // The worker registers these names now; they call the activities built once the database exists.
    const names = Object.keys(createSocialEngagementActivities({} as ActivityDeps)) as Array<keyof SocialEngagementActivities>;
    const late = Object.fromEntries(
      names.map((name) => [name, (...args: unknown[]) => (engagement![name] as (...a: unknown[]) => unknown)(...args)]),
    );
    platform = await startTestPlatform({
      env: { SANDBOX_URLS: JSON.stringify(sandboxUrls) },
      sandboxUrls,
      activities: (real) => ({ ...real, ...late }),
    });
    const logger = createLogger('silent');
    providers = createProviders({ config: platform.config, logger, db: platform.database.db, sandboxUrls });
    const x = providers.social.x as SocialPublisher & { reply(input: unknown): Promise<{ platformReplyId: string }> };
    const flakyX = Object.create(x, {
      reply: {
        async value(input: unknown) {
          const reply = await x.reply(input);
          if (!loseNextReplyResponse) return reply;
          loseNextReplyResponse = false;
          throw ApplicationFailure.retryable('x: connection reset after the request was sent', 'ProviderUnavailable');
        },
      },
    }) as SocialPublisher;
    // Only `social` is replaced; the other adapters stay lazy getters of the real registry.
    const testProviders = Object.create(providers, { social: { value: { ...providers.social, x: flakyX } } }) as Providers;
    engagement = createSocialEngagementActivities({
      db: platform.database.db,
      logger,
      providers: testProviders,
      secrets: platform.secrets,
      socialSchedules: createSocialAccountSchedules(platform.client, { queues: platform.queues, prefix: platform.queues.prefix }, logger),
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([social?.stop(), anthropic?.stop(), email?.stop()]);
  });

  const db = () => platform.database.db;
  const today = () => new Date().toISOString().slice(0, 10);

  async function newUser() {
    const user = await createUser(db(), { email: `insights-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    return {
      id: user.id,
      email: user.email,
      call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth),
    };
  }
  type User = Awaited<ReturnType<typeof newUser>>;

  async function connect(user: User, platformName: SandboxSocialPlatform, platformUserId?: string) {
    const issued = social.issueAccount(platformName, platformUserId, `creator_${randomBytes(3).toString('hex')}`);
    const res = await user.call('POST', '/v1/social-accounts', {
      platform: platformName,
      accessToken: issued.accessToken,
      refreshToken: issued.refreshToken,
      tokenExpiresAt: issued.expiresAt,
      platformUserId: issued.platformUserId,
      username: issued.username,
    });
    expect([200, 201]).toContain(res.status);
    return { accountId: res.json.id as string, issued };
  }

  const scheduleState = async (scheduleId: string) => (await platform.client.schedule.getHandle(scheduleId).describe()).state;
  const schedulesOf = (accountId: string) => [
    commentsPollScheduleId(accountId, platform.queues.prefix),
    accountSyncScheduleId(accountId, platform.queues.prefix),
  ];
  const poll = (accountId: string, userId: string) =>
    platform.client.workflow.execute<(input: { socialAccountId: string; userId: string }) => Promise<CommentsPollResult>>(
      COMMENTS_POLL_WORKFLOW_TYPE,
      { taskQueue: platform.queues.main, workflowId: `comments-poll-test:${randomUUID()}`, args: [{ socialAccountId: accountId, userId }] },
    );

  /** A post of ours published on the platform (through its real API) and recorded as such. */
  async function publishedPost(user: User, accountId: string, issued: { accessToken: string; platformUserId: string }) {
    const postId = randomUUID();
    const published = await providers.social.x.publish({
      postId,
      account: { accessToken: issued.accessToken, platformUserId: issued.platformUserId },
      caption: 'Three editing tips for short clips',
      mediaType: 'image',
      mediaUrls: [],
    });
    await insertPost(db(), {
      id: postId,
      runId: `post:${postId}`,
      userId: user.id,
      socialAccountId: accountId,
      clipId: null,
      caption: 'Three editing tips for short clips',
      hashtags: [],
      mentions: [],
      mediaUrls: [],
      mediaType: 'image',
      platformOptions: {},
      scheduledAt: new Date(Date.now() - 60_000),
      needsApproval: false,
    });
    const [target] = await insertPostTargets(db(), postId, [{ socialAccountId: accountId, platform: 'twitter' }]);
    await recordTargetPublished(db(), target!.id, published);
    await recordPublished(db(), postId, published);
    return { postId, platformPostId: published.platformPostId };
  }

  it("syncs a day's analytics: one row per account and day (upserted), follower count and last sync; a disconnected account is 409", async () => {
    const user = await newUser();
    const { accountId, issued } = await connect(user, 'instagram');
    for (const id of schedulesOf(accountId)) expect((await scheduleState(id)).paused).toBe(false);

    for (let run = 0; run < 2; run += 1) {
      const started = await user.call('POST', `/v1/social-accounts/${accountId}/sync`);
      expect(started.status).toBe(202);
      expect(started.json).toMatchObject({ runId: `account-sync:${accountId}`, socialAccountId: accountId, date: today() });
      await platform.client.workflow.getHandle(started.json.runId).result();
    }
    const expected = sandboxDailyInsights(issued.platformUserId, today());
    const analytics = await user.call('GET', `/v1/analytics?accountId=${accountId}&from=${today()}&to=${today()}`);
    expect(analytics.status).toBe(200);
    expect(analytics.json).toMatchObject({ accountId, platform: 'instagram', followerCount: expected.followers });
    expect(analytics.json.lastSyncAt).not.toBeNull();
    expect(analytics.json.days).toEqual([
      expect.objectContaining({
        date: today(),
        followers: expected.followers,
        followersGained: expected.gained,
        impressions: expected.impressions,
        reach: expected.reach,
        engagement: expected.engagement,
      }),
    ]);
    const rows = await db().selectFrom('account_analytics').select('id').where('social_account_id', '=', accountId).execute();
    expect(rows).toHaveLength(1);

    // Another user's account is not found; a range backwards names `to`.
    expect((await (await newUser()).call('GET', `/v1/analytics?accountId=${accountId}&from=${today()}&to=${today()}`)).status).toBe(404);
    const backwards = await user.call('GET', `/v1/analytics?accountId=${accountId}&from=${today()}&to=2020-01-01`);
    expect(backwards.status).toBe(400);
    expect(backwards.json.errors[0].field).toBe('to');

    expect((await user.call('DELETE', `/v1/social-accounts/${accountId}`)).status).toBe(204);
    const refused = await user.call('POST', `/v1/social-accounts/${accountId}/sync`);
    expect(refused.status).toBe(409);
    expect(refused.json.detail).toContain('disconnected');
    expect(refused.json).toMatchObject({ status: 409, accountStatus: 'disconnected' });
    await expect(scheduleState(schedulesOf(accountId)[0]!)).rejects.toThrow();
  });

  it('polls new comments once each, classifies their sentiment with the model (cost recorded) and serves the inbox', async () => {
    const user = await newUser();
    const { accountId, issued } = await connect(user, 'x');
    const { postId, platformPostId } = await publishedPost(user, accountId, issued);
    social.addComment('x', platformPostId, 'I love this, amazing tips and great pacing!', 'happy_fan');
    social.addComment('x', platformPostId, 'Awful audio, this was boring and a waste of time.', 'grumpy');
    social.addComment('x', platformPostId, 'Which camera did you film it with?', 'curious');

    const first = await poll(accountId, user.id);
    expect(first).toMatchObject({ postsChecked: 1, newComments: 3, classified: 3 });
    const second = await poll(accountId, user.id);
    expect(second).toMatchObject({ newComments: 0, classified: 0 });

    const inbox = await user.call('GET', `/v1/comments?accountId=${accountId}`);
    expect(inbox.status).toBe(200);
    const byAuthor = Object.fromEntries((inbox.json.data as Array<{ authorUsername: string }>).map((c) => [c.authorUsername, c]));
    expect(byAuthor).toMatchObject({
      happy_fan: { sentiment: 'positive', postId, platform: 'x', isRead: false, replied: false },
      grumpy: { sentiment: 'negative' },
      curious: { sentiment: 'neutral' },
    });
    const usage = await db()
      .selectFrom('ai_usage_logs')
      .selectAll()
      .where('user_id', '=', user.id)
      .where('operation', '=', 'comments.sentiment')
      .execute();
    expect(usage).toHaveLength(1);
    expect(usage[0]!.cost_micro_usd).toBeGreaterThan(0);

    const negative = await user.call('GET', `/v1/comments?sentiment=negative&postId=${postId}`);
    expect(negative.json.data.map((c: { authorUsername: string }) => c.authorUsername)).toEqual(['grumpy']);
    const read = await user.call('PATCH', `/v1/comments/${negative.json.data[0].id}`, { read: true });
    expect(read.status).toBe(200);
    expect(read.json.isRead).toBe(true);
    const unread = await user.call('GET', `/v1/comments?accountId=${accountId}&unread=true`);
    expect(unread.json.data).toHaveLength(2);
    // Another user's comment is not found.
    expect((await (await newUser()).call('PATCH', `/v1/comments/${negative.json.data[0].id}`, { read: true })).status).toBe(404);
  });

  it('replies once, also when the activity is retried after the platform accepted the reply; too long is 422, again is 409', async () => {
    const user = await newUser();
    const { accountId, issued } = await connect(user, 'x');
    const { platformPostId } = await publishedPost(user, accountId, issued);
    const comment = social.addComment('x', platformPostId, 'Great tips, thanks!', 'fan');
    await poll(accountId, user.id);
    const [row] = (await user.call('GET', `/v1/comments?accountId=${accountId}`)).json.data as Array<{ id: string }>;

    const tooLong = await user.call('POST', `/v1/comments/${row!.id}/reply`, { text: 'x'.repeat(264) });
    expect(tooLong.status).toBe(422);
    expect(tooLong.json.errors[0].field).toBe('text');
    expect((await (await newUser()).call('POST', `/v1/comments/${row!.id}/reply`, { text: 'Thanks!' })).status).toBe(404);

    loseNextReplyResponse = true;
    const started = await user.call('POST', `/v1/comments/${row!.id}/reply`, { text: 'Thank you so much!' });
    expect(started.status).toBe(202);
    expect(started.json.runId).toBe(`comment-reply:${row!.id}`);
    const result = await platform.client.workflow.getHandle(started.json.runId).result();
    expect(result).toMatchObject({ commentId: row!.id, alreadyReplied: true });
    expect(loseNextReplyResponse).toBe(false);

    const replies = social.comments.filter((c) => c.parentId === comment.id);
    expect(replies).toHaveLength(1);
    expect(replies[0]!.text.startsWith('Thank you so much!')).toBe(true);
    const after = (await user.call('GET', `/v1/comments?accountId=${accountId}`)).json.data[0];
    expect(after).toMatchObject({ replied: true, replyText: 'Thank you so much!', isRead: true });
    expect((await user.call('POST', `/v1/comments/${row!.id}/reply`, { text: 'Again' })).status).toBe(409);
  });

  it('a revoked account is marked revoked, its schedules pause and its owner is emailed once; reconnecting resumes them', async () => {
    const user = await newUser();
    const { accountId, issued } = await connect(user, 'x');
    // The token is due for renewal; the platform has revoked the grant meanwhile.
    await db()
      .updateTable('social_accounts')
      .set({ token_expires_at: new Date(Date.now() + 60_000) })
      .where('id', '=', accountId)
      .execute();
    social.revokeGrant(issued.accessToken);

    expect(await poll(accountId, user.id)).toMatchObject({ accessLost: true, tokenRefreshed: false });
    const account = await db().selectFrom('social_accounts').selectAll().where('id', '=', accountId).executeTakeFirstOrThrow();
    expect(account.status).toBe('revoked');
    for (const id of schedulesOf(accountId)) expect((await scheduleState(id)).paused).toBe(true);
    const mails = () => email.messages.filter((m) => m.to.includes(user.email));
    await eventually(
      async () => mails(),
      (m) => m.length === 1,
      'one revocation email',
    );
    expect(mails()[0]!.subject).toContain('Reconnect your x account');

    // Anything else acting as the account now is refused up front, and mails nobody again.
    expect((await user.call('POST', `/v1/social-accounts/${accountId}/sync`)).status).toBe(409);
    expect(await poll(accountId, user.id)).toMatchObject({ accessLost: true });
    expect(mails()).toHaveLength(1);

    const again = await connect(user, 'x', issued.platformUserId);
    expect(again.accountId).toBe(accountId);
    for (const id of schedulesOf(accountId)) expect((await scheduleState(id)).paused).toBe(false);
    expect(await poll(accountId, user.id)).toMatchObject({ postsChecked: 0 });
  });
});
