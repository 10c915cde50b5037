import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { applyCreditTransaction } from '../../db/repositories/credits';
import { ADMIN_SCOPES } from '../../schemas/api-keys';
import { startReplicateSandbox, type ReplicateSandbox } from '../../sandbox/replicate';
import { solidPng } from '../../sandbox/png';
import { FailureType } from '../../schemas/failures';
import { TRAINING_CREDIT_COST } from '../../schemas/sselfie';
import { createCaller, type TestCaller } from '../api/fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { failureOf } from '../helpers/workflow-tests';

/**
 * SSELFIE end to end on the Replicate sandbox (real SDK, real Temporal and PostgreSQL): selfies →
 * training → active model → images, once with signed webhooks and once with webhooks dropped
 * (polling finishes the jobs); a cancel mid-training; credits reserved, committed, refunded once.
 */
describe('SSELFIE model training and image generation (Replicate sandbox)', () => {
  let replicate: ReplicateSandbox;
  let platform: TestPlatform;
  let admin: TestCaller;
  let dataDir: string;
  /** Serves selfies for the JSON `imageUrls` path; allowlisted like a sandbox, every other private address stays refused. */
  let selfieHost: Server;
  let selfiesUrl: string;
  const selfieFetches: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sselfie-'));
    selfieHost = createServer((req, res) => {
      selfieFetches.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'image/png' }).end(solidPng(24, 24, [selfieFetches.length * 20, 120, 60]));
    });
    await new Promise<void>((resolve) => selfieHost.listen(0, '127.0.0.1', resolve));
    selfiesUrl = `http://127.0.0.1:${(selfieHost.address() as AddressInfo).port}`;
    replicate = await startReplicateSandbox({ apiToken: 'r8_sandbox-replicate-token', stepMs: 40, trainingSteps: 5, predictionSteps: 2 });
    const sandboxUrls = { replicate: replicate.url };
    platform = await startTestPlatform({
      sandboxUrls,
      env: {
        DATA_DIR: dataDir,
        SANDBOX_URLS: JSON.stringify(sandboxUrls),
        SSRF_ALLOWED_HOSTS: new URL(selfiesUrl).host,
        PROVIDER_POLL_INITIAL_MS: '100',
        PROVIDER_POLL_MAX_MS: '400',
        // The API's port is known once it listens: the sandbox sends webhooks there.
        PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      },
    });
    replicate.setWebhookOrigin(platform.apiUrl);
    admin = await createCaller(platform.database.db, { role: 'admin', scopes: ADMIN_SCOPES });
  });
  afterAll(async () => {
    await platform?.stop();
    await replicate?.stop();
    await new Promise<void>((resolve) => (selfieHost ? selfieHost.close(() => resolve()) : resolve()));
    await rm(dataDir, { recursive: true, force: true });
  });
  beforeEach(() => replicate.dropWebhooks(false));

  const db = () => platform.database.db;
  const balance = async (userId: string) =>
    (await db().selectFrom('user_credits').select('balance').where('user_id', '=', userId).executeTakeFirst())?.balance ?? 0;
  const ledger = (userId: string) =>
    db()
      .selectFrom('credit_transactions')
      .select(['amount', 'transaction_type'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();

  async function userWithCredits(amount: number): Promise<TestCaller> {
    const user = await createCaller(db());
    const grant = await api(
      platform.apiUrl,
      'POST',
      `/v1/admin/users/${user.userId}/credits`,
      { amount, reason: 'test credits' },
      {
        ...admin.auth,
        'idempotency-key': `grant-${user.userId}`,
      },
    );
    expect(grant.status).toBe(201);
    return user;
  }

  function selfieForm(count: number, type = 'image/png'): FormData {
    const form = new FormData();
    for (let i = 0; i < count; i++)
      form.append('images', new Blob([new Uint8Array(solidPng(32, 32, [i * 10, 80, 160]))], { type }), `selfie-${i}.png`);
    return form;
  }

  async function train(user: TestCaller) {
    const res = await fetch(`${platform.apiUrl}/v1/models`, { method: 'POST', headers: user.auth, body: selfieForm(10) });
    const body = (await res.json()) as { modelId: string; runId: string };
    expect(res.status).toBe(202);
    return body;
  }

  const model = async (user: TestCaller, modelId: string) =>
    (await api(platform.apiUrl, 'GET', `/v1/models/${modelId}`, undefined, user.auth)).json;

  async function trainThenGenerate(user: TestCaller) {
    const { modelId, runId } = await train(user);
    expect(runId).toBe(`model-training:${modelId}`);
    await platform.client.workflow.getHandle(runId).result();
    expect(await model(user, modelId)).toMatchObject({ status: 'completed', progress: 100, isActive: true, imageCount: 10 });

    const started = await api(
      platform.apiUrl,
      'POST',
      '/v1/images',
      { prompt: 'on a rooftop at sunset', style: 'editorial', count: 2 },
      user.auth,
    );
    expect(started.status).toBe(202);
    const { generationId, runId: generationRun } = started.json as { generationId: string; runId: string };
    expect(await platform.client.workflow.getHandle(generationRun).result()).toEqual({ generationId, delivered: 2, failed: 0 });
    const images = (await api(platform.apiUrl, 'GET', '/v1/images', undefined, user.auth)).json as { data: Array<Record<string, unknown>> };
    expect(images.data).toHaveLength(2);
    for (const image of images.data)
      expect(image).toMatchObject({ generationId, status: 'completed', prompt: 'on a rooftop at sunset', style: 'editorial' });
    expect(new Set(images.data.map((i) => i.seed)).size).toBe(2);
    return { modelId, generationId };
  }

  it('trains from 10 selfies and generates 2 images, with webhooks: 20 + 2 credits spent, one provider job per item', async () => {
    const user = await userWithCredits(30);
    const { modelId } = await trainThenGenerate(user);
    expect(await balance(user.userId)).toBe(30 - TRAINING_CREDIT_COST - 2);
    const jobs = await db().selectFrom('provider_jobs').select(['kind', 'status']).where('workflow_id', 'like', `%`).execute();
    expect(jobs.filter((j) => j.kind === 'training')).toContainEqual({ kind: 'training', status: 'succeeded' });
    // Webhooks were delivered and answered by our route (Standard Webhooks signature checked).
    const training = await db().selectFrom('training_runs').select('training_id').where('id', '=', modelId).executeTakeFirstOrThrow();
    expect(replicate.webhooks.filter((w) => w.jobId === training.training_id && w.responseStatus === 200).length).toBeGreaterThan(0);
    expect((await ledger(user.userId)).map((t) => t.transaction_type)).toEqual(['bonus', 'usage', 'usage', 'usage']);
  });

  it('finishes training and generation by polling when every webhook is dropped', async () => {
    replicate.dropWebhooks(true);
    const user = await userWithCredits(30);
    const before = replicate.webhooks.length;
    await trainThenGenerate(user);
    expect(replicate.webhooks.slice(before).every((w) => w.dropped)).toBe(true);
    expect(await balance(user.userId)).toBe(30 - TRAINING_CREDIT_COST - 2);
  });

  it('a cancel mid-training cancels the Replicate training and refunds the credits once', async () => {
    const user = await userWithCredits(25);
    replicate.stallNext('training');
    const { modelId, runId } = await train(user);
    await eventually(
      () => model(user, modelId),
      (m: any) => m.status === 'training' && m.progress > 0,
      'training started',
    );
    expect((await api(platform.apiUrl, 'POST', `/v1/models/${modelId}/cancel`, undefined, user.auth)).status).toBe(202);
    await expect(platform.client.workflow.getHandle(runId).result()).rejects.toThrow();
    expect(await model(user, modelId)).toMatchObject({ status: 'canceled', isActive: false });
    const training = await db().selectFrom('training_runs').select('training_id').where('id', '=', modelId).executeTakeFirstOrThrow();
    expect(replicate.jobs.get(training.training_id!)?.status).toBe('canceled');
    expect(await balance(user.userId)).toBe(25);
    expect((await ledger(user.userId)).map((t) => t.transaction_type)).toEqual(['bonus', 'reservation', 'refund']);
  });

  it('a training the provider fails is refunded once and keeps the reason; the previous model stays active', async () => {
    const user = await userWithCredits(60);
    const first = await train(user);
    await platform.client.workflow.getHandle(first.runId).result();
    replicate.failNext('training', 'CUDA out of memory');
    const second = await train(user);
    await expect(platform.client.workflow.getHandle(second.runId).result()).rejects.toThrow();
    expect(await model(user, second.modelId)).toMatchObject({
      status: 'failed',
      failureReason: expect.stringContaining('CUDA out of memory'),
    });
    expect(await model(user, first.modelId)).toMatchObject({ isActive: true });
    expect(await balance(user.userId)).toBe(60 - TRAINING_CREDIT_COST);
    expect((await ledger(user.userId)).filter((t) => t.transaction_type === 'refund')).toHaveLength(1);
  });

  it('a training Replicate forgets (404 on poll) fails ProviderJobLost and is refunded once', async () => {
    const user = await userWithCredits(25);
    replicate.stallNext('training');
    const { modelId, runId } = await train(user);
    const { training_id: trainingId } = await eventually(
      () => db().selectFrom('training_runs').select('training_id').where('id', '=', modelId).executeTakeFirstOrThrow(),
      (row) => row.training_id !== null,
      'training submitted',
    );
    replicate.forget(trainingId!);
    expect(await failureOf(platform.client.workflow.getHandle(runId).result())).toMatchObject({ type: FailureType.ProviderJobLost });
    expect(await model(user, modelId)).toMatchObject({ status: 'failed', isActive: false, failureReason: expect.stringContaining('lost') });
    expect(await balance(user.userId)).toBe(25);
    expect((await ledger(user.userId)).map((t) => t.transaction_type)).toEqual(['bonus', 'reservation', 'refund']);
  });

  it('trains from JSON imageUrls fetched through the SSRF guard', async () => {
    const user = await userWithCredits(TRAINING_CREDIT_COST);
    const imageUrls = Array.from({ length: 10 }, (_, i) => `${selfiesUrl}/selfies/${i}.png`);
    const started = await api(platform.apiUrl, 'POST', '/v1/models', { name: 'From links', imageUrls }, user.auth);
    expect(started.status).toBe(202);
    const { modelId, runId } = started.json as { modelId: string; runId: string };
    await platform.client.workflow.getHandle(runId).result();
    expect(await model(user, modelId)).toMatchObject({ name: 'From links', status: 'completed', isActive: true, imageCount: 10 });
    expect(selfieFetches.filter((path) => path.startsWith('/selfies/')).sort()).toEqual(imageUrls.map((u) => new URL(u).pathname).sort());
    expect(await balance(user.userId)).toBe(0);
  });

  it('refuses a private-address image URL with 422 naming imageUrls[i], before anything is stored or charged', async () => {
    const user = await userWithCredits(TRAINING_CREDIT_COST);
    const imageUrls = Array.from({ length: 10 }, (_, i) => `${selfiesUrl}/private-test/${i}.png`);
    imageUrls[3] = 'https://169.254.169.254/latest/meta-data/selfie.png';
    const refused = await api(platform.apiUrl, 'POST', '/v1/models', { imageUrls }, user.auth);
    expect(refused.status).toBe(422);
    expect(refused.json).toMatchObject({ errors: [{ field: 'imageUrls[3]' }] });
    expect(await db().selectFrom('training_runs').select('id').where('user_id', '=', user.userId).execute()).toEqual([]);
    expect(await balance(user.userId)).toBe(TRAINING_CREDIT_COST);
  });

  it('refuses bad input before anything starts: image count/type 422 naming the field, no model 409, credits 402', async () => {
    const poor = await userWithCredits(5);
    const rich = await userWithCredits(100);
    const few = await fetch(`${platform.apiUrl}/v1/models`, { method: 'POST', headers: rich.auth, body: selfieForm(3) });
    expect(few.status).toBe(422);
    expect(await few.json()).toMatchObject({ errors: [{ field: 'images' }] });
    const gif = await fetch(`${platform.apiUrl}/v1/models`, { method: 'POST', headers: rich.auth, body: selfieForm(10, 'image/gif') });
    expect(gif.status).toBe(422);
    expect(await gif.json()).toMatchObject({ errors: [{ field: 'images[0]' }] });
    const broke = await fetch(`${platform.apiUrl}/v1/models`, { method: 'POST', headers: poor.auth, body: selfieForm(10) });
    expect(broke.status).toBe(402);
    expect((await api(platform.apiUrl, 'POST', '/v1/images', { prompt: 'hello' }, rich.auth)).status).toBe(409);
    const tooMany = await api(platform.apiUrl, 'POST', '/v1/images', { prompt: 'hello', count: 5 }, rich.auth);
    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toMatchObject({ errors: [{ field: 'count' }] });
    expect(await db().selectFrom('training_runs').select('id').where('user_id', 'in', [poor.userId, rich.userId]).execute()).toEqual([]);
  });

  describe('POST /v1/webhooks/replicate (Standard Webhooks)', () => {
    // Only the webhooks a test sends itself reach the route.
    beforeEach(() => replicate.dropWebhooks(true));

    const signed = (
      body: object,
      { id = `msg_${Math.random().toString(36).slice(2)}`, at = new Date(), secret = replicate.webhookSecret } = {},
    ) => {
      const payload = JSON.stringify(body);
      return {
        payload,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': new Webhook(secret).sign(id, at, payload),
        },
      };
    };
    const post = async ({ payload, headers }: { payload: string; headers: Record<string, string> }) => {
      const res = await fetch(`${platform.apiUrl}/v1/webhooks/replicate`, { method: 'POST', headers, body: payload });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const deliveries = () => platform.database.db.selectFrom('provider_webhook_deliveries').selectAll().execute();

    it('refuses a bad signature and a stale timestamp with 400 and records nothing', async () => {
      const body = { id: 'p-unknown', status: 'succeeded' };
      const forged = await post(signed(body, { secret: `whsec_${Buffer.from('not the secret at all!!').toString('base64')}` }));
      expect(forged.status).toBe(400);
      expect(forged.json).toMatchObject({ status: 400, detail: expect.stringContaining('signature') });
      const stale = await post(signed(body, { at: new Date(Date.now() - 10 * 60_000) }));
      expect(stale.status).toBe(400);
      expect((await deliveries()).filter((d) => d.provider_job_id === 'p-unknown')).toEqual([]);
    });

    it('acknowledges a job no run waits for with 202 and signals nothing', async () => {
      expect(await post(signed({ id: 'never-created', status: 'processing', logs: '10%' }))).toEqual({
        status: 202,
        json: { received: true, outcome: 'ignored' },
      });
    });

    it('delivers a webhook to its run once: a redelivery of the same webhook-id is a duplicate', async () => {
      const user = await createCaller(platform.database.db);
      await applyCreditTransaction(platform.database.db, {
        userId: user.userId,
        amount: 20,
        type: 'purchase',
        idempotencyKey: `seed:${user.userId}`,
      });
      replicate.stallNext('training');
      const form = new FormData();
      for (let i = 0; i < 10; i++)
        form.append('images', new Blob([new Uint8Array(solidPng(8, 8, [i, i, i]))], { type: 'image/png' }), `${i}.png`);
      const { runId, modelId } = (await (
        await fetch(`${platform.apiUrl}/v1/models`, { method: 'POST', headers: user.auth, body: form })
      ).json()) as {
        runId: string;
        modelId: string;
      };
      const row = await eventually(
        () => platform.database.db.selectFrom('training_runs').select('training_id').where('id', '=', modelId).executeTakeFirstOrThrow(),
        (r) => r.training_id !== null,
        'training submitted',
      );
      const handle = platform.client.workflow.getHandle(runId);
      const signals = async () => (await handle.fetchHistory()).events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
      const delivery = signed({
        id: row.training_id,
        status: 'processing',
        logs: 'flux_train: 42%|',
        started_at: new Date().toISOString(),
      });
      expect(await post(delivery)).toEqual({ status: 200, json: { received: true, outcome: 'delivered' } });
      expect(await post(delivery)).toEqual({ status: 200, json: { received: true, outcome: 'duplicate' } });
      expect(await signals()).toBe(1);
      await eventually(
        () =>
          platform.database.db.selectFrom('training_runs').select('training_progress').where('id', '=', modelId).executeTakeFirstOrThrow(),
        (r) => r.training_progress === 42,
        'progress recorded from the webhook',
      );
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
    });
  });
});
