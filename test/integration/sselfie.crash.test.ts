import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyCreditTransaction } from '../../db/repositories/credits';
import { startReplicateSandbox, type ReplicateSandbox } from '../../sandbox/replicate';
import { solidPng } from '../../sandbox/png';
import { IMAGE_CREDIT_COST, TRAINING_CREDIT_COST } from '../../schemas/sselfie';
import { createCaller, type TestCaller } from '../api/fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

/**
 * kill -9 the worker process while a model training and an image generation wait on Replicate:
 * the replacement worker replays both runs and carries on waiting for the same jobs, so each
 * training and prediction is created once at Replicate and the credits are reserved and
 * committed once.
 */
describe('SSELFIE runs survive a worker killed while they wait on Replicate', () => {
  let replicate: ReplicateSandbox;
  let platform: TestPlatform;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sselfie-crash-'));
    // Slow enough that both jobs are still processing when the worker dies (a training 3 s, a prediction 1.2 s).
    replicate = await startReplicateSandbox({
      apiToken: 'r8_sandbox-replicate-token',
      stepMs: 100,
      trainingSteps: 30,
      predictionSteps: 12,
    });
    const sandboxUrls = { replicate: replicate.url };
    platform = await startTestPlatform({
      workers: 'later',
      sandboxUrls,
      env: {
        // The API stores the selfies and the worker process zips them: one media store for both.
        DATA_DIR: dataDir,
        SANDBOX_URLS: JSON.stringify(sandboxUrls),
        PROVIDER_POLL_INITIAL_MS: '200',
        PROVIDER_POLL_MAX_MS: '800',
        // The API's port is known once it listens: the sandbox sends webhooks there.
        PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      },
    });
    replicate.setWebhookOrigin(platform.apiUrl);
  });
  afterAll(async () => {
    await platform?.stop();
    await replicate?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const db = () => platform.database.db;

  async function userWithCredits(amount: number): Promise<TestCaller> {
    const user = await createCaller(db());
    await applyCreditTransaction(db(), { userId: user.userId, amount, type: 'purchase', idempotencyKey: `pack:${user.userId}` });
    return user;
  }

  async function train(user: TestCaller): Promise<{ modelId: string; runId: string }> {
    const form = new FormData();
    for (let i = 0; i < 10; i++)
      form.append('images', new Blob([new Uint8Array(solidPng(16, 16, [i * 20, 90, 200]))], { type: 'image/png' }), `${i}.png`);
    const res = await fetch(`${platform.apiUrl}/v1/models`, { method: 'POST', headers: user.auth, body: form });
    expect(res.status).toBe(202);
    return (await res.json()) as { modelId: string; runId: string };
  }

  const ledger = (userId: string) =>
    db()
      .selectFrom('credit_transactions')
      .select(['amount', 'transaction_type'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  const requests = (method: string, path: RegExp) => replicate.server.requests.filter((r) => r.method === method && path.test(r.path));
  const sandboxJobs = () => [...replicate.jobs.values()];

  it('creates one training and one prediction per image, and charges once, after kill -9 mid-wait', async () => {
    const first = await platform.spawnWorkerProcess();
    // Images need an active model: this user's is trained before the crash.
    const painter = await userWithCredits(30);
    const trained = await train(painter);
    await platform.client.workflow.getHandle(trained.runId).result();

    const trainee = await userWithCredits(40);
    const training = await train(trainee);
    const trainingJob = await eventually(
      () => db().selectFrom('training_runs').select('training_id').where('id', '=', training.modelId).executeTakeFirstOrThrow(),
      (row) => row.training_id !== null && replicate.jobs.get(row.training_id)?.status === 'processing',
      'the training processing at Replicate',
    );
    // The generation starts once the training is processing: both wait on Replicate when the worker dies.
    const generation = await api(platform.apiUrl, 'POST', '/v1/images', { prompt: 'in a library', count: 2 }, painter.auth);
    expect(generation.status).toBe(202);
    const generationRun = generation.json.runId as string;

    await eventually(
      async () => sandboxJobs().filter((j) => j.kind === 'prediction' && j.status === 'processing').length,
      (processing) => processing === 2,
      'both predictions processing at Replicate',
    );
    killGroup(first, 'SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    // Neither run could finish: both jobs were still processing when the only worker died.
    for (const runId of [training.runId, generationRun])
      expect((await platform.client.workflow.getHandle(runId).describe()).status.name).toBe('RUNNING');

    await platform.startWorkers();
    await platform.client.workflow.getHandle(training.runId).result();
    expect(await platform.client.workflow.getHandle(generationRun).result()).toMatchObject({ delivered: 2, failed: 0 });

    // One upload and one training per model, one prediction per image: nothing was submitted again.
    expect(requests('POST', /^\/v1\/models\/[^/]+\/[^/]+\/versions\/[^/]+\/trainings$/)).toHaveLength(2);
    expect(requests('POST', /^\/v1\/files$/)).toHaveLength(2);
    expect(sandboxJobs().filter((j) => j.kind === 'training' && j.destination?.endsWith(training.modelId))).toEqual([
      expect.objectContaining({ id: trainingJob.training_id, status: 'succeeded' }),
    ]);
    expect(requests('POST', /^\/v1\/predictions$/)).toHaveLength(2);
    const images = await db()
      .selectFrom('ai_images')
      .select(['prediction_id', 'generation_status'])
      .where('generation_id', '=', generation.json.generationId as string)
      .execute();
    expect(images.map((i) => i.generation_status)).toEqual(['completed', 'completed']);
    expect(new Set(images.map((i) => i.prediction_id))).toEqual(
      new Set(
        sandboxJobs()
          .filter((j) => j.kind === 'prediction')
          .map((j) => j.id),
      ),
    );

    expect((await api(platform.apiUrl, 'GET', `/v1/models/${training.modelId}`, undefined, trainee.auth)).json).toMatchObject({
      status: 'completed',
      isActive: true,
    });
    // A reservation row becomes a usage row when committed: one row per paid item, no refunds.
    expect(await ledger(trainee.userId)).toEqual([
      { amount: 40, transaction_type: 'purchase' },
      { amount: -TRAINING_CREDIT_COST, transaction_type: 'usage' },
    ]);
    expect(await ledger(painter.userId)).toEqual([
      { amount: 30, transaction_type: 'purchase' },
      { amount: -TRAINING_CREDIT_COST, transaction_type: 'usage' },
      { amount: -IMAGE_CREDIT_COST, transaction_type: 'usage' },
      { amount: -IMAGE_CREDIT_COST, transaction_type: 'usage' },
    ]);
  });
});
