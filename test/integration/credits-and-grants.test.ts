import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { createCreditActivities } from '../../activities/credits';
import { createApiKey } from '../../db/repositories/api-keys';
import { applyCreditTransaction } from '../../db/repositories/credits';
import { createUser } from '../../db/repositories/users';
import { createLogger } from '../../lib/logger';
import { ADMIN_SCOPES } from '../../schemas/api-keys';
import type { PlanSlug } from '../../schemas/billing';
import { adminGrantWorkflowId } from '../../workflows/admin-grant/contract';
import { ensureAdminGrantTimers } from '../../platform/admin-grant-timers';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import type { ActivityDeps } from '../../activities/deps';
import { eventually } from '../helpers/eventually';

/** Credits reservations on real PostgreSQL, and admin grants through the API and their real workflows. */
describe('credits reservations and admin grants (real PostgreSQL + Temporal)', () => {
  let platform: TestPlatform;
  let credits: ReturnType<typeof createCreditActivities>;
  let adminAuth: Record<string, string>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    credits = createCreditActivities({ db: platform.database.db, logger: createLogger('silent') } as unknown as ActivityDeps);
    const admin = await createUser(db(), { email: `admin-${randomUUID()}@example.test`, role: 'admin' });
    const { plaintext } = await createApiKey(db(), { userId: admin.id, name: 'admin', scopes: [...ADMIN_SCOPES] });
    adminAuth = { authorization: `Bearer ${plaintext}` };
  });
  afterAll(() => platform?.stop());

  const db = () => platform.database.db;
  const balance = async (userId: string) =>
    (await db().selectFrom('user_credits').select('balance').where('user_id', '=', userId).executeTakeFirstOrThrow()).balance;
  const ledger = (userId: string) =>
    db()
      .selectFrom('credit_transactions')
      .select(['amount', 'transaction_type', 'balance_after', 'reference_id'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();

  async function userWithCredits(credit: number) {
    const user = await createUser(db(), { email: `credits-${randomUUID()}@example.test` });
    await applyCreditTransaction(db(), { userId: user.id, amount: credit, type: 'purchase', idempotencyKey: `seed:${user.id}` });
    return user.id;
  }

  async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    return err as ApplicationFailure;
  }

  it('20 concurrent reserves against a balance that fits 7: exactly 7 succeed, the rest fail InsufficientCredits, the ledger adds up', async () => {
    const userId = await userWithCredits(75);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        credits.reserveCredits({ userId, amount: 10, reservationId: `gen-${userId}-${i}`, reason: 'video generation' }),
      ),
    );
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as ApplicationFailure] : []));
    expect(won).toHaveLength(7);
    expect(lost).toHaveLength(13);
    for (const failure of lost) {
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'InsufficientCredits', nonRetryable: true });
    }
    expect(await balance(userId)).toBe(5);
    // created_at is each transaction's start, not its commit: debits are ordered by what they left.
    const rows = (await ledger(userId)).sort((a, b) => b.balance_after - a.balance_after);
    expect(rows).toHaveLength(8);
    expect(rows.reduce((sum, r) => sum + r.amount, 0)).toBe(5);
    // Each row's balance_after is the running sum of the rows before it: no lost update, never negative.
    let running = 0;
    for (const row of rows) {
      running += row.amount;
      expect(row.balance_after).toBe(running);
      expect(row.balance_after).toBeGreaterThanOrEqual(0);
    }
  });

  it('repeats of reserve, commit and refund change nothing; refund restores the balance; the states are final', async () => {
    const userId = await userWithCredits(50);
    const first = await credits.reserveCredits({ userId, amount: 20, reservationId: `r1-${userId}`, reason: 'thumbnail pack' });
    const again = await credits.reserveCredits({ userId, amount: 20, reservationId: `r1-${userId}`, reason: 'thumbnail pack' });
    expect(first).toMatchObject({ state: 'reserved', balance: 30, applied: true });
    expect(again).toMatchObject({ state: 'reserved', balance: 30, applied: false });
    await Promise.all([
      credits.refundCredits({ reservationId: `r1-${userId}`, reason: 'generation failed' }),
      credits.refundCredits({ reservationId: `r1-${userId}`, reason: 'generation failed' }),
    ]);
    expect(await balance(userId)).toBe(50);
    expect(await credits.reserveCredits({ userId, amount: 20, reservationId: `r1-${userId}`, reason: 'retried' })).toMatchObject({
      state: 'refunded',
      balance: 50,
      applied: false,
    });
    expect(await failureOf(credits.commitCredits({ reservationId: `r1-${userId}` }))).toMatchObject({
      type: 'ReservationRefunded',
      nonRetryable: true,
    });

    await credits.reserveCredits({ userId, amount: 15, reservationId: `r2-${userId}`, reason: 'caption' });
    expect(await credits.commitCredits({ reservationId: `r2-${userId}` })).toMatchObject({
      state: 'committed',
      applied: true,
      balance: 35,
    });
    expect(await credits.commitCredits({ reservationId: `r2-${userId}` })).toMatchObject({
      state: 'committed',
      applied: false,
      balance: 35,
    });
    expect(await failureOf(credits.refundCredits({ reservationId: `r2-${userId}`, reason: 'late' }))).toMatchObject({
      type: 'ReservationCommitted',
      nonRetryable: true,
    });
    expect(await failureOf(credits.refundCredits({ reservationId: `missing-${userId}`, reason: 'x' }))).toMatchObject({
      type: 'NotFound',
      nonRetryable: true,
    });

    expect((await ledger(userId)).map((r) => [r.transaction_type, r.amount, r.balance_after])).toEqual([
      ['purchase', 50, 50],
      ['reservation', -20, 30],
      ['refund', 20, 50],
      ['usage', -15, 35],
    ]);
    expect(
      await db().selectFrom('user_credits').select(['balance', 'total_used']).where('user_id', '=', userId).executeTakeFirstOrThrow(),
    ).toEqual({ balance: 35, total_used: 15 });
  });

  async function tierOf(userId: string): Promise<PlanSlug> {
    return (await db().selectFrom('users').select('subscription_tier').where('id', '=', userId).executeTakeFirstOrThrow())
      .subscription_tier as PlanSlug;
  }
  const grantRow = (id: string) =>
    db().selectFrom('admin_subscription_grants').select(['is_active', 'revoked_at']).where('id', '=', id).executeTakeFirstOrThrow();

  it('revoking a grant without expiry ends it at once through its workflow', async () => {
    const user = await createUser(db(), { email: `revoked-${randomUUID()}@example.test` });
    const created = await api(
      platform.apiUrl,
      'POST',
      `/v1/admin/users/${user.id}/grants`,
      { grantType: 'full_access', tierOverride: 'premium', reason: 'support case' },
      adminAuth,
    );
    expect(created.status).toBe(201);
    await eventually(
      () => tierOf(user.id),
      (t) => t === 'premium',
      'granted tier',
    );
    const revoked = await api(platform.apiUrl, 'DELETE', `/v1/admin/grants/${created.json.grantId}`, undefined, adminAuth);
    expect(revoked.status).toBe(202);
    expect(await platform.client.workflow.getHandle(adminGrantWorkflowId(created.json.grantId)).result()).toMatchObject({
      outcome: 'revoked',
    });
    expect(await grantRow(created.json.grantId)).toMatchObject({ is_active: false, revoked_at: expect.any(Date) });
    expect(await tierOf(user.id)).toBe('free');
    // A second revoke finds the grant ended: a short run that changes nothing.
    expect((await api(platform.apiUrl, 'DELETE', `/v1/admin/grants/${created.json.grantId}`, undefined, adminAuth)).status).toBe(202);
    expect(await platform.client.workflow.getHandle(adminGrantWorkflowId(created.json.grantId)).result()).toMatchObject({
      outcome: 'inactive',
    });
    expect(
      (
        await api(
          platform.apiUrl,
          'POST',
          `/v1/admin/users/${randomUUID()}/grants`,
          { grantType: 'unlimited_videos', reason: 'x' },
          adminAuth,
        )
      ).status,
    ).toBe(404);
  });

  // Last on purpose: RECORD_REPLAY_HISTORIES keeps the newest completed run, and this one has the timer.
  it('an admin grant raises the tier until its expiry timer fires, then the row turns inactive and the tier returns', async () => {
    const user = await createUser(db(), { email: `granted-${randomUUID()}@example.test`, plan: 'basic' });
    const expiresAt = new Date(Date.now() + 3_000).toISOString();
    const created = await api(
      platform.apiUrl,
      'POST',
      `/v1/admin/users/${user.id}/grants`,
      { grantType: 'full_access', tierOverride: 'creator', reason: 'launch partner', expiresAt },
      adminAuth,
    );
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      userId: user.id,
      isActive: true,
      tierOverride: 'creator',
      workflowId: adminGrantWorkflowId(created.json.grantId),
    });
    await eventually(
      () => tierOf(user.id),
      (t) => t === 'creator',
      'granted tier',
    );
    const result = await platform.client.workflow.getHandle(adminGrantWorkflowId(created.json.grantId)).result();
    expect(result).toEqual({ grantId: created.json.grantId, outcome: 'expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(await grantRow(created.json.grantId)).toEqual({ is_active: false, revoked_at: null });
    expect(await tierOf(user.id)).toBe('basic');
  });

  it('a grant written without the API (SQL, seeds) gets its expiry timer from the worker-start sweep', async () => {
    const user = await createUser(db(), { email: `swept-${randomUUID()}@example.test`, plan: 'basic' });
    const grant = await db()
      .insertInto('admin_subscription_grants')
      .values({
        user_id: user.id,
        grant_type: 'full_access',
        tier_override: 'creator',
        reason: 'granted by SQL',
        expires_at: new Date(Date.now() + 2_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sweep = () => ensureAdminGrantTimers(db(), platform.client, platform.queues, createLogger('silent'));
    expect(await sweep()).toBeGreaterThanOrEqual(1);
    // A second sweep (another worker starting) joins the running timer instead of starting one more.
    await sweep();
    const handle = platform.client.workflow.getHandle(adminGrantWorkflowId(grant.id));
    expect(await handle.result()).toEqual({ grantId: grant.id, outcome: 'expired' });
    expect(await grantRow(grant.id)).toEqual({ is_active: false, revoked_at: null });
    expect(await tierOf(user.id)).toBe('basic');
    const runs = platform.client.workflow.list({ query: `WorkflowId = '${adminGrantWorkflowId(grant.id)}'` });
    let count = 0;
    for await (const _ of runs) count += 1;
    expect(count).toBe(1);
  });
});
