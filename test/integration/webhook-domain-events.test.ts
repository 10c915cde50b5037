import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAffiliateActivities } from '../../activities/affiliates';
import { createCreditExpiryActivities } from '../../activities/credit-expiry';
import { createCreditActivities } from '../../activities/credits';
import { createPostActivities } from '../../activities/posts';
import { createProductActivities } from '../../activities/products';
import { createSselfieActivities, createSselfieMediaActivities } from '../../activities/sselfie';
import { createWebhookDispatch, webhookDeliveryPolicy } from '../../api/webhook-dispatch';
import { applyCreditTransaction } from '../../db/repositories/credits';
import { createProduct, createProductVideo } from '../../db/repositories/products';
import { ensureImageRows, insertImageGeneration, insertTrainingRun } from '../../db/repositories/sselfie';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { mediaStoreFor } from '../../lib/media/store';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { secretAad } from '../../lib/secrets';
import { webhookEventId } from '../../lib/webhook-signing';
import { createProviders, type Providers } from '../../providers';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startCloudinarySandbox, type CloudinarySandbox } from '../../sandbox/cloudinary';
import { startGoogleSandbox, type GoogleSandbox } from '../../sandbox/google';
import type { SandboxServer } from '../../sandbox/http';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import { ADMIN_SCOPES, USER_SCOPES } from '../../schemas/api-keys';
import type { PayoutsResult } from '../../workflows/payouts/contract';
import { createCaller } from '../api/fixtures';
import { makeTestVideo } from '../media/media-fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { startWebhookReceiver, verifiesWith, type ReceivedWebhook, type WebhookReceiver } from '../helpers/webhook-receiver';
import { TALK_SRT } from './clips-fixtures';

const STRIPE_SECRET = 'whsec_domain_events';
/** A talk long enough for the Anthropic sandbox to write from. */
const TALK_TEXT = [
  'Today I want to show you how I plan a whole month of videos in a single afternoon.',
  'The first step is to write down every question your audience asked in the comments last month.',
  'Batch filming saves me roughly nine hours a week because the lights and the camera stay set up.',
  'Finally, schedule the uploads for the same weekday and hour, because consistency trains your viewers.',
].join(' ');

/**
 * Domain events of outgoing webhooks on the real stack: the activity that records a fact emits its
 * event in the same transaction, exactly once per fact, signed for the subscribed endpoint.
 */
