import { randomUUID } from 'node:crypto';
import { createPostActivities } from '../../activities/posts';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { webhookEventId } from '../../lib/webhook-signing';
import { createProviders } from '../../providers';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { USER_SCOPES } from '../../schemas/api-keys';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startWebhookReceiver, verifiesWith, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Domain events of outgoing webhooks on the real stack: the activity that records a fact emits its
 * event in the same transaction, exactly once per fact, signed for the subscribed endpoint.
 */
describe('webhook domain events (post.published, post.failed)', () => {
  let platform: TestPlatform;
  let receiver: WebhookReceiver;
  let social: SocialSandbox;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    platform = await startTestPlatform({ sandboxUrls: { social: social.url }, env: { SSRF_ALLOWED_HOSTS: receiver.host } });
  });
  afterAll(async () => {
    await platform?.stop();
    await social?.stop();
    await receiver?.stop();
  });

  const db = () => platform.database.db;
  const envelopeOf = (webhook: ReceivedWebhook) => JSON.parse(webhook.body) as { id: string; type: string; data: Record<string, unknown> };

  it('sends one signed post.published and one post.failed per post; a retried activity emits nothing new', async () => {
    const user = await createUser(db(), { email: `domain-events-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const call = (method: string, path: string, body?: unknown) =>
      api(platform.apiUrl, method, path, body, { authorization: `Bearer ${plaintext}` });

    const endpoint = await call('POST', '/v1/webhook-endpoints', {
      url: `${receiver.url}/posts`,
      events: ['post.published', 'post.failed'],
    });
    expect(endpoint.status).toBe(201);
    const secret = endpoint.json.secret as string;

    const connect = async () => {
      const issued = social.issueAccount('x');
      const res = await call('POST', '/v1/social-accounts', {
        platform: 'x',
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        platformUserId: issued.platformUserId,
        username: issued.username,
      });
      expect(res.status).toBe(201);
      return { accountId: res.json.id as string, issued };
    };
    const schedule = async (accountId: string, caption: string) => {
      const res = await call('POST', '/v1/posts', {
        socialAccountId: accountId,
        caption,
        mediaType: 'image',
        mediaUrls: ['https://cdn.example.com/launch.png'],
        scheduledAt: new Date(Date.now() + 1500).toISOString(),
      });
      expect(res.status).toBe(202);
      return res.json.postId as string;
    };

    const good = await connect();
    const revoked = await connect();
    // The platform refuses the grant and its refresh: the post fails with ProviderAuth.
    social.revokeGrant(revoked.issued.accessToken);
    const publishedPostId = await schedule(good.accountId, 'Launch day');
    const failedPostId = await schedule(revoked.accountId, 'Never posted');

    const seen = await eventually(
      async () => receiver.at('/posts'),
      (hooks) => hooks.length >= 2,
      'post.published and post.failed deliveries',
      45_000,
    );
    for (const hook of seen) expect(verifiesWith(secret, hook)).toBe(true);
    const byType = Object.fromEntries(seen.map((hook) => [envelopeOf(hook).type, envelopeOf(hook)]));
    const post = await db().selectFrom('posts').selectAll().where('id', '=', publishedPostId).executeTakeFirstOrThrow();
    expect(byType['post.published']).toMatchObject({
      id: webhookEventId('post.published', publishedPostId),
      data: { postId: publishedPostId, status: 'published', platformPostId: post.platform_post_id, platformUrl: post.platform_url },
    });
    expect(byType['post.failed']).toMatchObject({
      id: webhookEventId('post.failed', failedPostId),
      data: { postId: failedPostId, error: expect.stringContaining('ProviderAuth') },
    });

    // The failing activity runs again (as a retry would): same event id, so no new event nor delivery.
    const activities = createPostActivities({
      db: db(),
      logger: createLogger('silent'),
      providers: createProviders({
        config: platform.config,
        logger: createLogger('silent'),
        db: db(),
        sandboxUrls: { social: social.url },
      }),
      secrets: platform.secrets,
    });
    await activities.finishPost({ postId: failedPostId, status: 'failed', error: 'ProviderAuth: again' });
    const events = await db()
      .selectFrom('webhook_events')
      .innerJoin('webhook_deliveries', 'webhook_deliveries.event_id', 'webhook_events.id')
      .select(['webhook_events.type', 'webhook_events.data'])
      .where('webhook_events.user_id', '=', user.id)
      .orderBy('webhook_events.type')
      .execute();
    expect(events.map((e) => e.type)).toEqual(['post.failed', 'post.published']);
    expect(receiver.at('/posts')).toHaveLength(2);
  });
});
