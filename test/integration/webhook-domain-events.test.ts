import { randomUUID } from 'node:crypto';
import { createAffiliateActivities } from '../../activities/affiliates';
import { createPostActivities } from '../../activities/posts';
import { createSselfieActivities } from '../../activities/sselfie';
import { createWebhookDispatch, webhookDeliveryPolicy } from '../../api/webhook-dispatch';
import { insertTrainingRun } from '../../db/repositories/sselfie';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { webhookEventId } from '../../lib/webhook-signing';
import { createProviders, type Providers } from '../../providers';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import { ADMIN_SCOPES, USER_SCOPES } from '../../schemas/api-keys';
import type { PayoutsResult } from '../../workflows/payouts/contract';
import { createCaller } from '../api/fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startWebhookReceiver, verifiesWith, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver';

/**
 * Domain events of outgoing webhooks on the real stack: the activity that records a fact emits its
 * event in the same transaction, exactly once per fact, signed for the subscribed endpoint.
 */
describe('webhook domain events (post.published, post.failed, payout.paid, model.trained)', () => {
  let platform: TestPlatform;
  let receiver: WebhookReceiver;
  let social: SocialSandbox;
  let stripe: StripeSandbox;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    social = await startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 });
    stripe = await startStripeSandbox({ webhookSecret: 'whsec_domain_events', port: 0 });
    platform = await startTestPlatform({
      sandboxUrls: { social: social.url, stripe: stripe.url },
      env: { SSRF_ALLOWED_HOSTS: receiver.host, AFFILIATE_MIN_PAYOUT_CENTS: '1000' },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await social?.stop();
    await stripe?.stop();
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

  it('sends one signed payout.paid to the affiliate when their monthly payout is transferred', async () => {
    const affiliate = await createCaller(db());
    const joined = await api(
      platform.apiUrl,
      'POST',
      '/v1/affiliates',
      { referralCode: 'hooks-glow', stripeConnectedAccountId: 'acct_1Hooks' },
      affiliate.auth,
    );
    expect(joined.status).toBe(201);
    const endpoint = await api(
      platform.apiUrl,
      'POST',
      '/v1/webhook-endpoints',
      { url: `${receiver.url}/payouts`, events: ['payout.paid'] },
      affiliate.auth,
    );
    expect(endpoint.status).toBe(201);

    const customer = await createCaller(db());
    expect((await api(platform.apiUrl, 'POST', '/v1/referrals', { referralCode: 'hooks-glow' }, customer.auth)).status).toBe(201);
    const affiliates = createAffiliateActivities({
      db: db(),
      logger: createLogger('silent'),
      providers: createProviders({
        config: platform.config,
        logger: createLogger('silent'),
        db: db(),
        sandboxUrls: { stripe: stripe.url },
      }),
      affiliatePolicy: { refundWindowDays: 30 },
    });
    await affiliates.recordAffiliateCommission({
      stripeInvoiceId: 'in_hooks_1',
      userId: customer.userId,
      amountPaidCents: 10_000,
      currency: 'usd',
      paidAt: new Date().toISOString(),
    });
    // The refund window passing, as 30 days of wall time would.
    await db()
      .updateTable('affiliate_commissions')
      .set({ eligible_at: new Date('2024-05-15T12:00:00Z') })
      .execute();

    const admin = await createCaller(db(), { role: 'admin', scopes: ADMIN_SCOPES });
    const started = await api(platform.apiUrl, 'POST', '/v1/admin/payouts/run', { periodEnd: '2024-06-30' }, admin.auth);
    expect(started.status).toBe(202);
    const result: PayoutsResult = await platform.client.workflow.getHandle(started.json.runId as string).result();
    expect(result.totals).toMatchObject({ paid: 1 });

    const payout = await db().selectFrom('affiliate_payouts').selectAll().executeTakeFirstOrThrow();
    const [hook] = await eventually(
      async () => receiver.at('/payouts'),
      (hooks) => hooks.length >= 1,
      'payout.paid delivery',
    );
    expect(verifiesWith(endpoint.json.secret as string, hook!)).toBe(true);
    expect(envelopeOf(hook!)).toMatchObject({
      id: webhookEventId('payout.paid', payout.id),
      type: 'payout.paid',
      data: { payoutId: payout.id, amountCents: payout.amount_cents, currency: 'usd', transferId: payout.stripe_transfer_id },
    });
    const events = await db().selectFrom('webhook_events').select('id').where('type', '=', 'payout.paid').execute();
    expect(events).toEqual([{ id: webhookEventId('payout.paid', payout.id) }]);
  });

  it('sends one signed model.trained when a training completes, however often the completing activity runs', async () => {
    const owner = await createCaller(db());
    const endpoint = await api(
      platform.apiUrl,
      'POST',
      '/v1/webhook-endpoints',
      { url: `${receiver.url}/models`, events: ['model.trained'] },
      owner.auth,
    );
    expect(endpoint.status).toBe(201);
    const modelId = randomUUID();
    await db()
      .transaction()
      .execute((tx) =>
        insertTrainingRun(tx, {
          id: modelId,
          userId: owner.userId,
          modelName: 'Me',
          triggerWord: 'TOK',
          creditsCost: 1,
          selfies: [{ imageUrl: 'https://cdn.example.com/s0.jpg', mediaKey: 's0.jpg', contentType: 'image/jpeg', bytes: 1 }],
        }),
      );
    // Replicate's answer for a finished training; the rest is the real activity with the platform's dispatch.
    const replicate = {
      getTraining: async () => ({
        status: 'succeeded',
        output: { version: 'owner/sselfie:v42', weights: 'https://replicate.delivery/w.tar' },
      }),
    };
    const sselfie = createSselfieActivities({
      db: db(),
      logger: createLogger('silent'),
      providers: { replicate } as unknown as Providers,
      webhookDispatch: createWebhookDispatch(platform.client, platform.queues, db(), webhookDeliveryPolicy(platform.config)),
    });
    await sselfie.completeModelTraining({ modelId, trainingId: 'training-1' });
    await sselfie.completeModelTraining({ modelId, trainingId: 'training-1' });

    const [hook] = await eventually(
      async () => receiver.at('/models'),
      (hooks) => hooks.length >= 1,
      'model.trained delivery',
    );
    expect(verifiesWith(endpoint.json.secret as string, hook!)).toBe(true);
    expect(envelopeOf(hook!)).toMatchObject({
      id: webhookEventId('model.trained', modelId),
      type: 'model.trained',
      data: { modelId, modelName: 'Me', triggerWord: 'TOK', versionId: 'v42' },
    });
    const deliveries = await db()
      .selectFrom('webhook_deliveries')
      .innerJoin('webhook_events', 'webhook_events.id', 'webhook_deliveries.event_id')
      .select('webhook_events.id')
      .where('webhook_events.type', '=', 'model.trained')
      .execute();
    expect(deliveries).toEqual([{ id: webhookEventId('model.trained', modelId) }]);
  });
});
