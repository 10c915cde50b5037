import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import Stripe from 'stripe';
import { providerCall } from '../../providers/call';
import { ProviderLimiter } from '../../providers/rate-limit';
import { constructStripeEvent, createStripeClient, StripeAdapter } from '../../providers/stripe';
import { signStripePayload, startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';

const SECRET = 'whsec_test_contract';

interface Received {
  signature: string;
  body: string;
  event: Stripe.Event;
}

/** A local webhook endpoint that verifies every delivery with the real constructEvent. */
async function startReceiver(answer: (n: number) => number = () => 200) {
  const received: Received[] = [];
  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      count += 1;
      const status = answer(count);
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['stripe-signature']);
      if (status < 300) received.push({ signature, body, event: constructStripeEvent(body, signature, SECRET) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/webhooks/stripe`,
    received,
    attempts: () => count,
    types: () => received.map((r) => r.event.type),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let sandbox: StripeSandbox;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let stripe: Stripe;
let adapter: StripeAdapter;
let limiter: ProviderLimiter;

beforeAll(async () => {
  receiver = await startReceiver();
  sandbox = await startStripeSandbox({ webhookSecret: SECRET, webhookUrl: receiver.url, deliveryRetryDelaysMs: [50, 100] });
  stripe = createStripeClient('sk_test_contract', sandbox.url);
});

beforeEach(() => {
  sandbox.server.reset();
  sandbox.setWebhookUrl(receiver.url);
  receiver.received.length = 0;
  limiter = new ProviderLimiter('stripe', { maxConcurrent: 4 });
  adapter = new StripeAdapter(stripe, providerCall(limiter));
});

afterAll(async () => {
  await sandbox.stop();
  await receiver.stop();
});

async function advance(subscription: string, action: string) {
  const res = await fetch(`${sandbox.url}/__sandbox/stripe/advance`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subscription, action }),
  });
  expect(res.status).toBe(200);
  await sandbox.idle();
}

async function completeCheckout(id: string) {
  const res = await fetch(`${sandbox.url}/__sandbox/stripe/checkout/${id}/complete`, { method: 'POST' });
  expect(res.status).toBe(200);
  await sandbox.idle();
}

describe('Stripe adapter against the sandbox', () => {
  test('customers: create is idempotent per user, retrieve returns it; a reused key with other params is refused', async () => {
    const first = await adapter.createCustomer({ userId: 'user-1', email: 'a@example.com' });
    const again = await adapter.createCustomer({ userId: 'user-1', email: 'a@example.com' });
    expect(again.id).toBe(first.id);
    expect(first.id).toMatch(/^cus_[A-Za-z0-9]{24}$/);
    expect(sandbox.state.customers.size).toBe(1);
    expect(await adapter.retrieveCustomer(first.id)).toEqual({ id: first.id, email: 'a@example.com', deleted: false });

    const conflicting = adapter.createCustomer({ userId: 'user-1', email: 'other@example.com' });
    await expect(conflicting).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    await expect(stripe.customers.create({ email: 'x@example.com' }, { idempotencyKey: 'customer:user-1' })).rejects.toBeInstanceOf(
      Stripe.errors.StripeIdempotencyError,
    );
    await expect(adapter.retrieveCustomer('cus_missing')).rejects.toMatchObject({ type: 'NotFound', nonRetryable: true });
  });

  test('subscription checkout with a trial: completion creates a trialing subscription and signed events', async () => {
    const customer = await adapter.createCustomer({ userId: 'user-2', email: 'b@example.com' });
    const session = await adapter.createSubscriptionCheckout({
      userId: 'user-2',
      customerId: customer.id,
      priceId: 'price_sandbox_premium_monthly',
      trialDays: 14,
      checkoutId: 'chk-1',
      successUrl: 'http://127.0.0.1/ok?session={CHECKOUT_SESSION_ID}',
      cancelUrl: 'http://127.0.0.1/cancel',
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url).toBe(`${sandbox.url}/__sandbox/stripe/checkout/${session.id}`);
    await completeCheckout(session.id);

    const completed = receiver.received.find((r) => r.event.type === 'checkout.session.completed')!.event.data
      .object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({
      id: session.id,
      client_reference_id: 'user-2',
      customer: customer.id,
      mode: 'subscription',
      status: 'complete',
    });
    const sub = await adapter.retrieveSubscription(completed.subscription as string);
    expect(sub).toMatchObject({
      customerId: customer.id,
      status: 'trialing',
      priceId: 'price_sandbox_premium_monthly',
      lookupKey: 'premium_monthly',
      cancelAtPeriodEnd: false,
    });
    expect(Date.parse(sub.trialEnd!) - Date.parse(sub.trialStart!)).toBe(14 * 86_400_000);
    expect(sub.currentPeriodEnd).toBe(sub.trialEnd);
    expect(receiver.types()).toEqual(
      expect.arrayContaining(['customer.subscription.created', 'invoice.paid', 'checkout.session.completed']),
    );
    const trialInvoice = await adapter.retrieveInvoice(sub.latestInvoiceId!);
    expect(trialInvoice).toMatchObject({ subscriptionId: sub.id, status: 'paid', amountPaid: 0, billingReason: 'subscription_create' });
  });

  test('lifecycle through the test clock: trial end, renewal, failed renewal, recovery, cancel at period end', async () => {
    const customer = await adapter.createCustomer({ userId: 'user-3', email: 'c@example.com' });
    const created = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: 'price_sandbox_basic_monthly' }],
      trial_period_days: 7,
    });
    await sandbox.idle();

    await advance(created.id, 'end_trial');
    let sub = await adapter.retrieveSubscription(created.id);
    expect(sub.status).toBe('active');
    expect(sub.currentPeriodStart).toBe(sub.trialEnd);
    const firstPeriodEnd = sub.currentPeriodEnd;

    await advance(created.id, 'renew');
    sub = await adapter.retrieveSubscription(created.id);
    expect(sub.currentPeriodStart).toBe(firstPeriodEnd);
    const paid = await adapter.retrieveInvoice(sub.latestInvoiceId!);
    expect(paid).toMatchObject({
      status: 'paid',
      amountPaid: 1900,
      billingReason: 'subscription_cycle',
      servicePeriodStart: firstPeriodEnd,
    });

    receiver.received.length = 0;
    await advance(created.id, 'renew_fail');
    const failed = receiver.received.find((r) => r.event.type === 'invoice.payment_failed');
    expect(failed).toBeDefined();
    // The delivery carries a valid Stripe-Signature for exactly these bytes.
    expect(() => constructStripeEvent(failed!.body, failed!.signature, SECRET)).not.toThrow();
    expect(failed!.event.data.object).toMatchObject({
      object: 'invoice',
      status: 'open',
      attempt_count: 1,
      parent: { subscription_details: { subscription: created.id } },
    });
    expect((await adapter.retrieveSubscription(created.id)).status).toBe('past_due');

    await advance(created.id, 'pay_latest');
    expect((await adapter.retrieveSubscription(created.id)).status).toBe('active');

    await advance(created.id, 'cancel_at_period_end');
    sub = await adapter.retrieveSubscription(created.id);
    expect(sub).toMatchObject({ status: 'active', cancelAtPeriodEnd: true, cancelAt: sub.currentPeriodEnd });
    await advance(created.id, 'renew');
    sub = await adapter.retrieveSubscription(created.id);
    expect(sub.status).toBe('canceled');
    expect(receiver.types()).toContain('customer.subscription.deleted');
    const updates = receiver.received
      .filter((r) => r.event.type === 'customer.subscription.updated')
      .map((r) => r.event.data.previous_attributes);
    expect(updates).toContainEqual({ status: 'past_due' });
  });

  test('plan change, cancel-at-period-end toggle and immediate cancel through the adapter', async () => {
    const customer = await adapter.createCustomer({ userId: 'user-4', email: 'd@example.com' });
    const created = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_sandbox_basic_monthly' }] });
    const upgraded = await adapter.updateSubscription(
      created.id,
      { priceId: 'price_sandbox_creator_monthly', prorationBehavior: 'always_invoice' },
      'change-1',
    );
    expect(upgraded.priceId).toBe('price_sandbox_creator_monthly');
    const proration = await adapter.retrieveInvoice(upgraded.latestInvoiceId!);
    expect(proration.billingReason).toBe('subscription_update');
    expect(proration.amountPaid).toBeGreaterThan(7000);
    expect((await adapter.updateSubscription(created.id, { cancelAtPeriodEnd: true }, 'change-2')).cancelAtPeriodEnd).toBe(true);
    const canceled = await adapter.cancelSubscription(created.id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.endedAt).not.toBeNull();
    await sandbox.idle();
    expect(receiver.types()).toEqual(expect.arrayContaining(['customer.subscription.updated', 'customer.subscription.deleted']));
  });

  test('credit top-up checkout, refund and the refunded charge traced back to its invoice', async () => {
    const session = await adapter.createCreditTopUpCheckout({
      userId: 'user-5',
      email: 'e@example.com',
      priceId: 'price_sbx_credits_100',
      credits: 100,
      checkoutId: 'topup-1',
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/cancel',
    });
    await completeCheckout(session.id);
    const completed = await adapter.retrieveCheckoutSession(session.id);
    expect(completed).toMatchObject({
      mode: 'payment',
      payment_status: 'paid',
      amount_total: 999,
      metadata: { kind: 'credit_topup', credits: '100', user_id: 'user-5' },
    });
    const charge = sandbox.state.chargeByPaymentIntent(completed.payment_intent as string);
    const refund = await adapter.refund({ chargeId: charge.id, refundId: 'refund-1', reason: 'requested_by_customer' });
    const replay = await adapter.refund({ chargeId: charge.id, refundId: 'refund-1', reason: 'requested_by_customer' });
    expect(replay.id).toBe(refund.id);
    expect(await adapter.retrieveCharge(charge.id)).toMatchObject({ amountRefunded: 999, refunded: true });
    await sandbox.idle();
    expect(receiver.types().filter((t) => t === 'charge.refunded')).toHaveLength(1);

    const customer = await adapter.createCustomer({ userId: 'user-6', email: 'f@example.com' });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: 'price_sandbox_premium_monthly' }] });
    await advance(sub.id, 'refund_latest');
    const refunded = receiver.received.filter((r) => r.event.type === 'charge.refunded').at(-1)!.event.data.object as Stripe.Charge;
    expect(await adapter.invoiceIdForPaymentIntent(refunded.payment_intent as string)).toBe(sub.latest_invoice);
  });

  test('transfers: the same payout id twice makes one transfer; listing a group sums what was paid', async () => {
    const input = { payoutId: 'payout-1', amount: 12_345, currency: 'usd', destination: 'acct_1Example', transferGroup: 'payouts:2026-10' };
    const first = await adapter.createTransfer(input);
    const retried = await adapter.createTransfer(input);
    expect(retried.id).toBe(first.id);
    await adapter.createTransfer({ ...input, payoutId: 'payout-2', amount: 5_000 });
    expect(sandbox.state.transfers.size).toBe(2);
    const keys = sandbox.server.requests
      .filter((r) => r.path === '/v1/transfers' && r.method === 'POST')
      .map((r) => r.headers['idempotency-key']);
    expect(keys).toEqual(['payout:payout-1', 'payout:payout-1', 'payout:payout-2']);
    const listed = await adapter.listTransfers('payouts:2026-10');
    expect(listed.reduce((sum, t) => sum + t.amount, 0)).toBe(17_345);
    await expect(adapter.createTransfer({ ...input, payoutId: 'payout-3', destination: 'not-an-account' })).rejects.toMatchObject({
      type: 'NotFound',
      nonRetryable: true,
    });
  });
});

describe('Stripe webhooks', () => {
  const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'invoice.paid', data: { object: {} } });

  test('a valid signature verifies; a tampered body or a stale timestamp is rejected', () => {
    expect(constructStripeEvent(payload, signStripePayload(payload, SECRET), SECRET).id).toBe('evt_1');
    // The sandbox signs exactly like stripe-node's own test helper.
    const timestamp = Math.floor(Date.now() / 1000);
    expect(signStripePayload(payload, SECRET, timestamp)).toBe(
      Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp }),
    );
    expect(() =>
      constructStripeEvent(payload.replace('invoice.paid', 'invoice.voided'), signStripePayload(payload, SECRET), SECRET),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
    const stale = signStripePayload(payload, SECRET, Math.floor(Date.now() / 1000) - 301);
    expect(() => constructStripeEvent(payload, stale, SECRET)).toThrow(/tolerance/);
    expect(() => constructStripeEvent(payload, signStripePayload(payload, 'whsec_other'), SECRET)).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  test('a failed delivery is retried until the endpoint answers 2xx; a resend duplicates the same event id', async () => {
    const flaky = await startReceiver((n) => (n <= 2 ? 503 : 200));
    sandbox.setWebhookUrl(flaky.url);
    try {
      await stripe.customers.create({ email: 'g@example.com' });
      await sandbox.idle();
      expect(flaky.attempts()).toBe(3);
      expect(flaky.types()).toEqual(['customer.created']);
      const delivery = sandbox.deliveries.at(-1)!;
      expect(delivery.attempts.map((a) => a.status)).toEqual([503, 503, 200]);

      const resend = await fetch(`${sandbox.url}/__sandbox/stripe/events/${delivery.eventId}/resend`, { method: 'POST' });
      expect(resend.status).toBe(202);
      await sandbox.idle();
      expect(flaky.received.map((r) => r.event.id)).toEqual([delivery.eventId, delivery.eventId]);
    } finally {
      await flaky.stop();
    }
  });
});

describe('Stripe faults classified for Temporal', () => {
  test('429 with Retry-After: the attempt fails retryable with the advertised delay, the next call waits it out and succeeds', async () => {
    sandbox.server.faults.inject({ match: { path: '/v1/customers' }, status: 429, retryAfterSeconds: 1 });
    const failure = await adapter.createCustomer({ userId: 'user-7', email: 'h@example.com' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RateLimited', nonRetryable: false, nextRetryDelay: 1000 });
    const started = Date.now();
    const customer = await adapter.createCustomer({ userId: 'user-7', email: 'h@example.com' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(customer.id).toMatch(/^cus_/);
  });

  test('500 twice then OK: two retryable failures, then success with one customer', async () => {
    sandbox.server.faults.inject({ match: { path: '/v1/customers' }, status: 500, times: 2 });
    for (let i = 0; i < 2; i += 1)
      await expect(adapter.createCustomer({ userId: 'user-8', email: 'i@example.com' })).rejects.toMatchObject({
        type: 'ProviderUnavailable',
        nonRetryable: false,
      });
    await adapter.createCustomer({ userId: 'user-8', email: 'i@example.com' });
    expect(sandbox.state.customers.size).toBe(1);
  });

  test('401 (revoked key) is non-retryable ProviderAuth', async () => {
    const revoked = new StripeAdapter(createStripeClient('not-a-key', sandbox.url), providerCall(limiter));
    await expect(revoked.retrieveSubscription('sub_x')).rejects.toMatchObject({ type: 'ProviderAuth', nonRetryable: true });
    sandbox.server.faults.inject({ status: 401 });
    await expect(adapter.retrieveSubscription('sub_x')).rejects.toMatchObject({ type: 'ProviderAuth', nonRetryable: true });
  });
});
