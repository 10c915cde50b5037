import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiKey } from '../../db/repositories/api-keys';
import { applyCreditTransaction } from '../../db/repositories/credits';
import { upsertNotificationSettings } from '../../db/repositories/notifications';
import { upsertScrapingRule } from '../../db/repositories/products';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { creditExpirySweep, ensureIntervalSweep } from '../../platform/schedules';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import { startFreepikSandbox, type FreepikSandbox } from '../../sandbox/freepik';
import { startShopSandbox, type ShopSandbox } from '../../sandbox/shop';
import { USER_SCOPES } from '../../schemas/api-keys';
import { creditExpiryScheduleId } from '../../workflows/credit-expiry/contract';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * EcomVideo AI on the real stack (API, Temporal, PostgreSQL, workers, ffmpeg) with the shop,
 * Freepik and email sandboxes: scrapes, product videos through both Freepik tasks, refunds,
 * notifications and the credit-expiry schedule.
 */
describe('products and product videos (API + real stack + shop/Freepik/email sandboxes)', () => {
  let platform: TestPlatform;
  let shop: ShopSandbox;
  let freepik: FreepikSandbox;
  let email: EmailSandbox;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'products-it-'));
    [shop, freepik, email] = await Promise.all([
      startShopSandbox({ slowPageMs: 5_000 }),
      startFreepikSandbox({ apiKey: SANDBOX_CREDENTIALS.freepikApiKey, stepMs: 300 }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
    ]);
    const sandboxUrls = { shop: shop.url, freepik: freepik.url, email: email.url };
    platform = await startTestPlatform({
      sandboxUrls,
      env: {
        DATA_DIR: dataDir,
        SANDBOX_URLS: JSON.stringify(sandboxUrls),
        SCRAPE_DEFAULT_DELAY_MS: '0',
        SCRAPE_TIMEOUT_MS: '700',
        FREEPIK_POLL_INITIAL_MS: '200',
        FREEPIK_POLL_MAX_MS: '400',
      },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([shop?.stop(), freepik?.stop(), email?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  const db = () => platform.database.db;

  async function newUser(plan = 'basic', credits = 0) {
    const user = await createUser(db(), { email: `shopper-${randomUUID()}@example.test`, plan });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    if (credits > 0)
      await applyCreditTransaction(db(), { userId: user.id, amount: credits, type: 'purchase', idempotencyKey: `pack:${user.id}` });
    const auth = { authorization: `Bearer ${plaintext}` };
    return {
      id: user.id,
      email: user.email,
      call: (method: string, path: string, body?: unknown) => api(platform.apiUrl, method, path, body, auth),
    };
  }
  type User = Awaited<ReturnType<typeof newUser>>;

  async function scrape(user: User, path: string) {
    const started = await user.call('POST', '/v1/products', { url: `${shop.url}${path}` });
    expect(started.status).toBe(202);
    return eventually(
      () => user.call('GET', `/v1/products/${started.json.productId}`),
      (r) => ['Success', 'Failed'].includes(r.json?.scrapingStatus),
      `the scrape of ${path} to end`,
      30_000,
    );
  }

  async function scrapedLamp(user: User) {
    const product = await scrape(user, shop.pages['aurora-desk-lamp']!);
    expect(product.json.scrapingStatus).toBe('Success');
    return product.json.id as string;
  }

  const ledger = (userId: string) =>
    db()
      .selectFrom('credit_transactions')
      .select(['amount', 'transaction_type', 'balance_after'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();

  const mailsTo = (address: string) => email.messages.filter((m) => m.to.includes(address));

  it('scrapes a sandbox product: JSON-LD and Open Graph fields, both images checked and stored', async () => {
    const user = await newUser();
    const product = await scrape(user, shop.pages['aurora-desk-lamp']!);
    expect(product.json).toMatchObject({
      scrapingStatus: 'Success',
      failureReason: null,
      name: 'Aurora Desk Lamp',
      price: 49.9,
      currency: 'EUR',
      brand: 'Lumen & Co',
      sku: 'AUR-100',
      availability: 'InStock',
      domain: new URL(shop.url).host,
    });
    expect(product.json.images).toEqual([
      expect.objectContaining({
        contentType: 'image/png',
        width: 120,
        height: 160,
        isPrimary: true,
        sourceUrl: `${shop.url}/images/aurora-front.png`,
      }),
      expect.objectContaining({ contentType: 'image/jpeg', width: 64, height: 64, isPrimary: false }),
    ]);
    // The stored copies are real files in the media store.
    for (const image of product.json.images as Array<{ url: string; fileSizeBytes: number }>)
      expect((await stat(fileURLToPath(image.url))).size).toBe(image.fileSizeBytes);
    // robots.txt was read before the page.
    const paths = shop.server.requests.map((r) => r.path);
    expect(paths.indexOf('/robots.txt')).toBeLessThan(paths.indexOf('/products/aurora-desk-lamp'));
  });

  it("applies the domain's scraping rule: its selectors win, and its delay spaces requests to the site", async () => {
    const user = await newUser();
    await upsertScrapingRule(db(), {
      domain: new URL(shop.url).host,
      selectors: { name: 'h1[data-test=title]', price: '.sale-price' },
      delayMs: 300,
    });
    try {
      shop.server.requests.length = 0;
      const product = await scrape(user, shop.pages['ceramic-pour-over']!);
      expect(product.json).toMatchObject({
        scrapingStatus: 'Success',
        name: 'Ceramic Pour-Over, Sand Glaze',
        price: 19.9,
        currency: 'EUR',
      });
      const times = shop.server.requests.map((r) => r.at);
      expect(times.length).toBe(3); // robots.txt, the page, one image
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(280);
    } finally {
      await db().deleteFrom('scraping_rules').execute();
    }
  });

  it('ends failed scrapes with their reason, and stores only real images', async () => {
    const user = await newUser();
    const blocked = await scrape(user, shop.pages['limited-edition-watch']!);
    expect(blocked.json).toMatchObject({ scrapingStatus: 'Failed', failureReason: 'blocked_by_robots', name: null });
    expect(shop.server.requests.some((r) => r.path.startsWith('/private/'))).toBe(false);
    const about = await scrape(user, shop.pages['about-us']!);
    expect(about.json).toMatchObject({ scrapingStatus: 'Failed', failureReason: 'not_a_product' });
    const slow = await scrape(user, shop.pages['slow-blender']!);
    expect(slow.json).toMatchObject({ scrapingStatus: 'Failed', failureReason: 'timeout' });
    const mug = await scrape(user, shop.pages['broken-image-mug']!);
    expect(mug.json).toMatchObject({ scrapingStatus: 'Success', name: 'Mug', images: [] });
  });

  it('refuses non-http(s) and private URLs with 422 naming url, starting nothing', async () => {
    const user = await newUser();
    for (const url of [
      'ftp://shop.example/item',
      'http://10.0.0.8/products/lamp',
      'https://169.254.169.254/latest/meta-data',
      'not a url',
    ]) {
      const res = await user.call('POST', '/v1/products', { url });
      expect(res.status).toBe(422);
      expect(res.json.errors).toEqual([{ field: 'url', message: expect.any(String) }]);
    }
    expect(await db().selectFrom('product_data').select('id').where('user_id', '=', user.id).execute()).toEqual([]);
  });

  it('makes a video through both Freepik tasks, burns the caption in, commits the credits and emails once', async () => {
    const user = await newUser('basic', 100);
    const productId = await scrapedLamp(user);
    const tasksBefore = freepik.tasks.length;
    const started = await user.call('POST', `/v1/products/${productId}/videos`, {
      durationSeconds: 5,
      aspectRatio: '9:16',
      caption: 'Summer sale',
      showPrice: true,
    });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ costCredits: 10, runId: `product-video:${started.json.videoId}` });
    const seen = new Set<string>();
    const video = await eventually(
      () => user.call('GET', `/v1/product-videos/${started.json.videoId}`),
      (r) => {
        seen.add(r.json?.status);
        return ['Completed', 'Failed'].includes(r.json?.status);
      },
      'the video to finish',
      60_000,
    );
    expect(video.json).toMatchObject({
      status: 'Completed',
      progress: 100,
      creditsState: 'committed',
      generationCostCredits: 10,
      error: null,
    });
    expect([...seen]).toEqual(expect.arrayContaining(['GeneratingImage', 'GeneratingVideo', 'Completed']));
    const created = freepik.tasks.slice(tasksBefore);
    expect(created.map((t) => t.kind)).toEqual(['image', 'video']);
    expect(created[0]!.body).toMatchObject({ aspect_ratio: 'social_story_9_16', prompt: expect.stringContaining('Aurora Desk Lamp') });
    expect(created[1]!.body).toMatchObject({ duration: '5', image: `${freepik.url}/files/${created[0]!.id}.png` });
    // The stored mp4 is the re-encoded overlay (not Freepik's bytes) in the 9:16 frame.
    const file = fileURLToPath(video.json.videoUrl as string);
    expect((await stat(file)).size).toBe(video.json.fileSizeBytes);
    expect(video.json.fileSizeBytes).toBeGreaterThan(0);
    expect(await ledger(user.id)).toEqual([
      { amount: 100, transaction_type: 'purchase', balance_after: 100 },
      { amount: -10, transaction_type: 'usage', balance_after: 90 },
    ]);
    const mails = await eventually(
      async () => mailsTo(user.email),
      (m) => m.length > 0,
      'the ready email',
    );
    expect(mails).toEqual([
      expect.objectContaining({
        subject: 'Your video of Aurora Desk Lamp is ready',
        idempotencyKey: `video_completed:${started.json.videoId}`,
      }),
    ]);
  });

  it('refunds a failed Freepik task once, marks the video Failed and sends the failure email only if wanted', async () => {
    const user = await newUser('basic', 30);
    const quiet = await newUser('basic', 30);
    await upsertNotificationSettings(db(), quiet.id, { video_failed: false });
    for (const who of [user, quiet]) {
      const productId = await scrapedLamp(who);
      freepik.failNext('video');
      const started = await who.call('POST', `/v1/products/${productId}/videos`, { durationSeconds: 10, aspectRatio: '1:1' });
      expect(started.status).toBe(202);
      const video = await eventually(
        () => who.call('GET', `/v1/product-videos/${started.json.videoId}`),
        (r) => ['Completed', 'Failed'].includes(r.json?.status),
        'the video to fail',
        60_000,
      );
      expect(video.json).toMatchObject({ status: 'Failed', creditsState: 'refunded', error: expect.stringContaining('safety filter') });
      expect(await ledger(who.id)).toEqual([
        { amount: 30, transaction_type: 'purchase', balance_after: 30 },
        { amount: -20, transaction_type: 'reservation', balance_after: 10 },
        { amount: 20, transaction_type: 'refund', balance_after: 30 },
      ]);
      await expect(platform.client.workflow.getHandle(started.json.runId as string).result()).rejects.toThrow();
    }
    // The refund went back into the purchased lot it came from: no new lot, the pack's full 30 live again.
    const lots = await db().selectFrom('credit_lots').select(['source', 'remaining']).where('user_id', '=', user.id).execute();
    expect(lots).toEqual([{ source: 'purchase', remaining: 30 }]);
    await eventually(
      async () => mailsTo(user.email),
      (m) => m.length === 1,
      'the failure email',
    );
    expect(mailsTo(user.email)[0]!.subject).toBe('Your video of Aurora Desk Lamp could not be made');
    expect(mailsTo(quiet.email)).toEqual([]);
    expect(await db().selectFrom('notification_deliveries').select('status').where('user_id', '=', quiet.id).execute()).toEqual([
      { status: 'skipped' },
    ]);
  });

  it('answers 402 before starting when the credits or the plan’s monthly videos run out, and 409 for a failed scrape', async () => {
    const poor = await newUser('basic', 5);
    const productId = await scrapedLamp(poor);
    const short = await poor.call('POST', `/v1/products/${productId}/videos`, { durationSeconds: 5, aspectRatio: '16:9' });
    expect(short.status).toBe(402);
    expect(short.json).toMatchObject({ balance: 5, required: 10 });
    const free = await newUser('free', 100); // the free plan makes one video a month
    const freeProduct = await scrapedLamp(free);
    await db()
      .insertInto('product_videos')
      .values({
        user_id: free.id,
        product_data_id: freeProduct,
        aspect_ratio: '1:1',
        duration_seconds: 5,
        text_prompt: 'earlier',
        generation_cost_credits: 10,
        status: 'Completed',
      })
      .execute();
    const over = await free.call('POST', `/v1/products/${freeProduct}/videos`, { durationSeconds: 5, aspectRatio: '1:1' });
    expect(over.status).toBe(402);
    expect(over.json).toMatchObject({ limit: 1 });
    const notAProduct = await scrape(free, shop.pages['about-us']!);
    const refused = await free.call('POST', `/v1/products/${notAProduct.json.id}/videos`, { durationSeconds: 5, aspectRatio: '1:1' });
    expect(refused.status).toBe(409);
    expect(await db().selectFrom('product_videos').select('id').where('user_id', 'in', [poor.id, free.id]).execute()).toHaveLength(1);
    expect((await ledger(free.id)).map((t) => t.transaction_type)).toEqual(['purchase']);
  });

  it('expires what is left of a lot on schedule with a ledger row, spending the soonest-expiring credits first', async () => {
    const user = await newUser();
    const soon = new Date(Date.now() + 1500);
    await applyCreditTransaction(db(), {
      userId: user.id,
      amount: 50,
      type: 'subscription_grant',
      expiresAt: soon,
      idempotencyKey: `grant:${user.id}`,
    });
    await applyCreditTransaction(db(), { userId: user.id, amount: 40, type: 'bonus', idempotencyKey: `bonus:${user.id}` });
    await applyCreditTransaction(db(), { userId: user.id, amount: -20, type: 'usage' });
    const credits = await user.call('GET', '/v1/credits');
    expect(credits.json).toMatchObject({ balance: 70, expiring: [{ expiresAt: soon.toISOString(), amount: 30 }] });

    await new Promise((r) => setTimeout(r, Math.max(0, soon.getTime() - Date.now())));
    const scheduleId = creditExpiryScheduleId(platform.queues.prefix);
    expect(
      await ensureIntervalSweep(
        platform.client,
        { queues: platform.queues, prefix: platform.queues.prefix },
        createLogger('silent'),
        creditExpirySweep,
      ),
    ).toBe('created');
    const schedule = platform.client.schedule.getHandle(scheduleId);
    try {
      await schedule.trigger();
      await eventually(
        () => ledger(user.id),
        (rows) => rows.some((r) => r.transaction_type === 'expiry'),
        'the expiry row',
        30_000,
      );
      expect((await ledger(user.id)).at(-1)).toEqual({ amount: -30, transaction_type: 'expiry', balance_after: 40 });
      const after = await user.call('GET', '/v1/credits');
      expect(after.json).toMatchObject({ balance: 40, expiring: [] });
    } finally {
      await schedule.delete();
    }
  });
});
