import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { applyCreditTransaction } from '../../db/repositories/credits';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startAnthropicSandbox } from '../../sandbox/anthropic';
import { startCloudinarySandbox } from '../../sandbox/cloudinary';
import { startEmailSandbox } from '../../sandbox/email';
import { startFreepikSandbox } from '../../sandbox/freepik';
import { RESERVED_VIDEO_IDS, startGoogleSandbox } from '../../sandbox/google';
import { solidPng } from '../../sandbox/png';
import { startReplicateSandbox, type ReplicateSandbox } from '../../sandbox/replicate';
import { startShopSandbox, type ShopSandbox } from '../../sandbox/shop';
import { startSocialSandbox, type SocialSandbox } from '../../sandbox/social';
import { createCaller, type TestCaller } from '../api/fixtures';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { TALK_SRT } from '../integration/clips-fixtures';
import { makeTestVideo } from '../media/media-fixtures';

/** Debian's chromium package; playwright-core drives it, nothing is downloaded. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/** Screenshots of every page (gitignored), for review and the README. */
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'console');

const TALK = [
  'Batch filming saves me nine hours every single week of the year.',
  'The first step is writing down every question my audience asks in the comments.',
  'Group those questions into three clear themes before you plan a single video.',
  'Each theme becomes a short series of five videos filmed on the same afternoon.',
  'Lighting and sound stay the same for the whole batch, so editing goes twice as fast.',
  'Publishing on a fixed schedule matters more than the perfect thumbnail.',
].join(' ');

/**
 * The web console in headless Chromium against the real stack (API, Temporal, PostgreSQL, workers,
 * ffmpeg) and the provider sandboxes: one test per page, each driving the page like a person
 * would and asserting what it shows, each leaving a screenshot in test-artifacts/console/.
 */
