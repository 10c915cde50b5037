import { chromium, type Browser } from 'playwright-core';
import { createCaller, type TestCaller } from '../api/fixtures';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';

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

describe('web console in headless Chromium', () => {
  let platform: TestPlatform;
  let browser: Browser;
  let caller: TestCaller;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startTestPlatform(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    caller = await createCaller(platform.database.db);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('takes an API key, starts a smoke run from the generated form and shows its progress bar reach done', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    await page.goto(`${platform.apiUrl}/`);

    await page.fill('#api-key', 'cjp_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro');
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#key-status.error');
    pageErrors.length = 0; // the 401 of the wrong key is logged by the browser on purpose

    await page.fill('#api-key', caller.key);
    await page.click('#key-form button[type=submit]');
    const form = page.locator('form[data-path="/v1/smoke"]');
    await form.waitFor();
    await form.locator('input[name=name]').fill('console');
    await form.locator('input[name=delayMs]').fill('2000');
    await form.locator('button[type=submit]').click();

    const row = page.locator('tr[data-run-id^="smoke:"]');
    await row.waitFor();
    await page.waitForSelector('tr[data-run-id^="smoke:"][data-status="running"][data-progress="10"]', { timeout: 10_000 });
    await page.waitForSelector('tr[data-run-id^="smoke:"][data-status="completed"]', { timeout: 30_000 });
    expect(await row.locator('progress').getAttribute('value')).toBe('100');
    expect(await row.locator('.stage').textContent()).toBe('done');

    const runId = await row.getAttribute('data-run-id');
    const dbRow = await platform.database.db
      .selectFrom('job_runs')
      .select(['user_id', 'status'])
      .where('id', '=', runId!)
      .executeTakeFirstOrThrow();
    expect(dbRow).toEqual({ user_id: caller.userId, status: 'completed' });
    // The key stays in this browser only; a reload picks it up and lists the run again.
    await page.reload();
    await page.waitForSelector(`tr[data-run-id="${runId}"][data-status="completed"]`);
    expect(pageErrors).toEqual([]);
  });
});
