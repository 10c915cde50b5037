import { randomUUID } from 'node:crypto';
import type { Providers } from '../../providers';
import { providerCall } from '../../providers/call';
import { ProviderLimiter } from '../../providers/rate-limit';
import { createStripeClient, StripeAdapter } from '../../providers/stripe';
import { ADMIN_SCOPES } from '../../schemas/api-keys';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import type { DisputeObject } from '../../sandbox/stripe-state';
import {
  commissionDisputeWorkflowId,
  payoutsWorkflowId,
  type CommissionDisputeResult,
  type PayoutsResult,
} from '../../workflows/payouts/contract';
import { createCaller, type TestCaller } from '../api/fixtures';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { eventually } from '../helpers/eventually';

const SECRET = 'whsec_affiliate_disputes';
const WEBHOOK_PATH = '/v1/webhooks/stripe';

/**
 * Lost and won disputes of a referred customer's subscription payment, delivered by the Stripe
 * sandbox as signed `charge.dispute.closed` events to the real webhook route, on the real stack.
 */
describe('affiliates: disputes of referred payments (real webhook route + Stripe sandbox)', () => {
  let platform: TestPlatform;
  let sandbox: StripeSandbox;
  let adapter: StripeAdapter;
  let admin: TestCaller;
  let affiliateId: string;
  const db = () => platform.database.db;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ webhookSecret: SECRET, deliveryRetryDelaysMs: [200, 1_000] });
    adapter = new StripeAdapter(
      createStripeClient('sk_test_disputes', sandbox.url),
      providerCall(new ProviderLimiter('stripe', { maxConcurrent: 8 })),
    );
    platform = await startTestPlatform({
      env: { STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_SECRET_KEY: 'sk_test_disputes', AFFILIATE_MIN_PAYOUT_CENTS: '500' },
      providers: { stripe: adapter } as unknown as Providers,
    });
    sandbox.setWebhookUrl(`${platform.apiUrl}${WEBHOOK_PATH}`);
    admin = await createCaller(db(), { role: 'admin', scopes: ADMIN_SCOPES });
    const affiliate = await createCaller(db());
    const created = await api(
      platform.apiUrl,
      'POST',
      '/v1/affiliates',
      { referralCode: 'dana-glow', stripeConnectedAccountId: 'acct_1Dana' },
      affiliate.auth,
    );
    expect(created.status).toBe(201);
    affiliateId = created.json.id as string;
  });
  afterAll(async () => {
    await sandbox?.stop();
    await platform?.stop();
  });

  const commissionRows = (invoiceId: string) =>
    db()
      .selectFrom('affiliate_commissions')
      .select(['kind', 'status', 'amount_cents', 'reversal_reason', 'payout_id'])
      .where('stripe_invoice_id', '=', invoiceId)
      .orderBy('kind')
      .execute();
  const eventRow = (eventId: string) =>
    db().selectFrom('subscription_events').select(['status', 'event_type']).where('stripe_event_id', '=', eventId).executeTakeFirst();

  /**
   * A customer referred by the affiliate subscribes through checkout; the sandbox's invoice.paid
   * reaches the subscription workflow, which records the commission. Returns the paid charge.
   */
  async function referredSubscriber(): Promise<{ invoiceId: string; chargeId: string }> {
    const customer = await createCaller(db());
    expect((await api(platform.apiUrl, 'POST', '/v1/referrals', { referralCode: 'dana-glow' }, customer.auth)).status).toBe(201);
    const session = await adapter.createSubscriptionCheckout({
      userId: customer.userId,
      email: `${customer.userId}@example.test`,
      priceId: 'price_sandbox_premium_monthly',
      checkoutId: randomUUID(),
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/no',
    });
    const completed = (await (
      await fetch(`${sandbox.url}/__sandbox/stripe/checkout/${session.id}/complete`, { method: 'POST' })
    ).json()) as { subscription: string };
    const invoice = [...sandbox.state.invoices.values()].find(
      (i) =>
        (i.parent as { subscription_details?: { subscription?: string } } | null)?.subscription_details?.subscription ===
        completed.subscription,
    );
    if (!invoice?.charge) throw new Error('the sandbox did not charge the first invoice');
    await eventually(
      () => commissionRows(invoice.id),
      (rows) => rows.length === 1,
      'the commission of the paid invoice',
    );
    expect(await commissionRows(invoice.id)).toEqual([
      { kind: 'commission', status: 'pending', amount_cents: 980, reversal_reason: null, payout_id: null },
    ]);
    return { invoiceId: invoice.id, chargeId: invoice.charge };
  }

  async function disputeAndClose(chargeId: string, status: 'won' | 'lost'): Promise<string> {
    const opened = await fetch(`${sandbox.url}/__sandbox/stripe/charges/${chargeId}/dispute`, { method: 'POST' });
    expect(opened.status).toBe(200);
    const dispute = (await opened.json()) as DisputeObject;
    const closed = await fetch(`${sandbox.url}/__sandbox/stripe/disputes/${dispute.id}/close`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status }),
    });
    expect(closed.status).toBe(200);
    const event = sandbox.state.events.find((e) => e.type === 'charge.dispute.closed' && e.data.object.id === dispute.id);
    if (!event) throw new Error('the sandbox emitted no charge.dispute.closed');
    await sandbox.idle();
    expect(sandbox.deliveries.filter((d) => d.eventId === event.id).map((d) => d.state)).toEqual(['delivered']);
    return event.id;
  }

  it('a lost dispute reverses the pending commission; a duplicate delivery of the event changes nothing', async () => {
    const { invoiceId, chargeId } = await referredSubscriber();
    const eventId = await disputeAndClose(chargeId, 'lost');
    const result = (await platform.client.workflow.getHandle(commissionDisputeWorkflowId(eventId)).result()) as CommissionDisputeResult;
    expect(result).toEqual({ eventId, outcome: 'reversed' });
    expect(await commissionRows(invoiceId)).toEqual([
      { kind: 'commission', status: 'reversed', amount_cents: 980, reversal_reason: 'charge.dispute.lost', payout_id: null },
    ]);
    expect(await eventRow(eventId)).toEqual({ status: 'processed', event_type: 'charge.dispute.closed' });

    // Stripe delivers the same event again: acknowledged as a duplicate, no second workflow run, no second reversal.
    const resend = sandbox.resend(eventId);
    await sandbox.idle();
    expect(resend.state).toBe('delivered');
    const runs = [];
    for await (const run of platform.client.workflow.list({ query: `WorkflowId = '${commissionDisputeWorkflowId(eventId)}'` }))
      runs.push(run.runId);
    expect(runs).toHaveLength(1);
    expect(await commissionRows(invoiceId)).toEqual([
      { kind: 'commission', status: 'reversed', amount_cents: 980, reversal_reason: 'charge.dispute.lost', payout_id: null },
    ]);
    const requests = sandbox.server.requests.filter((r) => r.method === 'GET' && r.path === '/v1/invoice_payments');
    expect(requests).toHaveLength(1);
  });

  it('a won dispute leaves the commission as it was and starts nothing', async () => {
    const { invoiceId, chargeId } = await referredSubscriber();
    const eventId = await disputeAndClose(chargeId, 'won');
    expect(await eventRow(eventId)).toEqual({ status: 'ignored', event_type: 'charge.dispute.closed' });
    await expect(platform.client.workflow.getHandle(commissionDisputeWorkflowId(eventId)).describe()).rejects.toThrow(/not found/i);
    expect(await commissionRows(invoiceId)).toEqual([
      { kind: 'commission', status: 'pending', amount_cents: 980, reversal_reason: null, payout_id: null },
    ]);
  });

  it('a lost dispute of a commission already paid out becomes a negative adjustment netted in the next payout', async () => {
    const { invoiceId, chargeId } = await referredSubscriber();
    // Every open commission (this one and the won dispute's) passes its refund window.
    await db()
      .updateTable('affiliate_commissions')
      .set({ eligible_at: new Date('2025-04-10T12:00:00Z') })
      .where('status', '=', 'pending')
      .execute();
    const paid = await api(platform.apiUrl, 'POST', '/v1/admin/payouts/run', { periodEnd: '2025-04-30' }, admin.auth);
    expect(paid.status).toBe(202);
    await platform.client.workflow.getHandle(payoutsWorkflowId('2025-04')).result();
    expect(await commissionRows(invoiceId)).toEqual([
      { kind: 'commission', status: 'paid', amount_cents: 980, reversal_reason: null, payout_id: expect.any(String) },
    ]);

    const eventId = await disputeAndClose(chargeId, 'lost');
    const result = (await platform.client.workflow.getHandle(commissionDisputeWorkflowId(eventId)).result()) as CommissionDisputeResult;
    expect(result.outcome).toBe('adjusted');
    expect(await commissionRows(invoiceId)).toEqual([
      { kind: 'adjustment', status: 'eligible', amount_cents: -980, reversal_reason: 'charge.dispute.lost', payout_id: null },
      { kind: 'commission', status: 'paid', amount_cents: 980, reversal_reason: null, payout_id: expect.any(String) },
    ]);

    // This month: a new commission of 980 nets against the -980 clawback, leaving nothing to pay.
    const next = await referredSubscriber();
    await db()
      .updateTable('affiliate_commissions')
      .set({ eligible_at: new Date(Date.now() - 60_000) })
      .where('stripe_invoice_id', '=', next.invoiceId)
      .execute();
    const today = new Date().toISOString().slice(0, 10);
    expect((await api(platform.apiUrl, 'POST', '/v1/admin/payouts/run', { periodEnd: today }, admin.auth)).status).toBe(202);
    const netted = (await platform.client.workflow.getHandle(payoutsWorkflowId(today.slice(0, 7))).result()) as PayoutsResult;
    expect(netted.totals).toMatchObject({ paid: 0, paidCents: 0 });
    expect([...sandbox.state.transfers.values()].filter((t) => t.transfer_group === `payouts:${today.slice(0, 7)}`)).toEqual([]);
    const waiting = await db()
      .selectFrom('affiliate_commissions')
      .select(['amount_cents', 'status'])
      .where('affiliate_id', '=', affiliateId)
      .where('status', '=', 'eligible')
      .orderBy('amount_cents')
      .execute();
    expect(waiting).toEqual([
      { amount_cents: -980, status: 'eligible' },
      { amount_cents: 980, status: 'eligible' },
    ]);
  });
});
