import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiKey } from '../../db/repositories/api-keys';
import { applyCreditTransaction } from '../../db/repositories/credits';
import { createUser } from '../../db/repositories/users';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import { startFreepikSandbox, type FreepikSandbox } from '../../sandbox/freepik';
import { USER_SCOPES } from '../../schemas/api-keys';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

/**
 * kill -9 the worker process while the product video waits on Freepik's image task (between two
 * polls): the replacement worker replays the run and carries on polling the same task, so no
 * second Freepik task is created and the credits are taken once.
 */
describe('a product video survives a worker killed mid-poll', () => {
  let platform: TestPlatform;
  let freepik: FreepikSandbox;
  let email: EmailSandbox;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'product-video-crash-'));
    [freepik, email] = await Promise.all([
      // Slow enough that the image task is still running when the worker dies.
      startFreepikSandbox({ apiKey: SANDBOX_CREDENTIALS.freepikApiKey, stepMs: 2_500 }),
      startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey }),
    ]);
    platform = await startTestPlatform({
      workers: 'later',
      sandboxUrls: { freepik: freepik.url, email: email.url },
      env: { DATA_DIR: dataDir, SCRAPE_DEFAULT_DELAY_MS: '0', FREEPIK_POLL_INITIAL_MS: '300', FREEPIK_POLL_MAX_MS: '600' },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await Promise.all([freepik?.stop(), email?.stop()]);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates each Freepik task once and charges once after kill -9 between polls', async () => {
    const { db } = platform.database;
    const first = await platform.spawnWorkerProcess();
    const user = await createUser(db, { email: `video-crash-${randomUUID()}@example.test`, plan: 'basic' });
    const { plaintext } = await createApiKey(db, { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    await applyCreditTransaction(db, { userId: user.id, amount: 50, type: 'purchase', idempotencyKey: `pack:${user.id}` });
    // A product scraped earlier (the scrape itself is covered by products.test.ts).
    const product = await db
      .insertInto('product_data')
      .values({
        user_id: user.id,
        original_url: 'https://shop.example/lamp',
        domain: 'shop.example',
        name: 'Aurora Desk Lamp',
        scraping_status: 'Success',
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const started = await api(
      platform.apiUrl,
      'POST',
      `/v1/products/${product.id}/videos`,
      { durationSeconds: 5, aspectRatio: '16:9' },
      { authorization: `Bearer ${plaintext}` },
    );
    expect(started.status).toBe(202);
    const imagePolls = () => freepik.server.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/ai/text-to-image/'));
    await eventually(
      async () => imagePolls().length,
      (n) => n >= 1,
      'a poll of the image task',
      60_000,
    );
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    expect(freepik.tasks.map((t) => t.kind)).toEqual(['image']);

    await platform.startWorkers();
    const result: unknown = await platform.client.workflow.getHandle(started.json.runId as string).result();
    expect(result).toMatchObject({ videoId: started.json.videoId, creditsCharged: 10 });
    expect(freepik.tasks.map((t) => t.kind)).toEqual(['image', 'video']);
    const row = await db
      .selectFrom('product_videos')
      .selectAll()
      .where('id', '=', started.json.videoId as string)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'Completed', freepik_image_task_id: freepik.tasks[0]!.id, freepik_task_id: freepik.tasks[1]!.id });
    const ledger = await db
      .selectFrom('credit_transactions')
      .select(['amount', 'transaction_type'])
      .where('user_id', '=', user.id)
      .orderBy('created_at')
      .execute();
    expect(ledger).toEqual([
      { amount: 50, transaction_type: 'purchase' },
      { amount: -10, transaction_type: 'usage' },
    ]);
  });
});