describe('webhook domain events (every event type, emitted by the activity that records its fact)', () => {
  let platform: TestPlatform;
  let receiver: WebhookReceiver;
  let social: SocialSandbox;
  let stripe: StripeSandbox;
  let anthropic: SandboxServer;
  let cloudinary: CloudinarySandbox;
  let google: GoogleSandbox;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'domain-events-'));
    receiver = await startWebhookReceiver();
    [social, stripe, anthropic, cloudinary, google] = await Promise.all([
      startSocialSandbox({ ...SANDBOX_CREDENTIALS.social, port: 0 }),
      startStripeSandbox({ webhookSecret: STRIPE_SECRET, port: 0 }),
      startAnthropicSandbox({ port: 0 }),
      startCloudinarySandbox({ ...SANDBOX_CREDENTIALS.cloudinary, port: 0 }),
      startGoogleSandbox({ port: 0 }),
    ]);
    platform = await startTestPlatform({
      sandboxUrls: { social: social.url, stripe: stripe.url, anthropic: anthropic.url, cloudinary: cloudinary.url, google: google.url },
      env: {
        SSRF_ALLOWED_HOSTS: receiver.host,
        AFFILIATE_MIN_PAYOUT_CENTS: '1000',
        DATA_DIR: dataDir,
        STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
      },
    });
    stripe.setWebhookUrl(`${platform.apiUrl}/v1/webhooks/stripe`);
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([social?.stop(), stripe?.stop(), anthropic?.stop(), cloudinary?.stop(), google?.stop(), receiver?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  const db = () => platform.database.db;
  const envelopeOf = (webhook: ReceivedWebhook) => JSON.parse(webhook.body) as { id: string; type: string; data: Record<string, unknown> };
  const logger = createLogger('silent');
  const providers = () =>
    createProviders({
      config: platform.config,
      logger,
      db: db(),
      sandboxUrls: { stripe: stripe.url, anthropic: anthropic.url, cloudinary: cloudinary.url, google: google.url },
    });
  /** What the worker's activities get: the platform's database, secrets and delivery dispatch. */
  const activityDeps = () => ({
    db: db(),
    logger,
    providers: providers(),
    secrets: platform.secrets,
    webhookDispatch: createWebhookDispatch(platform.client, platform.queues, db(), webhookDeliveryPolicy(platform.config)),
  });

  /** A user with an endpoint at `/<path>` subscribed to `events`; its deliveries are read back by type. */
  async function subscriber(path: string, events: string[], plan = 'basic') {
    const user = await createUser(db(), { email: `domain-events-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    const auth = { authorization: `Bearer ${plaintext}` };
    const endpoint = await api(platform.apiUrl, 'POST', '/v1/webhook-endpoints', { url: `${receiver.url}/${path}`, events }, auth);
    expect(endpoint.status).toBe(201);
    const secret = endpoint.json.secret as string;
    /** The signed envelopes of `type` delivered so far (each checked against the endpoint's secret). */
    const delivered = (type: string) =>
      receiver
        .at(`/${path}`)
        .filter((hook) => {
          expect(verifiesWith(secret, hook)).toBe(true);
          return envelopeOf(hook).type === type;
        })
        .map(envelopeOf);
    /** Waits for `count` deliveries of `type`. */
    const awaitDelivered = (type: string, count: number) =>
      eventually(
        async () => delivered(type),
        (hooks) => hooks.length >= count,
        `${count} ${type} deliveries`,
        60_000,
      );
    /** The outbox rows of the user's events of `type`. */
    const recorded = (type: string) =>
      db().selectFrom('webhook_events').select(['id', 'data']).where('user_id', '=', user.id).where('type', '=', type).execute();
    return { userId: user.id, auth, delivered, awaitDelivered, recorded };
  }

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

  it('ClipFlow: video.processed once an upload is ingested, clip.generated per clip, thumbnail.completed per job', async () => {
    const hooks = await subscriber('clipflow', ['video.processed', 'clip.generated', 'thumbnail.completed']);
    const source = await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9, size: '320x180', fps: 25 });
    const form = new FormData();
    form.append('file', new Blob([await readFile(source)], { type: 'video/mp4' }), 'talk.mp4');
    form.append('transcript', TALK_SRT);
    form.append('autoClips', JSON.stringify({ count: 2, aspectRatios: ['9:16'], minSeconds: 1.5, maxSeconds: 3, captions: null }));
    const uploaded = await fetch(`${platform.apiUrl}/v1/videos/upload`, { method: 'POST', body: form, headers: hooks.auth });
    expect(uploaded.status).toBe(201);
    const { videoId } = (await uploaded.json()) as { videoId: string };

    const [processed] = await hooks.awaitDelivered('video.processed', 1);
    expect(processed).toMatchObject({
      id: webhookEventId('video.processed', videoId),
      data: { videoId, sourceType: 'upload', title: 'talk', width: 320, height: 180, hasAudio: true, transcriptSource: 'uploaded_srt' },
    });

    // The ingest chains the clips run: one clip.generated per rendered clip, its id derived from the clip.
    const clipEvents = await hooks.awaitDelivered('clip.generated', 2);
    const clips = await db().selectFrom('clips').selectAll().where('video_id', '=', videoId).orderBy('clip_index').execute();
    expect(clips).toHaveLength(2);
    expect(clipEvents.map((e) => e.id).sort()).toEqual(clips.map((clip) => webhookEventId('clip.generated', clip.id)).sort());
    for (const clip of clips)
      expect(clipEvents.find((e) => e.data.clipId === clip.id)).toMatchObject({
        data: {
          videoId,
          runId: clip.run_id,
          clipIndex: clip.clip_index,
          startSeconds: clip.start_time,
          endSeconds: clip.end_time,
          fileUrls: { '9:16': clip.file_urls['9:16'] },
          thumbnailUrl: clip.thumbnail_url,
          captions: { srtUrl: expect.stringMatching(/captions\.en\.srt$/), vttUrl: expect.stringMatching(/captions\.en\.vtt$/) },
        },
      });

    const started = await api(
      platform.apiUrl,
      'POST',
      `/v1/videos/${videoId}/thumbnails`,
      { topic: 'Plan a month of videos', expression: 'excited', aspectRatio: '16:9', styles: ['bold_contrast'] },
      hooks.auth,
    );
    expect(started.status).toBe(202);
    await platform.client.workflow.getHandle(started.json.runId as string).result();
    const job = await api(platform.apiUrl, 'GET', `/v1/thumbnail-jobs/${started.json.jobId}`, undefined, hooks.auth);
    const [thumbnails] = await hooks.awaitDelivered('thumbnail.completed', 1);
    expect(thumbnails).toMatchObject({
      id: webhookEventId('thumbnail.completed', started.json.jobId as string),
      data: {
        jobId: started.json.jobId,
        videoId,
        status: 'completed',
        thumbnails: job.json.thumbnails.map((t: { id: string; style: string; url: string }) => ({
          thumbnailId: t.id,
          style: t.style,
          url: t.url,
          version: 1,
          width: 1280,
          height: 720,
        })),
      },
    });
    for (const type of ['video.processed', 'clip.generated', 'thumbnail.completed'])
      expect(await hooks.recorded(type)).toHaveLength(type === 'clip.generated' ? 2 : 1);
  });

  it('AmplifyContent: content.generated per content item, export.completed per export, video.imported per import', async () => {
    const hooks = await subscriber('amplify', ['content.generated', 'export.completed', 'video.imported']);
    const credential = await db()
      .insertInto('cloud_storage_credentials')
      .values({
        user_id: hooks.userId,
        provider: 'google_drive',
        encrypted_tokens: 'pending',
        folder_naming_pattern: 'AmplifyContent/{video_code}/{content_type}',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db()
      .updateTable('cloud_storage_credentials')
      .set({
        encrypted_tokens: platform.secrets.encrypt(
          JSON.stringify({ access_token: 'ya29.drive-ok', refresh_token: '1//drive-refresh' }),
          secretAad('cloud_storage_credentials', 'encrypted_tokens', credential.id),
        ),
        token_expires_at: new Date(Date.now() + 3_600_000),
      })
      .where('id', '=', credential.id)
      .execute();
    const youtubeVideoId = randomBytes(8).toString('base64url').slice(0, 11);
    const started = await api(
      platform.apiUrl,
      'POST',
      '/v1/videos/import',
      {
        url: `https://www.youtube.com/watch?v=${youtubeVideoId}`,
        contentTypes: ['summary', 'quotes'],
        transcript: { content: TALK_TEXT },
        export: { provider: 'google_drive', formats: ['md'] },
      },
      hooks.auth,
    );
    expect(started.status).toBe(202);
    const runId = started.json.runId as string;
    const videoId = started.json.videoId as string;
    const result = await platform.client.workflow.getHandle(runId).result();
    expect(result.export).toEqual({ status: 'completed', uploaded: 2, failed: 0 });

    const contents = await db()
      .selectFrom('video_content as vc')
      .innerJoin('content_types as ct', 'ct.id', 'vc.content_type_id')
      .select(['vc.id', 'ct.key', 'vc.version', 'vc.model', 'vc.tokens_used'])
      .where('vc.video_id', '=', videoId)
      .orderBy('ct.key')
      .execute();
    expect(contents.map((c) => c.key)).toEqual(['quotes', 'summary']);
    const generated = await hooks.awaitDelivered('content.generated', 2);
    for (const content of contents)
      expect(generated.find((e) => e.data.contentId === content.id)).toMatchObject({
        id: webhookEventId('content.generated', content.id),
        data: {
          videoId,
          contentType: content.key,
          version: 1,
          parentContentId: null,
          model: content.model,
          tokensUsed: content.tokens_used,
        },
      });

    const [exported] = await hooks.awaitDelivered('export.completed', 1);
    const uploads = await db()
      .selectFrom('cloud_storage_uploads')
      .selectAll()
      .where('video_id', '=', videoId)
      .orderBy('content_type')
      .execute();
    expect(exported).toMatchObject({
      data: {
        videoId,
        runId,
        status: 'completed',
        uploaded: 2,
        failed: 0,
        files: uploads.map((u) => ({
          contentId: u.video_content_id,
          contentType: u.content_type,
          format: 'md',
          fileUrl: u.cloud_file_url,
        })),
      },
    });

    const [imported] = await hooks.awaitDelivered('video.imported', 1);
    expect(imported).toMatchObject({
      id: webhookEventId('video.imported', videoId),
      data: {
        videoId,
        youtubeVideoId,
        contents: expect.arrayContaining(contents.map((c) => ({ contentId: c.id, contentType: c.key, version: 1 }))),
      },
    });
    expect(await hooks.recorded('content.generated')).toHaveLength(2);
    expect(await hooks.recorded('export.completed')).toHaveLength(1);
    expect(await hooks.recorded('video.imported')).toHaveLength(1);
  });

  it('SSELFIE and EcomVideo: image.generated per image, product_video.completed per video, credits.low once per crossing', async () => {
    const hooks = await subscriber('credits', ['image.generated', 'product_video.completed', 'credits.low']);
    const deps = activityDeps();
    // 14 credits on the basic plan (100 a month): low means under max(10, 10 % of 100) = 10.
    await applyCreditTransaction(db(), { userId: hooks.userId, amount: 14, type: 'bonus', idempotencyKey: `bonus:${hooks.userId}` });

    // A product video of 5 credits takes the balance from 14 to 9: the crossing.
    const product = await createProduct(db(), { userId: hooks.userId, url: 'https://shop.example.com/p/1', domain: 'shop.example.com' });
    const video = await createProductVideo(db(), {
      userId: hooks.userId,
      productId: product.id,
      style: null,
      aspectRatio: '9:16',
      durationSeconds: 5,
      textPrompt: 'a mug on a desk',
      overlayText: null,
      costCredits: 5,
    });
    const products = createProductActivities(deps);
    await products.reserveProductVideoCredits({ videoId: video.id });
    await products.reserveProductVideoCredits({ videoId: video.id });
    const videoUrl = 'https://cdn.example.com/product-videos/mug.mp4';
    await products.completeProductVideo({ videoId: video.id, videoUrl, fileSizeBytes: 1234 });
    await products.completeProductVideo({ videoId: video.id, videoUrl, fileSizeBytes: 1234 });
    // Further debits below the threshold are no new crossing.
    const credits = createCreditActivities(deps);
    await credits.reserveCredits({ userId: hooks.userId, amount: 2, reservationId: `below:${randomUUID()}`, reason: 'one image' });

    const [low] = await hooks.awaitDelivered('credits.low', 1);
    expect(low).toMatchObject({
      id: webhookEventId('credits.low', `reservation:product-video:${video.id}`),
      data: { balance: 9, previousBalance: 14, threshold: 10, cause: 'reservation', reason: expect.stringContaining(video.id) },
    });
    const [completed] = await hooks.awaitDelivered('product_video.completed', 1);
    expect(completed).toMatchObject({
      id: webhookEventId('product_video.completed', video.id),
      data: {
        videoId: video.id,
        productId: product.id,
        videoUrl,
        fileSizeBytes: 1234,
        durationSeconds: 5,
        aspectRatio: '9:16',
        creditsCharged: 5,
      },
    });

    // A top-up lifts the balance over the threshold again: the next debit under it is a new crossing.
    await applyCreditTransaction(db(), { userId: hooks.userId, amount: 10, type: 'bonus', idempotencyKey: `bonus2:${hooks.userId}` });
    await credits.reserveCredits({ userId: hooks.userId, amount: 8, reservationId: `again:${randomUUID()}`, reason: 'a training' });
    const lows = await hooks.awaitDelivered('credits.low', 2);
    expect(lows[1]!.data).toMatchObject({ balance: 9, previousBalance: 17, threshold: 10 });

    // Credits expiring are a debit too: 20 credits granted already past their expiry leave with the sweep (29 → 9).
    const lapsing = await applyCreditTransaction(db(), {
      userId: hooks.userId,
      amount: 20,
      type: 'bonus',
      idempotencyKey: `lapsing:${hooks.userId}`,
      expiresAt: new Date(Date.now() - 1000),
    });
    const lot = await db()
      .selectFrom('credit_lots')
      .select('id')
      .where('source_transaction_id', '=', lapsing.transaction.id)
      .executeTakeFirstOrThrow();
    await createCreditExpiryActivities(deps).expireDueCreditLots({ limit: 100 });
    const afterExpiry = await hooks.awaitDelivered('credits.low', 3);
    expect(afterExpiry[2]).toMatchObject({
      id: webhookEventId('credits.low', `credit_expiry:${lot.id}`),
      data: { balance: 9, previousBalance: 29, threshold: 10, cause: 'expiry' },
    });

    // An SSELFIE image stored by the media activity: one image.generated per image row.
    const modelId = randomUUID();
    const generationId = randomUUID();
    await db()
      .transaction()
      .execute((tx) =>
        insertTrainingRun(tx, {
          id: modelId,
          userId: hooks.userId,
          modelName: 'Me',
          triggerWord: 'TOK',
          creditsCost: 1,
          selfies: [{ imageUrl: 'https://cdn.example.com/s0.jpg', mediaKey: 's0.jpg', contentType: 'image/jpeg', bytes: 1 }],
        }),
      );
    await insertImageGeneration(db(), {
      id: generationId,
      userId: hooks.userId,
      trainingRunId: modelId,
      prompt: 'on a beach',
      style: null,
      imageCount: 1,
    });
    await ensureImageRows(db(), { id: generationId, userId: hooks.userId, prompt: 'on a beach', style: null }, [7]);
    const media = createSselfieMediaActivities({ ...deps, mediaStore: mediaStoreFor(platform.config, () => deps.providers.cloudinary) });
    const png = `data:image/png;base64,${Buffer.from('not really a png').toString('base64')}`;
    const stored = await media.storeGeneratedImage({ generationId, position: 0, outputUrl: png });
    await media.storeGeneratedImage({ generationId, position: 0, outputUrl: png });
    const image = await db().selectFrom('ai_images').select('id').where('generation_id', '=', generationId).executeTakeFirstOrThrow();
    const [generatedImage] = await hooks.awaitDelivered('image.generated', 1);
    expect(generatedImage).toMatchObject({
      id: webhookEventId('image.generated', image.id),
      data: { imageId: image.id, source: 'generation', generationId, photoshootId: null, position: 0, imageUrl: stored.imageUrl },
    });
    expect(await hooks.recorded('credits.low')).toHaveLength(3);
    expect(await hooks.recorded('product_video.completed')).toHaveLength(1);
    expect(await hooks.recorded('image.generated')).toHaveLength(1);
  });

  it('subscription.updated for each status, plan or cancel-at-period-end change recorded from Stripe', async () => {
    const hooks = await subscriber('billing', ['subscription.updated'], 'free');
    const adapter = providers().stripe;
    const session = await adapter.createSubscriptionCheckout({
      userId: hooks.userId,
      email: `billing-${hooks.userId}@example.test`,
      priceId: 'price_sandbox_basic_monthly',
      checkoutId: randomUUID(),
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/no',
    });
    const completed = await fetch(`${stripe.url}/__sandbox/stripe/checkout/${session.id}/complete`, { method: 'POST' });
    const { subscription } = (await completed.json()) as { subscription: string };
    const [first] = await hooks.awaitDelivered('subscription.updated', 1);
    expect(first).toMatchObject({
      data: {
        subscriptionId: subscription,
        status: 'active',
        previousStatus: null,
        plan: 'basic',
        previousPlan: null,
        cancelAtPeriodEnd: false,
      },
    });

    const advanced = await fetch(`${stripe.url}/__sandbox/stripe/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subscription, action: 'cancel_at_period_end' }),
    });
    expect(advanced.status).toBe(200);
    const updates = await hooks.awaitDelivered('subscription.updated', 2);
    expect(updates[1]).toMatchObject({
      data: {
        subscriptionId: subscription,
        status: 'active',
        previousStatus: 'active',
        plan: 'basic',
        previousPlan: 'basic',
        cancelAtPeriodEnd: true,
      },
    });
    // The other events of the journey (invoice paid, redeliveries) change none of the three: nothing more was recorded.
    await stripe.idle();
    expect(await hooks.recorded('subscription.updated')).toHaveLength(2);
  });
});
