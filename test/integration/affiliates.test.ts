import { createHash } from 'node:crypto';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import { createAffiliateActivities } from '../../activities/affiliates';
import type { Providers } from '../../providers';
import { providerCall } from '../../providers/call';
import { ProviderLimiter } from '../../providers/rate-limit';
import { createStripeClient, StripeAdapter } from '../../providers/stripe';
import { createLogger } from '../../lib/logger';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import { ADMIN_SCOPES } from '../../schemas/api-keys';
import { commissionCents } from '../../schemas/affiliates';
import { payoutsWorkflowId, type PayoutsResult } from '../../workflows/payouts/contract';
import { createCaller, type TestCaller } from '../api/fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';

const DAY_MS = 86_400_000;

/**
 * The affiliate program on the real stack (PostgreSQL, Temporal, worker, API) with the Stripe
 * sandbox: tracking link → sign-up attribution → commission per paid invoice → refund window →
 * monthly payouts as Stripe transfers, failures and carry-overs, clawbacks and reconciliation.
 */
describe('affiliates: tracking, commissions and monthly payouts (real stack + Stripe sandbox)', () => {
  let platform: TestPlatform;
  let sandbox: StripeSandbox;
  let adapter: StripeAdapter;
  let admin: TestCaller;
  let activities: ReturnType<typeof createAffiliateActivities>;
  const db = () => platform.database.db;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ webhookSecret: 'whsec_affiliates', port: 0 });
    adapter = new StripeAdapter(
      createStripeClient('sk_test_affiliates', sandbox.url),
      providerCall(new ProviderLimiter('stripe', { maxConcurrent: 8 })),
    );
    const providers = { stripe: adapter } as unknown as Providers;
    platform = await startTestPlatform({
      providers,
      env: { AFFILIATE_MIN_PAYOUT_CENTS: '1000', AFFILIATE_LANDING_URL: 'https://glow.example/welcome' },
    });
    admin = await createCaller(db(), { role: 'admin', scopes: ADMIN_SCOPES });
    // What the billing path calls on invoice.paid / charge.refunded (see the report for the hook).
    activities = createAffiliateActivities({
      db: db(),
      logger: createLogger('silent'),
      providers,
      affiliatePolicy: { refundWindowDays: 30 },
    });
  });
  afterAll(async () => {
    await platform?.stop();
    await sandbox?.stop();
  });

  async function becomeAffiliate(referralCode: string, stripeConnectedAccountId?: string) {
    const caller = await createCaller(db());
    const res = await api(
      platform.apiUrl,
      'POST',
      '/v1/affiliates',
      { referralCode, ...(stripeConnectedAccountId ? { stripeConnectedAccountId } : {}) },
      caller.auth,
    );
    expect(res.status).toBe(201);
    return { caller, affiliateId: res.json.id as string };
  }

  /** A referred customer (attributed through the API) and a commission for a synthetic paid invoice. */
  async function referredCustomer(code: string) {
    const customer = await createCaller(db());
    expect((await api(platform.apiUrl, 'POST', '/v1/referrals', { referralCode: code }, customer.auth)).status).toBe(201);
    return customer;
  }

  const commission = (invoiceId: string, userId: string, amountPaidCents: number) =>
    activities.recordAffiliateCommission({
      stripeInvoiceId: invoiceId,
      userId,
      amountPaidCents,
      currency: 'usd',
      paidAt: new Date().toISOString(),
    });

  /** The refund window passing, as 30 days of wall time would: every open commission becomes due by `day`. */
  const windowPassed = (day: string) =>
    db()
      .updateTable('affiliate_commissions')
      .set({ eligible_at: new Date(`${day}T12:00:00Z`) })
      .where('status', 'in', ['pending', 'eligible'])
      .execute();

  async function runPayouts(periodEnd: string): Promise<PayoutsResult> {
    const started = await api(platform.apiUrl, 'POST', '/v1/admin/payouts/run', { periodEnd }, admin.auth);
    expect(started.status).toBe(202);
    expect(started.json.runId).toBe(payoutsWorkflowId(periodEnd.slice(0, 7)));
    const result: PayoutsResult = await platform.client.workflow.getHandle(started.json.runId).result();
    return result;
  }

  const transfersOf = (group: string) => [...sandbox.state.transfers.values()].filter((t) => t.transfer_group === group);

  let alice: Awaited<ReturnType<typeof becomeAffiliate>>;
  let bob: Awaited<ReturnType<typeof becomeAffiliate>>;
  let carol: Awaited<ReturnType<typeof becomeAffiliate>>;
  let realInvoice: { id: string; chargeId: string; amount: number };

  it('records a click with a truncated, hashed IP and redirects with the code; an unknown code redirects without attribution', async () => {
    alice = await becomeAffiliate('alice-glow', 'acct_1Alice');
    const res = await fetch(`${platform.apiUrl}/r/ALICE-glow?utm_source=youtube&utm_campaign=launch&to=/pricing`, {
      redirect: 'manual',
      headers: {
        'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Mobile/15E148',
        referer: 'https://youtube.com/watch?v=abc',
      },
    });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe('https://glow.example/pricing');
    expect(location.searchParams.get('ref')).toBe('alice-glow');
    const clickId = location.searchParams.get('aff_click');
    expect(res.headers.getSetCookie().join(';')).toContain(`aff_click=${clickId}`);

    const click = await db().selectFrom('affiliate_clicks').selectAll().where('id', '=', clickId).executeTakeFirstOrThrow();
    expect(click).toMatchObject({
      affiliate_id: alice.affiliateId,
      utm_source: 'youtube',
      utm_campaign: 'launch',
      device_type: 'mobile',
      landing_page: '/pricing',
      converted: false,
    });
    expect(click.ip_hash).toBe(createHash('sha256').update('affiliate-click:127.0.0.0/24').digest('hex'));
    expect(JSON.stringify(click)).not.toContain('127.0.0.1');

    const unknown = await fetch(`${platform.apiUrl}/r/nobody-here?to=//evil.example/x`, { redirect: 'manual' });
    expect(unknown.status).toBe(302);
    expect(unknown.headers.get('location')).toBe('https://glow.example/welcome');
    expect(await db().selectFrom('affiliate_clicks').select('id').execute()).toHaveLength(1);

    // Sign-up with the code and the click: a referral row, the click converted; the first attribution stands.
    const customer = await createCaller(db());
    const referred = await api(platform.apiUrl, 'POST', '/v1/referrals', { referralCode: 'alice-glow', clickId }, customer.auth);
    expect(referred.status).toBe(201);
    expect(referred.json).toMatchObject({ affiliateId: alice.affiliateId, clickId, status: 'signed_up' });
    expect((await api(platform.apiUrl, 'POST', '/v1/referrals', { referralCode: 'alice-glow' }, customer.auth)).status).toBe(200);
    expect((await api(platform.apiUrl, 'POST', '/v1/referrals', { referralCode: 'alice-glow' }, alice.caller.auth)).status).toBe(422);
    expect(
      await db().selectFrom('affiliate_clicks').select(['converted', 'converted_user_id']).where('id', '=', clickId).executeTakeFirst(),
    ).toEqual({
      converted: true,
      converted_user_id: customer.userId,
    });

    // The customer subscribes in Stripe; invoice.paid → a commission in integer cents, pending for 30 days.
    const stripeCustomer = await adapter.createCustomer({ userId: customer.userId, email: `${customer.userId}@example.test` });
    const stripe = createStripeClient('sk_test_affiliates', sandbox.url);
    const subscription = await stripe.subscriptions.create({
      customer: stripeCustomer.id,
      items: [{ price: 'price_sandbox_premium_monthly' }],
    });
    const invoice = await adapter.retrieveInvoice(subscription.latest_invoice as string);
    expect(invoice).toMatchObject({ status: 'paid', amountPaid: 4900 });
    const recorded = await activities.recordAffiliateCommission({
      stripeInvoiceId: invoice.id,
      userId: customer.userId,
      amountPaidCents: invoice.amountPaid,
      currency: invoice.currency,
      paidAt: invoice.paidAt,
    });
    expect(
      await activities.recordAffiliateCommission({
        stripeInvoiceId: invoice.id,
        userId: customer.userId,
        amountPaidCents: invoice.amountPaid,
        currency: invoice.currency,
        paidAt: invoice.paidAt,
      }),
    ).toEqual(recorded);
    const row = await db()
      .selectFrom('affiliate_commissions')
      .selectAll()
      .where('stripe_invoice_id', '=', invoice.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      affiliate_id: alice.affiliateId,
      amount_cents: 980,
      commission_rate_bps: 2000,
      status: 'pending',
      kind: 'commission',
    });
    expect(row.eligible_at.getTime() - Date.parse(invoice.paidAt ?? '')).toBe(30 * DAY_MS);
    const raw = await stripe.invoices.retrieve(invoice.id);
    realInvoice = { id: invoice.id, chargeId: String((raw as unknown as { charge?: string }).charge ?? ''), amount: invoice.amountPaid };
  });

  it('rounds commissions half up to the cent in integers', () => {
    expect(commissionCents(4900, 2000)).toBe(980);
    expect(commissionCents(1999, 2000)).toBe(400); // 399.8
    expect(commissionCents(1997, 2000)).toBe(399); // 399.4
    expect(commissionCents(1, 5000)).toBe(1); // 0.5 rounds up
    expect(commissionCents(3333, 1250)).toBe(417); // 416.625
    expect(() => commissionCents(10.5, 2000)).toThrow(RangeError);
  });

  it('pays nothing while commissions are pending; once the window passes: one transfer per affiliate, failures and small balances carried over', async () => {
    const pendingRun = await runPayouts('2025-01-31');
    expect(pendingRun.totals.paid).toBe(0);
    expect(sandbox.state.transfers.size).toBe(0);

    bob = await becomeAffiliate('bob-glow'); // no connected account yet
    carol = await becomeAffiliate('carol-glow', 'acct_1Carol');
    const a2 = await referredCustomer('alice-glow');
    await commission('in_alice_2', a2.userId, 10_000); // 2000
    const a3 = await referredCustomer('alice-glow');
    await commission('in_alice_3', a3.userId, 5_000); // 1000, refunded before any payout
    expect(await activities.reverseAffiliateCommission({ stripeInvoiceId: 'in_alice_3', reason: 'charge.refunded' })).toEqual({
      outcome: 'reversed',
    });
    const b1 = await referredCustomer('bob-glow');
    await commission('in_bob_1', b1.userId, 10_000); // 2000
    const c1 = await referredCustomer('carol-glow');
    await commission('in_carol_1', c1.userId, 2_000); // 400 < 1000 minimum
    await windowPassed('2025-01-15');

    const result = await runPayouts('2025-02-28');
    expect(result.totals).toMatchObject({ paid: 1, paidCents: 2_980, failed: 1, unresolved: 0 });
    expect(result.reconciliation).toMatchObject({ matched: true, transferCount: 1, transfersCents: 2_980, paidPayoutsCents: 2_980 });

    const transfers = transfersOf('payouts:2025-02');
    expect(transfers).toHaveLength(1);
    const payouts = await db()
      .selectFrom('affiliate_payouts')
      .selectAll()
      .where('run_id', '=', payoutsWorkflowId('2025-02'))
      .orderBy('amount_cents')
      .execute();
    const alicePayout = payouts.find((p) => p.affiliate_id === alice.affiliateId);
    expect(alicePayout).toMatchObject({ status: 'paid', amount_cents: 2_980, commission_count: 2, stripe_transfer_id: transfers[0]?.id });
    expect(transfers[0]).toMatchObject({ amount: 2_980, destination: 'acct_1Alice', metadata: { payout_id: alicePayout?.id } });
    const keys = sandbox.server.requests
      .filter((r) => r.method === 'POST' && r.path === '/v1/transfers')
      .map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual([`payout:${alicePayout?.id}`]);
    expect(payouts.find((p) => p.affiliate_id === bob.affiliateId)).toMatchObject({
      status: 'failed',
      failure_reason: 'the affiliate has no Stripe connected account',
      stripe_transfer_id: null,
    });
    expect(payouts.find((p) => p.affiliate_id === carol.affiliateId)).toBeUndefined();
    // Bob's and Carol's commissions wait, unattached, for a later month.
    const waiting = await db()
      .selectFrom('affiliate_commissions')
      .select(['stripe_invoice_id', 'status', 'payout_id'])
      .where('affiliate_id', 'in', [bob.affiliateId, carol.affiliateId])
      .orderBy('stripe_invoice_id')
      .execute();
    expect(waiting).toEqual([
      { stripe_invoice_id: 'in_bob_1', status: 'eligible', payout_id: null },
      { stripe_invoice_id: 'in_carol_1', status: 'eligible', payout_id: null },
    ]);

    const report = await api(platform.apiUrl, 'GET', '/v1/admin/payouts/2025-02', undefined, admin.auth);
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({
      runStatus: 'completed',
      counts: { paid: 1, failed: 1, processing: 0 },
      paidCents: 2_980,
      reconciliation: { matched: true },
    });
    expect(report.json.failures).toEqual([expect.objectContaining({ affiliateId: bob.affiliateId, amountCents: 2_000 })]);
    expect((await api(platform.apiUrl, 'GET', '/v1/admin/payouts/2025-02', undefined, alice.caller.auth)).status).toBe(403);
  });

  it('running the same month again transfers nothing new', async () => {
    const again = await api(platform.apiUrl, 'POST', '/v1/admin/payouts/run', { periodEnd: '2025-02-10' }, admin.auth);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ runId: payoutsWorkflowId('2025-02'), alreadyCompleted: true });
    // An operator re-running the workflow itself (e.g. from the Temporal UI) pays nobody twice either.
    const rerun: PayoutsResult = await platform.client.workflow.execute('payoutsWorkflow', {
      workflowId: payoutsWorkflowId('2025-02'),
      taskQueue: platform.queues.main,
      args: [{ period: '2025-02', minimumPayoutCents: 1000 }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    });
    expect(rerun.totals).toMatchObject({ paid: 0, paidCents: 0 });
    expect(rerun.reconciliation).toMatchObject({ matched: true, transferCount: 1 });
    expect(sandbox.state.transfers.size).toBe(1);
    expect(await db().selectFrom('affiliate_payouts').select('id').where('affiliate_id', '=', alice.affiliateId).execute()).toHaveLength(1);
  });

  it('a refund of a commission already paid out becomes a negative adjustment netted in the next payout', async () => {
    await fetch(`${sandbox.url}/__sandbox/stripe/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subscription: (await adapter.retrieveInvoice(realInvoice.id)).subscriptionId, action: 'refund_latest' }),
    });
    expect(
      await activities.reverseAffiliateCommission({
        stripeInvoiceId: realInvoice.id,
        stripeChargeId: realInvoice.chargeId || null,
        reason: 'charge.refunded',
      }),
    ).toEqual({ outcome: 'adjusted' });
    expect(await activities.reverseAffiliateCommission({ stripeInvoiceId: realInvoice.id, reason: 'charge.refunded' })).toEqual({
      outcome: 'already_reversed',
    });
    const adjustment = await db()
      .selectFrom('affiliate_commissions')
      .selectAll()
      .where('stripe_invoice_id', '=', realInvoice.id)
      .where('kind', '=', 'adjustment')
      .executeTakeFirstOrThrow();
    expect(adjustment).toMatchObject({ amount_cents: -980, status: 'eligible' });

    const a4 = await referredCustomer('alice-glow');
    await commission('in_alice_4', a4.userId, 20_000); // 4000
    const c2 = await referredCustomer('carol-glow');
    await commission('in_carol_2', c2.userId, 5_000); // 1000: Carol's 400 carried over + 1000
    await db().updateTable('affiliates').set({ stripe_connected_account_id: 'acct_1Bob' }).where('id', '=', bob.affiliateId).execute();
    await windowPassed('2025-03-10');

    const result = await runPayouts('2025-03-31');
    expect(result.totals).toMatchObject({ paid: 3, failed: 0, paidCents: 3_020 + 2_000 + 1_400 });
    expect(result.reconciliation).toMatchObject({ matched: true, transferCount: 3, transfersCents: 6_420 });
    const byDestination = Object.fromEntries(transfersOf('payouts:2025-03').map((t) => [t.destination, t.amount]));
    expect(byDestination).toEqual({ acct_1Alice: 3_020, acct_1Bob: 2_000, acct_1Carol: 1_400 });

    const me = await api(platform.apiUrl, 'GET', '/v1/affiliates/me', undefined, alice.caller.auth);
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({
      clicks: 1,
      conversions: 1,
      referrals: 4,
      totals: { pendingCents: 0, eligibleCents: 0, paidCents: 2_980 + 4_000 - 980, reversedCents: 1_000 },
    });
    expect(me.json.payouts.map((p: { period: string; amountCents: number }) => [p.period, p.amountCents])).toEqual([
      ['2025-03', 3_020],
      ['2025-02', 2_980],
    ]);
    const commissions = await api(platform.apiUrl, 'GET', '/v1/affiliates/me/commissions', undefined, alice.caller.auth);
    expect(commissions.json.commissions).toHaveLength(5);
  });

  it('a month Temporal already completed but our rows do not know of answers 409, not a second run', async () => {
    // Completed in Temporal (as by another stack on the namespace), then its job_runs row lost.
    await platform.client.workflow.execute('payoutsWorkflow', {
      workflowId: payoutsWorkflowId('2025-05'),
      taskQueue: platform.queues.main,
      args: [{ period: '2025-05', minimumPayoutCents: 1000 }],
    });
    await db().deleteFrom('job_runs').where('id', '=', payoutsWorkflowId('2025-05')).execute();
    const started = await api(platform.apiUrl, 'POST', '/v1/admin/payouts/run', { periodEnd: '2025-05-31' }, admin.auth);
    expect(started.status).toBe(409);
    expect(started.json).toMatchObject({ type: expect.stringMatching(/run-exists$/), runId: payoutsWorkflowId('2025-05') });
    const runs = platform.client.workflow.list({ query: `WorkflowId = '${payoutsWorkflowId('2025-05')}'` });
    let count = 0;
    for await (const _ of runs) count += 1;
    expect(count).toBe(1);
    // The row this request opened does not hold the caller's concurrency slot.
    expect(await db().selectFrom('job_runs').select('status').where('id', '=', payoutsWorkflowId('2025-05')).executeTakeFirst()).toEqual({
      status: 'failed',
    });
  });
});
