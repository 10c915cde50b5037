import pg from 'pg';
import { attributeReferral, createAffiliate, recordCommissionForInvoice } from '../../db/repositories/affiliates';
import { createUser } from '../../db/repositories/users';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import { affiliatePayoutsScheduleId, payoutsWorkflowId, type PayoutsResult } from '../../workflows/payouts/contract';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

/**
 * kill -9 the worker after Stripe created the transfer but before the payout activity finished:
 * the retried activity on a new worker repeats the request with the same idempotency key and
 * gets the same transfer back — exactly one transfer and one payout row.
 */
describe('payout durability: worker killed with SIGKILL between the transfer and the payout row update', () => {
  let platform: TestPlatform;
  let sandbox: StripeSandbox;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ webhookSecret: 'whsec_payout_crash', port: 0 });
    platform = await startTestPlatform({ workers: 'later', sandboxUrls: { stripe: sandbox.url } });
  });
  afterAll(async () => {
    await platform?.client.schedule
      .getHandle(affiliatePayoutsScheduleId(platform.queues.prefix))
      .delete()
      .catch(() => undefined);
    await platform?.stop();
    await sandbox?.stop();
  });

  it('makes exactly one transfer and one payout row', async () => {
    const { client, queues } = platform;
    const db = platform.database.db;
    // The worker process: the real composition root (it also creates the payout schedule), pointed at our sandbox.
    const firstReady = platform.spawnWorkerProcess();

    const owner = await createUser(db, { email: `affiliate-${queues.prefix}@example.test` });
    const affiliate = await createAffiliate(db, {
      userId: owner.id,
      referralCode: `crash-${queues.prefix.slice(1, 7)}`,
      stripeConnectedAccountId: 'acct_1Crash',
    });
    for (const n of [1, 2]) {
      const customer = await createUser(db, { email: `customer${n}-${queues.prefix}@example.test` });
      await attributeReferral(db, { userId: customer.id, referralCode: affiliate.referral_code });
      await recordCommissionForInvoice(db, {
        stripeInvoiceId: `in_crash_${n}`,
        userId: customer.id,
        amountPaidCents: 25_000,
        currency: 'usd',
        paidAt: '2025-03-01T00:00:00Z',
        refundWindowDays: 30,
      });
    }
    const first = await firstReady;
    const schedule = await client.schedule.getHandle(affiliatePayoutsScheduleId(queues.prefix)).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'monthlyPayoutsWorkflow', taskQueue: queues.main });
    expect(schedule.policies.overlap).toBe('SKIP');
    expect(new Date(schedule.info.nextActionTimes[0] ?? 0).toISOString()).toMatch(/^\d{4}-\d{2}-01T02:00:00\.000Z$/);

    // Stripe answers slowly, so the transfer request is in flight while we take the payout row's lock.
    sandbox.server.faults.inject({ match: { method: 'POST', path: '/v1/transfers' }, delayMs: 2_000 });
    const handle = await client.workflow.start('payoutsWorkflow', {
      workflowId: payoutsWorkflowId('2025-06'),
      taskQueue: queues.main,
      args: [{ period: '2025-06', minimumPayoutCents: 5_000 }],
    });

    const blocker = new pg.Client({ connectionString: platform.database.url });
    await blocker.connect();
    try {
      let payoutId: string | undefined;
      const deadline = Date.now() + 60_000;
      while (!payoutId && Date.now() < deadline) {
        payoutId = (await db.selectFrom('affiliate_payouts').select('id').where('affiliate_id', '=', affiliate.id).executeTakeFirst())?.id;
        if (!payoutId) await new Promise((r) => setTimeout(r, 20));
      }
      expect(payoutId).toBeDefined();
      await blocker.query('begin');
      await blocker.query('select 1 from affiliate_payouts where id = $1 for update', [payoutId]);
      while (sandbox.state.transfers.size === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(sandbox.state.transfers.size).toBe(1);
      await new Promise((r) => setTimeout(r, 200)); // the activity is now waiting on our lock to mark the payout paid
      expect(
        (
          await db
            .selectFrom('affiliate_payouts')
            .select('status')
            .where('id', '=', payoutId ?? '')
            .executeTakeFirstOrThrow()
        ).status,
      ).toBe('processing');
      killGroup(first, 'SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
    } finally {
      await blocker.query('rollback').catch(() => undefined);
      await blocker.end();
    }

    // The replacement runs in this process, to skip a second cold start.
    await platform.startWorkers(['main']);

    const result: PayoutsResult = await handle.result();
    expect(result.totals).toMatchObject({ paid: 1, paidCents: 10_000, unresolved: 0 });
    expect(result.reconciliation).toMatchObject({ matched: true, transferCount: 1, transfersCents: 10_000 });

    expect(sandbox.state.transfers.size).toBe(1);
    const payouts = await db.selectFrom('affiliate_payouts').selectAll().where('affiliate_id', '=', affiliate.id).execute();
    expect(payouts).toHaveLength(1);
    const [transfer] = [...sandbox.state.transfers.values()];
    expect(payouts[0]).toMatchObject({ status: 'paid', amount_cents: 10_000, stripe_transfer_id: transfer?.id });
    const requests = sandbox.server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/transfers');
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(requests.map((r) => r.headers['idempotency-key']))).toEqual(new Set([`payout:${payouts[0]?.id}`]));
    const commissions = await db
      .selectFrom('affiliate_commissions')
      .select(['status', 'payout_id'])
      .where('affiliate_id', '=', affiliate.id)
      .execute();
    expect(commissions).toEqual([
      { status: 'paid', payout_id: payouts[0]?.id },
      { status: 'paid', payout_id: payouts[0]?.id },
    ]);
  });
});