describe('web console in headless Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let social: SocialSandbox;
  let shop: ShopSandbox;
  let replicate: ReplicateSandbox;
  let dataDir: string;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'console-e2e-'));
    const [google, anthropic, email, freepik, cloudinary] = await Promise.all([
      startGoogleSandbox({ port: 0 }),
      startAnthropicSandbox({ port: 0 }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
      startFreepikSandbox({ apiKey: SANDBOX_CREDENTIALS.freepikApiKey, stepMs: 200 }),
      startCloudinarySandbox({ ...SANDBOX_CREDENTIALS.cloudinary, port: 0 }),
    ]);
    [social, shop, replicate] = await Promise.all([
      startSocialSandbox(SANDBOX_CREDENTIALS.social),
      startShopSandbox(),
      startReplicateSandbox({ apiToken: SANDBOX_CREDENTIALS.replicateApiToken, stepMs: 40, trainingSteps: 4, predictionSteps: 2 }),
    ]);
    stops.push(...[google, anthropic, email, freepik, cloudinary, social, shop, replicate].map((s) => () => s.stop()));
    const sandboxUrls = {
      google: google.url,
      anthropic: anthropic.url,
      email: email.url,
      freepik: freepik.url,
      cloudinary: cloudinary.url,
      social: social.url,
      shop: shop.url,
      replicate: replicate.url,
    };
    [platform, browser] = await Promise.all([
      startTestPlatform({
        sandboxUrls,
        env: {
          DATA_DIR: dataDir,
          SANDBOX_URLS: JSON.stringify(sandboxUrls),
          SCRAPE_DEFAULT_DELAY_MS: '0',
          FREEPIK_POLL_INITIAL_MS: '200',
          FREEPIK_POLL_MAX_MS: '400',
          PROVIDER_POLL_INITIAL_MS: '100',
          PROVIDER_POLL_MAX_MS: '400',
          PUBLIC_BASE_URL: 'http://127.0.0.1:9',
        },
      }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    replicate.setWebhookOrigin(platform.apiUrl);
    await mkdir(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await Promise.all(stops.map((stop) => stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  /**
   * One page's test, run concurrently with the others (most of their time is spent waiting on runs):
   * `open` gives a fresh tab (its own sessionStorage) signed in with a key; the test fails on any
   * page error, and leaves a screenshot of where it ended (or failed) in test-artifacts/console/.
   */
  function consoleTest(title: string, shot: string, body: (open: (caller: TestCaller, hash: string) => Promise<Page>) => Promise<void>) {
    it.concurrent(title, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => {
        // Problem answers the page shows on purpose are logged by Chromium as failed loads.
        if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) pageErrors.push(msg.text());
      });
      try {
        await body(async (caller, hash) => {
          await page.goto(`${platform.apiUrl}/#${hash}`);
          await page.fill('#api-key', caller.key);
          await page.click('#key-form button[type=submit]');
          await page.locator('#nav').waitFor();
          return page;
        });
        expect(pageErrors).toEqual([]);
      } finally {
        await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`), fullPage: true }).catch(() => undefined);
        await context.close();
      }
    });
  }

  /** Page-side check (a string: this project compiles without the DOM types) that every image matched has loaded. */
  const imagesLoaded = (selector: string) =>
    `[...document.querySelectorAll(${JSON.stringify(selector)})].every((img) => img.complete && img.naturalWidth > 0)`;
  const runPanel = (page: Page, scope: string) => page.locator(`${scope} .run`).last();
  async function runCompletes(page: Page, scope: string, timeout = 30_000) {
    await page.locator(`${scope} .run[data-status="completed"]`).last().waitFor({ timeout });
    expect(await runPanel(page, scope).locator('progress').getAttribute('value')).toBe('100');
  }

  consoleTest('signs in with a key kept in sessionStorage; the runs page lists runs with their progress', 'runs', async (open) => {
    const caller = await createCaller(platform.database.db);
    const context = await browser.newContext();
    const wrong = await context.newPage();
    await wrong.goto(`${platform.apiUrl}/`);
    await wrong.fill('#api-key', 'cjp_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await wrong.click('#key-form button[type=submit]');
    await wrong.locator('#key-status:text("Key not accepted")').waitFor();
    expect(await wrong.locator('#nav').isHidden()).toBe(true);
    await context.close();

    const page = await open(caller, '/runs');
    expect(await page.evaluate("[sessionStorage.getItem('cjp.apiKey') !== null, localStorage.length]")).toEqual([true, 0]);
    const started = await fetch(`${platform.apiUrl}/v1/smoke`, {
      method: 'POST',
      headers: { ...caller.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'console', delayMs: 1000 }),
    }).then((r) => r.json() as Promise<{ runId: string }>);
    await page.click('text=Refresh');
    const panel = page.locator(`.run[data-run-id="${started.runId}"]`);
    await panel.waitFor();
    await page.locator(`.run[data-run-id="${started.runId}"][data-status="completed"]`).waitFor({ timeout: 15_000 });
    expect(await panel.locator('.run-stage').textContent()).toBe('done');
    expect(await panel.locator('progress').getAttribute('value')).toBe('100');
    const csp = (await page.goto(`${platform.apiUrl}/`))!.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.locator('#nav').waitFor();
  });

  consoleTest(
    'import: a problem shows at its field, Google connects, a failed run shows its reason and Retry, content renders from markdown, thumbnails show',
    'import',
    async (open) => {
      const page = await open(await createCaller(platform.database.db), '/import');
      const form = page.locator('form[data-form="import"]');
      await form.locator('input[name=url]').fill(`https://www.youtube.com/watch?v=${RESERVED_VIDEO_IDS.noCaptions}`);
      await form.locator('button[type=submit]').click();
      await form.locator('.field-error').waitFor();
      expect(await form.locator('textarea[name=transcript]').getAttribute('aria-invalid')).toBe('true');

      await page.locator('form[data-form="connect-google"] button[type=submit]').click();
      await page.locator('#flash:text("Google connected")').waitFor();
      await page.locator('.connections li[data-connection-id]').waitFor();

      await form.locator('input[name=url]').fill(`https://www.youtube.com/watch?v=${RESERVED_VIDEO_IDS.noCaptions}`);
      await form.locator('button[type=submit]').click();
      await page.locator('.run[data-status="failed"]').waitFor({ timeout: 30_000 });
      expect(await runPanel(page, '.page').locator('.run-error').textContent()).toContain('no transcript');
      expect(await runPanel(page, '.page').locator('.retry').isVisible()).toBe(true);

      await form.locator('input[name=url]').fill('https://youtu.be/CnslE2e0001');
      await form.locator('input[value=blog_post]').check();
      await form.locator('textarea[name=transcript]').fill(TALK);
      await form.locator('button[type=submit]').click();
      await runCompletes(page, '.page', 45_000);
      // Markdown rendered as HTML (the sandbox model answers with numbered and bulleted lists).
      await page.locator('article[data-content-type="summary"] .markdown ol > li').first().waitFor();
      expect(await page.locator('article[data-content-type="blog_post"] .markdown ul > li').count()).toBeGreaterThan(2);
      expect(await page.locator('article[data-content-type="summary"] .markdown').textContent()).not.toMatch(/^\s*1\. /);

      // Thumbnails of the imported video, delivered by the Cloudinary sandbox (an origin the CSP allows).
      const thumbnails = page.locator('form[data-form="thumbnails"]');
      await thumbnails.locator('input[name=topic]').fill('Batch filming');
      await thumbnails.locator('input[name=styles][value=clean_minimal]').check();
      await thumbnails.locator('button[type=submit]').click();
      await runCompletes(page, 'form[data-form="thumbnails"] ~ .run-slot', 45_000);
      const shown = '.thumbnails figure.thumbnail img';
      await page.locator(shown).first().scrollIntoViewIfNeeded();
      await page.waitForFunction(imagesLoaded(shown));
      expect(await page.locator(shown).evaluateAll((imgs: Array<{ alt: string }>) => imgs.map((img) => img.alt).sort())).toEqual([
        'Bold Contrast',
        'Clean Minimal',
      ]);
    },
  );

  consoleTest('clips: uploads a video with its SRT, makes a clip and plays it with captions', 'clips', async (open) => {
    const video = await makeTestVideo(join(dataDir, 'talk.mp4'), { seconds: 9 });
    const srt = join(dataDir, 'talk.srt');
    await writeFile(srt, TALK_SRT);
    const page = await open(await createCaller(platform.database.db), '/clips');
    const upload = page.locator('form[data-form="upload"]');
    await upload.locator('input[name=file]').setInputFiles(video);
    await upload.locator('input[name=transcript]').setInputFiles(srt);
    await upload.locator('button[type=submit]').click();
    const clips = page.locator('form[data-form="clips"]');
    await clips.waitFor({ timeout: 30_000 });
    await clips.locator('button[type=submit]').click();
    await page.locator('.clips figure.clip video').first().waitFor({ timeout: 45_000 });
    const player = page.locator('.clips figure.clip video').first();
    await page.waitForFunction("document.querySelector('.clips video').readyState >= 1");
    expect(await player.evaluate((video: { duration: number }) => video.duration)).toBeGreaterThan(3);
    expect(await player.locator('track[kind=captions]').count()).toBe(1);
  });

  consoleTest(
    'posts: connects an account, saves posting slots, schedules into the next slot and shows it on the week calendar',
    'posts',
    async (open) => {
      const page = await open(await createCaller(platform.database.db), '/posts');
      const issued = social.issueAccount('x', undefined, 'console_e2e');
      const connect = page.locator('form[data-form="connect-account"]');
      await connect.locator('select[name=platform]').selectOption('x');
      await connect.locator('input[name=accessToken]').fill(issued.accessToken);
      await connect.locator('input[name=refreshToken]').fill(issued.refreshToken);
      await connect.locator('input[name=platformUserId]').fill(issued.platformUserId);
      await connect.locator('input[name=username]').fill('console_e2e');
      await connect.locator('button[type=submit]').click();
      await page.locator('.accounts li:text("console_e2e")').waitFor();

      const slots = page.locator('form[data-form="posting-schedule"]');
      await slots.locator('input[name=timezone]').fill('UTC');
      for (const day of ['sat', 'sun']) await slots.locator(`input[name=days][value=${day}]`).check();
      await slots.locator('input[name=times]').fill('09:00, 13:00, 17:00, 21:00');
      await slots.locator('button[type=submit]').click();
      await page.locator('.calendar .slot').first().waitFor();
      // Opened again, the page reads the slots from GET /v1/posting-schedule.
      await page.reload();
      await page.locator('.calendar .slot:text("slot 21:00")').first().waitFor();

      const post = page.locator('form[data-form="post"]');
      await post.locator('textarea[name=caption]').fill('Console launch day');
      await post.locator('textarea[name=mediaUrls]').fill('https://cdn.example.com/launch.png');
      await post.locator('input[name=when][value=next]').check();
      await post.locator('button[type=submit]').click();
      const onCalendar = page.locator('.calendar .post:has-text("Console launch day")');
      await onCalendar.waitFor();
      expect(await onCalendar.getAttribute('data-status')).toBe('scheduled');
    },
  );

  consoleTest('sselfie: trains a model from uploaded selfies, then generates photos shown as images', 'sselfie', async (open) => {
    const caller = await createCaller(platform.database.db);
    await applyCreditTransaction(platform.database.db, {
      userId: caller.userId,
      amount: 40,
      type: 'purchase',
      idempotencyKey: `e2e:${caller.userId}`,
    });
    const selfies = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const file = join(dataDir, `selfie-${i}.png`);
        await writeFile(file, solidPng(32, 32, [i * 20, 120, 60]));
        return file;
      }),
    );
    const page = await open(caller, '/sselfie');
    const train = page.locator('form[data-form="train"]');
    await train.locator('input[name=images]').setInputFiles(selfies);
    await train.locator('button[type=submit]').click();
    await runCompletes(page, 'form[data-form="train"] ~ .run-slot');
    await page.locator('.models li[data-status="completed"]').waitFor();

    const generate = page.locator('form[data-form="generate"]');
    await generate.locator('input[name=prompt]').fill('on a rooftop at sunset');
    await generate.locator('button[type=submit]').click();
    await runCompletes(page, 'form[data-form="generate"] ~ .run-slot');
    const photo = page.locator('.gallery figure.photo img').first();
    await photo.waitFor();
    await page.waitForFunction(imagesLoaded('.gallery img'));
    expect(await page.locator('.gallery figure.photo img').count()).toBe(2);
  });

  consoleTest('products: scrapes a product page with its images, makes a product video and plays it', 'products', async (open) => {
    const caller = await createCaller(platform.database.db, { plan: 'basic' });
    await applyCreditTransaction(platform.database.db, {
      userId: caller.userId,
      amount: 20,
      type: 'purchase',
      idempotencyKey: `e2e:${caller.userId}`,
    });
    const page = await open(caller, '/products');
    const scrape = page.locator('form[data-form="scrape"]');
    await scrape.locator('input[name=url]').fill(`${shop.url}/products/aurora-desk-lamp`);
    await scrape.locator('button[type=submit]').click();
    await page.locator('article.product h3:text("Aurora Desk Lamp")').waitFor({ timeout: 30_000 });
    await page.waitForFunction(imagesLoaded('article.product img'));
    const make = page.locator('form[data-form="product-video"]');
    await make.locator('input[name=caption]').fill('Summer sale');
    await make.locator('button[type=submit]').click();
    const player = page.locator('figure.product-video video');
    await player.waitFor({ timeout: 45_000 });
    await page.waitForFunction("document.querySelector('figure.product-video video').readyState >= 1");
    expect(await player.evaluate((video: { duration: number }) => Math.round(video.duration))).toBe(5);
  });

  consoleTest('content plans: writes a month and lists its posts, each in a posting slot', 'content-plans', async (open) => {
    const caller = await createCaller(platform.database.db, { plan: 'basic' });
    const issued = social.issueAccount('x', undefined, 'glow_e2e');
    const h = { ...caller.auth, 'content-type': 'application/json' };
    await fetch(`${platform.apiUrl}/v1/social-accounts`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({
        platform: 'x',
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        platformUserId: issued.platformUserId,
      }),
    });
    await fetch(`${platform.apiUrl}/v1/posting-schedule`, {
      method: 'PUT',
      headers: h,
      body: JSON.stringify({ timezone: 'UTC', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], times: ['09:00', '17:00'] }),
    });
    const page = await open(caller, '/content-plans');
    const pillars = page.locator('form[data-form="pillars"]');
    await pillars
      .locator('textarea[name=pillars]')
      .fill('Skin care tips — Simple routines that keep skin healthy through the winter months.');
    await pillars.locator('button[type=submit]').click();
    await page.locator('#flash:text("Saved 1 pillar")').waitFor();
    await page.locator('form[data-form="content-plan"] button[type=submit]').click();
    await runCompletes(page, '.page', 60_000);
    await page.locator('table.plan tbody tr').first().waitFor();
    expect(await page.locator('table.plan tbody tr').count()).toBe(12);
    expect(await page.locator('.plan-summary').textContent()).toContain('12 of 12 posts written');
  });

  consoleTest('credits: shows the balance, the ledger and AI spend as charts', 'credits', async (open) => {
    const caller = await createCaller(platform.database.db, { plan: 'basic' });
    await applyCreditTransaction(platform.database.db, {
      userId: caller.userId,
      amount: 50,
      type: 'purchase',
      idempotencyKey: `e2e:${caller.userId}`,
    });
    await applyCreditTransaction(platform.database.db, {
      userId: caller.userId,
      amount: -15,
      type: 'usage',
      idempotencyKey: `e2e-use:${caller.userId}`,
    });
    const page = await open(caller, '/credits');
    await page.locator('.balance .big').waitFor();
    expect(await page.locator('.balance .big').textContent()).toBe('35');
    expect(await page.locator('table.ledger tbody tr').count()).toBe(2);
    expect(await page.locator('svg.chart').count()).toBe(2);
    expect(await page.locator('svg.chart[aria-label="AI spend against the caps"] .chart-value').first().textContent()).toMatch(/^0 \/ \d+/);
  });

  consoleTest('affiliates: joins the program, then shows the referral link, its clicks and earnings', 'affiliates', async (open) => {
    const page = await open(await createCaller(platform.database.db), '/affiliates');
    await page.locator('form[data-form="affiliate"] button[type=submit]').click();
    const link = page.locator('a.referral-url');
    await link.waitFor();
    const referral = await link.getAttribute('href');
    await fetch(`${platform.apiUrl}${referral}`, { redirect: 'manual' });
    await page.reload();
    await page.locator('dd.clicks:text("1")').waitFor();
    expect(await page.locator('svg.chart .chart-value').allTextContents()).toHaveLength(4);
  });
});
