import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ADMIN_SCOPES } from '../../schemas/api-keys';
import { ANIMATION_CREDIT_COST, PHOTOSHOOT_GRID_CREDIT_COST } from '../../schemas/sselfie-photoshoots';
import { TRAINING_CREDIT_COST } from '../../schemas/sselfie';
import { startReplicateSandbox, type ReplicateSandbox } from '../../sandbox/replicate';
import { solidPng } from '../../sandbox/png';
import { createCaller, type TestCaller } from '../api/fixtures';
import { eventually } from '../helpers/eventually';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * SSELFIE pro photoshoots and animations end to end on the Replicate sandbox (real SDK, real
 * Temporal, PostgreSQL and ffmpeg): a photoshoot fans out one child run per grid, each 3×3 contact
 * sheet is cut into 9 stored frames; a grid the provider fails is refunded alone; an image becomes
 * a stored mp4. Credits are reserved, committed and refunded once.
 */
describe('SSELFIE pro photoshoots and animations (Replicate sandbox)', () => {
  let replicate: ReplicateSandbox;
  let platform: TestPlatform;
  let admin: TestCaller;

  beforeAll(async () => {
    replicate = await startReplicateSandbox({ apiToken: 'r8_sandbox-replicate-token', stepMs: 40, trainingSteps: 3, predictionSteps: 2 });
    const sandboxUrls = { replicate: replicate.url };
    platform = await startTestPlatform({
      sandboxUrls,
      env: {
        SANDBOX_URLS: JSON.stringify(sandboxUrls),
        PROVIDER_POLL_INITIAL_MS: '100',
        PROVIDER_POLL_MAX_MS: '400',
        PUBLIC_BASE_URL: 'http://127.0.0.1:9',
      },
    });
    replicate.setWebhookOrigin(platform.apiUrl);
    admin = await createCaller(platform.database.db, { role: 'admin', scopes: ADMIN_SCOPES });
  });
  afterAll(async () => {
    await platform?.stop();
    await replicate?.stop();
  });
  beforeEach(() => replicate.dropWebhooks(false));

  const db = () => platform.database.db;
  const balance = async (userId: string) =>
    (await db().selectFrom('user_credits').select('balance').where('user_id', '=', userId).executeTakeFirst())?.balance ?? 0;
  const ledgerTypes = async (userId: string) =>
    (
      await db()
        .selectFrom('credit_transactions')
        .select('transaction_type')
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .orderBy('id')
        .execute()
    ).map((t) => t.transaction_type);
  const storedFile = (url: string) => existsSync(fileURLToPath(url));

  async function userWithCredits(amount: number): Promise<TestCaller> {
    const user = await createCaller(db());
    const grant = await api(
      platform.apiUrl,
      'POST',
      `/v1/admin/users/${user.userId}/credits`,
      { amount, reason: 'test credits' },
      { ...admin.auth, 'idempotency-key': `grant-${user.userId}` },
    );
    expect(grant.status).toBe(201);
    return user;
  }

  /** A user with a trained active model (the training's credits already spent). */
  async function userWithModel(credits: number): Promise<TestCaller> {
    const user = await userWithCredits(TRAINING_CREDIT_COST + credits);
    const form = new FormData();
    for (let i = 0; i < 10; i++)
      form.append('images', new Blob([new Uint8Array(solidPng(16, 16, [i * 20, 90, 30]))], { type: 'image/png' }), `${i}.png`);
    const res = await fetch(`${platform.apiUrl}/v1/models`, { method: 'POST', headers: user.auth, body: form });
    expect(res.status).toBe(202);
    const { runId } = (await res.json()) as { runId: string };
    await platform.client.workflow.getHandle(runId).result();
    return user;
  }

  async function photoshoot(user: TestCaller, styles: string[]) {
    const started = await api(platform.apiUrl, 'POST', '/v1/photoshoots', { styles }, user.auth);
    expect(started.status).toBe(202);
    const { sessionId, runId } = started.json as { sessionId: string; runId: string };
    expect(runId).toBe(`photoshoot:${sessionId}`);
    const result = await platform.client.workflow
      .getHandle(runId)
      .result()
      .catch((err: unknown) => err);
    const session = (await api(platform.apiUrl, 'GET', `/v1/photoshoots/${sessionId}`, undefined, user.auth)).json;
    return { sessionId, result, session };
  }

  it('shoots 2 styles: one child run per grid, 18 frames cut from the 3×3 sheets and stored, 2 grids paid', async () => {
    const user = await userWithModel(2 * PHOTOSHOOT_GRID_CREDIT_COST);
    const { sessionId, result, session } = await photoshoot(user, ['editorial', 'luxury']);
    expect(result).toEqual({ sessionId, gridsCompleted: 2, gridsFailed: 0 });
    expect(session).toMatchObject({ status: 'completed', progress: 100, gridCount: 2, gridsCompleted: 2, gridsFailed: 0 });
    const frames = session.grids.flatMap((g: any) => g.frames);
    expect(frames).toHaveLength(18);
    // The sandbox draws 128-px cells: each frame is exactly one cell of its sheet.
    for (const frame of frames) {
      expect(frame).toMatchObject({ width: 128, height: 128 });
      expect(storedFile(frame.imageUrl)).toBe(true);
    }
    const children = await db()
      .selectFrom('provider_jobs')
      .select(['workflow_id', 'provider_job_id'])
      .where('workflow_id', 'like', `photoshoot-grid:${sessionId}:%`)
      .execute();
    expect(children.map((c) => c.workflow_id).sort()).toEqual([`photoshoot-grid:${sessionId}:0`, `photoshoot-grid:${sessionId}:1`]);
    // Webhooks were on: each grid's prediction sent its signed `succeeded` webhook to our route.
    for (const child of children)
      expect(replicate.webhooks).toContainEqual(
        expect.objectContaining({ jobId: child.provider_job_id, status: 'succeeded', dropped: false }),
      );
    expect(await balance(user.userId)).toBe(0);
    const listed = (await api(platform.apiUrl, 'GET', '/v1/photoshoots', undefined, user.auth)).json;
    expect(listed.data).toEqual([expect.objectContaining({ id: sessionId, status: 'completed' })]);
  });

  it('a grid the provider fails is refunded alone: the session ends partially_completed with 9 frames', async () => {
    const user = await userWithModel(2 * PHOTOSHOOT_GRID_CREDIT_COST);
    replicate.failNext('prediction', 'NSFW content detected');
    const { sessionId, result, session } = await photoshoot(user, ['studio', 'natural']);
    expect(result).toEqual({ sessionId, gridsCompleted: 1, gridsFailed: 1 });
    expect(session).toMatchObject({ status: 'partially_completed', progress: 100, gridsCompleted: 1, gridsFailed: 1 });
    const failed = session.grids.filter((g: any) => g.status === 'failed');
    expect(failed).toEqual([expect.objectContaining({ frames: [], failureReason: expect.stringContaining('NSFW content detected') })]);
    expect(session.grids.flatMap((g: any) => g.frames)).toHaveLength(9);
    expect(await balance(user.userId)).toBe(PHOTOSHOOT_GRID_CREDIT_COST);
    expect((await ledgerTypes(user.userId)).filter((t) => t === 'refund')).toHaveLength(1);
  });

  it('a cancelled photoshoot cancels the predictions of its grids at Replicate and refunds every grid once', async () => {
    const user = await userWithModel(2 * PHOTOSHOOT_GRID_CREDIT_COST);
    replicate.stallNext('prediction');
    replicate.stallNext('prediction');
    const started = await api(platform.apiUrl, 'POST', '/v1/photoshoots', { styles: ['studio', 'lifestyle'] }, user.auth);
    const { sessionId, runId } = started.json as { sessionId: string; runId: string };
    const grids = await eventually(
      () => db().selectFrom('pro_photoshoot_grids').select('prediction_id').where('session_id', '=', sessionId).execute(),
      (rows) => rows.every((row) => row.prediction_id !== null),
      'both grids generating',
    );
    const cancel = await api(platform.apiUrl, 'POST', `/v1/runs/${encodeURIComponent(runId)}/cancel`, undefined, user.auth);
    expect(cancel.status).toBe(202);
    await expect(platform.client.workflow.getHandle(runId).result()).rejects.toThrow();
    const session = (await api(platform.apiUrl, 'GET', `/v1/photoshoots/${sessionId}`, undefined, user.auth)).json;
    expect(session).toMatchObject({ status: 'canceled', gridsCompleted: 0 });
    for (const grid of grids) expect(replicate.jobs.get(grid.prediction_id!)?.status).toBe('canceled');
    expect(await balance(user.userId)).toBe(2 * PHOTOSHOOT_GRID_CREDIT_COST);
    expect((await ledgerTypes(user.userId)).filter((t) => t === 'refund')).toHaveLength(2);
  });

  it('animates a generated image into a stored mp4 and spends its credits once, finished by polling (webhooks dropped)', async () => {
    const user = await userWithModel(1 + ANIMATION_CREDIT_COST);
    replicate.dropWebhooks(true);
    const sentBefore = replicate.webhooks.length;
    const generation = await api(platform.apiUrl, 'POST', '/v1/images', { prompt: 'portrait by a window', count: 1 }, user.auth);
    expect(generation.status).toBe(202);
    await platform.client.workflow.getHandle((generation.json as { runId: string }).runId).result();
    const [image] = (await api(platform.apiUrl, 'GET', '/v1/images', undefined, user.auth)).json.data;
    const started = await api(
      platform.apiUrl,
      'POST',
      `/v1/images/${image.id}/animate`,
      { motion: 'slow smile, hair in the wind' },
      user.auth,
    );
    expect(started.status).toBe(202);
    const { videoId, runId } = started.json as { videoId: string; runId: string };
    expect(runId).toBe(`animation:${image.id}:${videoId}`);
    await platform.client.workflow.getHandle(runId).result();
    expect(replicate.webhooks.slice(sentBefore).every((w) => w.dropped)).toBe(true);
    const video = (await api(platform.apiUrl, 'GET', `/v1/animations/${videoId}`, undefined, user.auth)).json;
    expect(video).toMatchObject({ id: videoId, imageId: image.id, status: 'completed', motion: 'slow smile, hair in the wind' });
    expect(video.videoUrl).toMatch(/\.mp4$/);
    expect(storedFile(video.videoUrl)).toBe(true);
    expect(video.bytes).toBeGreaterThan(1000);
    const prediction = [...replicate.jobs.values()].find((job) => typeof job.input.image === 'string');
    expect(prediction?.input).toMatchObject({ prompt: 'slow smile, hair in the wind' });
    expect(await balance(user.userId)).toBe(0);
  });

  it('refuses bad input before anything starts: unknown style or too many 400 naming the field, no model 409, credits 402', async () => {
    const noModel = await userWithCredits(100);
    expect((await api(platform.apiUrl, 'POST', '/v1/photoshoots', { styles: ['studio'] }, noModel.auth)).status).toBe(409);
    const user = await userWithModel(PHOTOSHOOT_GRID_CREDIT_COST);
    const unknown = await api(platform.apiUrl, 'POST', '/v1/photoshoots', { styles: ['studio', 'vaporwave'] }, user.auth);
    expect(unknown.status).toBe(400);
    expect(unknown.json).toMatchObject({ errors: [{ field: 'styles.1' }] });
    const tooMany = await api(platform.apiUrl, 'POST', '/v1/photoshoots', { styles: Array(10).fill('studio') }, user.auth);
    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toMatchObject({ errors: [{ field: 'styles' }] });
    const broke = await api(platform.apiUrl, 'POST', '/v1/photoshoots', { styles: ['studio', 'natural'] }, user.auth);
    expect(broke.status).toBe(402);
    const missing = await api(platform.apiUrl, 'POST', `/v1/images/${crypto.randomUUID()}/animate`, {}, user.auth);
    expect(missing.status).toBe(404);
    expect(
      await db().selectFrom('pro_photoshoot_sessions').select('id').where('user_id', 'in', [noModel.userId, user.userId]).execute(),
    ).toEqual([]);
  });
});
