import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import Stripe from 'stripe';
import type { Providers } from '../../providers';
import { HttpMailer } from '../../providers/email';
import { SANDBOX_CREDENTIALS } from '../../lib/sandbox-credentials';
import { startEmailSandbox, type EmailSandbox } from '../../sandbox/email';
import { providerCall } from '../../providers/call';
import { ProviderLimiter } from '../../providers/rate-limit';
import { createStripeClient, StripeAdapter } from '../../providers/stripe';
import { createApiKey } from '../../db/repositories/api-keys';
import { createUser } from '../../db/repositories/users';
import { upsertNotificationSettings } from '../../db/repositories/notifications';
import { USER_SCOPES } from '../../schemas/api-keys';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import type { AdvanceAction, EventObject } from '../../sandbox/stripe-state';
import { billingEventWorkflowId, subscriptionStateQuery, subscriptionWorkflowId } from '../../workflows/subscription/contract';
import { runSubscriptionJourney, SUBSCRIPTION_JOURNEY, type JourneySnapshot } from '../../scripts/subscription-journey';
import { api, startTestPlatform, type TestPlatform } from '../helpers/platform';
import { eventually } from '../helpers/eventually';
import { decodedPayload } from '../helpers/temporal';

const SECRET = 'whsec_integration_test';
const WEBHOOK_PATH = '/v1/webhooks/stripe';
/** Seeded plan prices; the Stripe sandbox's catalogue carries the same ids. */
type SeededPrice = 'price_sandbox_basic_monthly' | 'price_sandbox_premium_monthly' | 'price_sandbox_creator_monthly';

/** The real stack (PostgreSQL, Temporal, worker, API) with the Stripe sandbox delivering signed webhooks to it. */
describe('Stripe webhooks → subscription workflow (real stack + Stripe sandbox)', () => {
  let platform: TestPlatform;
  let sandbox: StripeSandbox;
  let adapter: StripeAdapter;
  let mailSandbox: EmailSandbox;

  beforeAll(async () => {
    sandbox = await startStripeSandbox({ webhookSecret: SECRET, deliveryRetryDelaysMs: [200, 1_000] });
    adapter = new StripeAdapter(
      createStripeClient('sk_test_integration', sandbox.url),
      providerCall(new ProviderLimiter('stripe', { maxConcurrent: 8 })),
    );
    mailSandbox = await startEmailSandbox({ apiKey: SANDBOX_CREDENTIALS.emailApiKey });
    const mailer = new HttpMailer(
      { baseUrl: mailSandbox.url, apiKey: SANDBOX_CREDENTIALS.emailApiKey, from: 'Billing <billing@creator-jobs.test>' },
      providerCall(new ProviderLimiter('email', { maxConcurrent: 4 })),
    );
    platform = await startTestPlatform({
      env: { STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_SECRET_KEY: 'sk_test_integration' },
      providers: { stripe: adapter, mailer } as unknown as Providers,
    });
    sandbox.setWebhookUrl(`${platform.apiUrl}${WEBHOOK_PATH}`);
  });
  afterAll(async () => {
    await sandbox?.stop();
    await mailSandbox?.stop();
    await platform?.stop();
  });

  const db = () => platform.database.db;

  async function newUser() {
    const user = await createUser(db(), { email: `billing-${randomUUID()}@example.test` });
    const { plaintext } = await createApiKey(db(), { userId: user.id, name: 'test', scopes: [...USER_SCOPES] });
    return { id: user.id, email: user.email, auth: { authorization: `Bearer ${plaintext}` } };
  }

  const eventRows = (ids: string[]) =>
    db()
      .selectFrom('subscription_events')
      .select(['stripe_event_id', 'status', 'event_type'])
      .where('stripe_event_id', 'in', ids)
      .execute();

  /** Waits until the sandbox delivered everything and the platform handled every event it stored. */
  async function settled(): Promise<void> {
    await sandbox.idle();
    await eventually(
      () => db().selectFrom('subscription_events').select('stripe_event_id').where('status', '=', 'pending').execute(),
      (rows) => rows.length === 0,
      'no pending events',
    );
  }

  const advance = (subscription: string, action: AdvanceAction) =>
    fetch(`${sandbox.url}/__sandbox/stripe/advance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subscription, action }),
    }).then((r) => expect(r.status).toBe(200));

  async function subscribe(userId: string, email: string, priceId: SeededPrice, trialDays?: number): Promise<string> {
    const session = await adapter.createSubscriptionCheckout({
      userId,
      email,
      priceId,
      trialDays,
      checkoutId: randomUUID(),
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/no',
    });
    const res = await fetch(`${sandbox.url}/__sandbox/stripe/checkout/${session.id}/complete`, { method: 'POST' });
    const completed = (await res.json()) as { subscription: string };
    return completed.subscription;
  }

  const userRow = (id: string) =>
    db()
      .selectFrom('users')
      .select(['subscription_tier', 'subscription_status', 'subscription_period_end', 'stripe_customer_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  const subscriptionRow = (id: string) =>
    db().selectFrom('user_subscriptions').selectAll().where('stripe_subscription_id', '=', id).executeTakeFirst();
  const ledger = (userId: string) =>
    db()
      .selectFrom('credit_transactions')
      .select(['amount', 'transaction_type', 'balance_after', 'idempotency_key'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('balance_after')
      .execute();
  const usage = (userId: string) =>
    db()
      .selectFrom('subscription_usage')
      .select(['period_start', 'period_end', 'videos_processed', 'usage_limit'])
      .where('user_id', '=', userId)
      .orderBy('period_start')
      .execute();

  /** The sandbox's paid billing-cycle invoices of a subscription (its customer is the test user's own), oldest first. */
  const paidCycleInvoices = (subscriptionId: string) =>
    [...sandbox.state.invoices.values()]
      .filter(
        (i) =>
          i.customer === sandbox.state.subscription(subscriptionId).customer &&
          i.billing_reason === 'subscription_cycle' &&
          i.status === 'paid' &&
          i.amount_paid > 0,
      )
      .map((i) => i.id);

  function signedPost(payload: string, header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET })) {
    return fetch(`${platform.apiUrl}${WEBHOOK_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
  }

  async function signalCount(handle: WorkflowHandle, eventId: string): Promise<number> {
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).flatMap((e) =>
      e.workflowExecutionSignaledEventAttributes ? [e.workflowExecutionSignaledEventAttributes] : [],
    );
    const carriesEvent = await Promise.all(
      signals.map(async (s) =>
        (await Promise.all((s.input?.payloads ?? []).map(decodedPayload))).some((arg) => JSON.stringify(arg).includes(eventId)),
      ),
    );
    return carriesEvent.filter(Boolean).length;
  }

  it('rejects a bad signature, a tampered body and a stale timestamp with 400, storing and signalling nothing', async () => {
    const subscriptionId = `sub_sig_${randomUUID().slice(0, 8)}`;
    const event = {
      id: `evt_sig_${randomUUID().slice(0, 8)}`,
      object: 'event',
      type: 'customer.subscription.updated',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: subscriptionId, object: 'subscription' } },
    };
    const payload = JSON.stringify(event);
    const attempts = [
      signedPost(payload, Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else' })),
      signedPost(
        payload.replace('customer.subscription.updated', 'customer.subscription.deleted'),
        Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }),
      ),
      signedPost(
        payload,
        Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 600 }),
      ),
      fetch(`${platform.apiUrl}${WEBHOOK_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(await res.json()).toMatchObject({ status: 400 });
    }
    expect(await eventRows([event.id])).toEqual([]);
    await expect(platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).describe()).rejects.toThrow(/not found/i);

    // The same body, correctly signed: stored, and signalWithStart reached `subscription:<id>`.
    const accepted = await signedPost(payload);
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ received: true, duplicate: false, routedTo: subscriptionWorkflowId(subscriptionId) });
    expect((await eventRows([event.id])).map((r) => r.event_type)).toEqual(['customer.subscription.updated']);
    const handle = platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId));
    expect(await signalCount(handle, event.id)).toBe(1);
    // Stripe knows no such subscription: the event fails alone, recorded as failed.
    await eventually(
      () => eventRows([event.id]),
      (rows) => rows[0]?.status === 'failed',
      'event marked failed',
    );

    const duplicate = await signedPost(payload);
    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toEqual({ received: true, duplicate: true, routedTo: null });
    expect(await signalCount(handle, event.id)).toBe(1);
    await handle.terminate();
  });

  it('drives checkout → trial → renewals → failed payment (dunning) → recovery → cancel at period end → free', async () => {
    const user = await newUser();
    const subscriptionId = await subscribe(user.id, user.email, 'price_sandbox_premium_monthly', 14);
    const handle = platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId));

    // Trial: premium access, one (trial) usage period, no credits for a $0 invoice.
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_tier === 'premium',
      'trial tier',
    );
    expect(await userRow(user.id)).toMatchObject({
      subscription_status: 'trialing',
      stripe_customer_id: sandbox.state.subscription(subscriptionId).customer,
    });
    expect(await subscriptionRow(subscriptionId)).toMatchObject({
      user_id: user.id,
      status: 'trialing',
      stripe_price_id: 'price_sandbox_premium_monthly',
    });
    expect(await usage(user.id)).toHaveLength(1);
    expect(await ledger(user.id)).toEqual([]);
    const trialView = await api(platform.apiUrl, 'GET', '/v1/subscription', undefined, user.auth);
    expect(trialView.json).toMatchObject({
      tier: 'premium',
      source: 'workflow',
      subscription: { stripeSubscriptionId: subscriptionId, plan: 'premium', status: 'trialing' },
    });

    // Trial converts, then renews twice: a fresh usage row and 300 credits per paid period.
    for (const action of ['end_trial', 'renew', 'renew'] as const) {
      await advance(subscriptionId, action);
      await settled();
    }
    await eventually(
      () => ledger(user.id),
      (rows) => rows.length === 3,
      'three grants',
    );
    expect((await ledger(user.id)).map((r) => [r.transaction_type, r.amount, r.balance_after])).toEqual([
      ['subscription_grant', 300, 300],
      ['subscription_grant', 300, 600],
      ['subscription_grant', 300, 900],
    ]);
    const periods = await usage(user.id);
    expect(periods).toHaveLength(4);
    expect(periods.every((p) => p.videos_processed === 0 && p.usage_limit === 30)).toBe(true);
    const sub = sandbox.state.subscription(subscriptionId);
    await eventually(
      () => subscriptionRow(subscriptionId),
      (row) => row?.status === 'active',
      'active',
    );
    expect((await subscriptionRow(subscriptionId))!.current_period_end!.getTime()).toBe(sub.items.data[0]!.current_period_end * 1000);
    expect((await userRow(user.id)).subscription_period_end!.getTime()).toBe(sub.items.data[0]!.current_period_end * 1000);
    // New behaviour (issue T item 4): every paid billing cycle (the trial's conversion and both renewals) sends
    // exactly one "subscription renewed" email, keyed by its invoice; the $0 trial invoice sends none.
    const mailTo = () => mailSandbox.messages.filter((m) => m.to.includes(user.email));
    const renewalMails = () => mailTo().filter((m) => m.subject === 'Your subscription renewed');
    expect(renewalMails().map((m) => m.idempotencyKey)).toEqual(
      paidCycleInvoices(subscriptionId).map((invoiceId) => `subscription_renewal:${invoiceId}`),
    );
    expect(renewalMails()).toHaveLength(3);
    expect(renewalMails()[0]!.tags).toEqual(expect.arrayContaining([{ name: 'kind', value: 'subscription_renewal' }]));

    // A failed renewal: past_due, dunning starts (day-0 reminder), access kept during the grace period.
    await advance(subscriptionId, 'renew_fail');
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_status === 'past_due',
      'past_due',
    );
    expect((await userRow(user.id)).subscription_tier).toBe('premium');
    // The three renewal emails above, then the dunning reminder.
    await eventually(
      async () => mailTo(),
      (list) => list.length === 4,
      'day-0 reminder',
    );
    expect(mailTo()[3]).toMatchObject({
      subject: 'Your payment did not go through',
      tags: expect.arrayContaining([{ name: 'template', value: 'dunning_reminder' }]),
    });
    expect(mailTo()[3]!.idempotencyKey).toMatch(/^dunning:.*:0$/);
    const dunningView = await api(platform.apiUrl, 'GET', '/v1/subscription', undefined, user.auth);
    expect(dunningView.json.dunning).toMatchObject({ remindersSent: 1 });
    expect(Date.parse(dunningView.json.dunning.graceEndsAt) - Date.parse(dunningView.json.dunning.startedAt)).toBe(14 * 86_400_000);
    expect(
      await db()
        .selectFrom('payments')
        .select('status')
        .where('stripe_invoice_id', '=', sandbox.state.subscription(subscriptionId).latest_invoice!)
        .executeTakeFirst(),
    ).toEqual({ status: 'failed' });

    // Paid after all: active again, dunning over, that period's credits granted.
    await advance(subscriptionId, 'pay_latest');
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_status === 'active',
      'recovered',
    );
    // The row is written by an activity; the workflow ends dunning once that activity has returned.
    await eventually(
      async () => (await handle.query(subscriptionStateQuery)).dunning,
      (dunning) => dunning === null,
      'dunning over',
    );
    expect((await ledger(user.id)).at(-1)).toMatchObject({ amount: 300, balance_after: 1200 });

    // Cancel at period end: access stays until Stripe ends the subscription at the period's end.
    await advance(subscriptionId, 'cancel_at_period_end');
    await settled();
    await eventually(
      () => subscriptionRow(subscriptionId),
      (row) => row?.cancel_at_period_end === true,
      'cancel_at_period_end',
    );
    expect((await userRow(user.id)).subscription_tier).toBe('premium');
    await advance(subscriptionId, 'renew');
    await settled();
    expect(await handle.result()).toMatchObject({ stripeSubscriptionId: subscriptionId, finalStatus: 'canceled' });
    expect(await userRow(user.id)).toMatchObject({ subscription_tier: 'free', subscription_status: 'canceled' });
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: 'canceled' });
    // The subscription's run is listed as the user's (from PostgreSQL) and its row closed with the workflow.
    const runs = await api(platform.apiUrl, 'GET', '/v1/runs?type=subscription', undefined, user.auth);
    expect(runs.json.data).toEqual([
      expect.objectContaining({
        id: subscriptionWorkflowId(subscriptionId),
        type: 'subscription',
        status: 'completed',
        closedAt: expect.any(String),
      }),
    ]);

    // Data is kept: the ledger and usage history stay; GET /v1/credits shows them.
    const credits = await api(platform.apiUrl, 'GET', '/v1/credits?limit=2', undefined, user.auth);
    expect(credits.json).toMatchObject({ balance: 1200, totalGranted: 1200 });
    expect(credits.json.history).toHaveLength(2);
    const next = await api(platform.apiUrl, 'GET', `/v1/credits?limit=2&cursor=${credits.json.nextCursor}`, undefined, user.auth);
    expect(next.json.history.map((h: { balanceAfter: number }) => h.balanceAfter)).toEqual([600, 300]);
    expect(next.json.nextCursor).toBeNull();
    const payments = await db()
      .selectFrom('payments')
      .select(['status', 'amount_cents'])
      .where('stripe_subscription_id', '=', subscriptionId)
      .execute();
    expect(payments.map((p) => [p.status, p.amount_cents])).toEqual(expect.arrayContaining([['succeeded', 4900]]));
    expect(payments).toHaveLength(4);

    // A refund of the last paid invoice is recorded on its payment row.
    await advance(subscriptionId, 'refund_latest');
    await settled();
    expect(
      await db()
        .selectFrom('payments')
        .select('id')
        .where('stripe_subscription_id', '=', subscriptionId)
        .where('status', '=', 'refunded')
        .execute(),
    ).toHaveLength(1);
  });

  it('sends a renewal email once per renewed invoice, and none to a user who turned renewal emails off', async () => {
    const renewalMailsTo = (email: string) =>
      mailSandbox.messages.filter((m) => m.to.includes(email) && m.subject === 'Your subscription renewed');
    const wanting = await newUser();
    const quiet = await newUser();
    await upsertNotificationSettings(db(), quiet.id, { subscription_renewal: false });
    const wantingSubscription = await subscribe(wanting.id, wanting.email, 'price_sandbox_basic_monthly');
    const quietSubscription = await subscribe(quiet.id, quiet.email, 'price_sandbox_basic_monthly');
    await settled();
    // The first invoice (subscription_create) is no renewal.
    expect(renewalMailsTo(wanting.email)).toEqual([]);
    await advance(wantingSubscription, 'renew');
    await advance(quietSubscription, 'renew');
    await settled();
    const [renewedInvoice] = paidCycleInvoices(wantingSubscription);
    await eventually(
      async () => renewalMailsTo(wanting.email),
      (list) => list.length === 1,
      'one renewal email',
    );
    expect(renewalMailsTo(wanting.email)[0]).toMatchObject({ idempotencyKey: `subscription_renewal:${renewedInvoice}` });
    expect(renewalMailsTo(wanting.email)[0]!.text).toMatch(/Your basic plan renewed for/);

    // The same invoice.paid replayed under a fresh event id is processed again, but mails nothing new.
    const paidEvent = sandbox.state.events.find(
      (e) => e.type === 'invoice.paid' && (e.data.object as { id: string }).id === renewedInvoice,
    )!;
    const replayed = { ...paidEvent, id: `evt_replay_${randomUUID().slice(0, 8)}` };
    expect((await signedPost(JSON.stringify(replayed))).status).toBe(200);
    await settled();
    expect(await eventRows([replayed.id])).toEqual([{ stripe_event_id: replayed.id, status: 'processed', event_type: 'invoice.paid' }]);
    expect(renewalMailsTo(wanting.email)).toHaveLength(1);

    // Renewal emails turned off: nothing sent, the renewal recorded as skipped (so a retry does not ask again).
    const [quietInvoice] = paidCycleInvoices(quietSubscription);
    expect(quietInvoice).toBeDefined();
    expect(renewalMailsTo(quiet.email)).toEqual([]);
    expect(
      await db()
        .selectFrom('notification_deliveries')
        .select(['dedupe_key', 'status'])
        .where('user_id', 'in', [wanting.id, quiet.id])
        .orderBy('status')
        .execute(),
    ).toEqual([
      { dedupe_key: `subscription_renewal:${renewedInvoice}`, status: 'sent' },
      { dedupe_key: `subscription_renewal:${quietInvoice}`, status: 'skipped' },
    ]);
  });

  it('handles the same event delivered 5 times at once as one state change', async () => {
    const user = await newUser();
    const subscriptionId = await subscribe(user.id, user.email, 'price_sandbox_basic_monthly');
    await settled();
    await advance(subscriptionId, 'cancel_at_period_end');
    await settled();
    const event = sandbox.state.events
      .filter((e) => e.type === 'customer.subscription.updated' && (e.data.object as { id: string }).id === subscriptionId)
      .at(-1)!;
    const payload = JSON.stringify(event);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => signedPost(payload).then((r) => r.json() as Promise<{ duplicate: boolean }>)),
    );
    // The sandbox's own delivery came first, so all five are duplicates: none reaches the workflow.
    expect(answers.every((a) => a.duplicate)).toBe(true);

    // A fresh event id, sent five times concurrently: one row, one signal, one processing.
    const fresh = { ...event, id: `evt_conc_${randomUUID().slice(0, 8)}` };
    const freshPayload = JSON.stringify(fresh);
    const freshAnswers = await Promise.all(
      Array.from({ length: 5 }, () =>
        signedPost(freshPayload).then(async (r) => ({ status: r.status, body: (await r.json()) as { duplicate: boolean } })),
      ),
    );
    expect(freshAnswers.every((a) => a.status === 200)).toBe(true);
    expect(freshAnswers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    await settled();
    expect(await eventRows([fresh.id])).toEqual([
      { stripe_event_id: fresh.id, status: 'processed', event_type: 'customer.subscription.updated' },
    ]);
    expect(await signalCount(platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId)), fresh.id)).toBe(1);
  });

  it('ends in the provider state when events arrive in reverse order', async () => {
    const user = await newUser();
    sandbox.setWebhookUrl(undefined);
    const firstEvent = sandbox.state.events.length;
    const subscriptionId = await subscribe(user.id, user.email, 'price_sandbox_creator_monthly', 7);
    await advance(subscriptionId, 'end_trial');
    await advance(subscriptionId, 'cancel_at_period_end');
    sandbox.setWebhookUrl(`${platform.apiUrl}${WEBHOOK_PATH}`);
    const events: EventObject[] = sandbox.state.events.slice(firstEvent).reverse();
    for (const event of events) expect((await signedPost(JSON.stringify(event))).status).toBe(200);
    await settled();

    const provider = sandbox.state.subscription(subscriptionId);
    const row = await subscriptionRow(subscriptionId);
    expect(row).toMatchObject({ status: provider.status, cancel_at_period_end: true, stripe_price_id: 'price_sandbox_creator_monthly' });
    expect(row!.current_period_end!.getTime()).toBe(provider.items.data[0]!.current_period_end * 1000);
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_tier === 'creator',
      'creator tier',
    );
    expect(await ledger(user.id)).toEqual([
      expect.objectContaining({ transaction_type: 'subscription_grant', amount: 1000, balance_after: 1000 }),
    ]);
  });

  it('adds one-time credit top-ups exactly once, also when Stripe redelivers the event', async () => {
    const user = await newUser();
    const session = await adapter.createCreditTopUpCheckout({
      userId: user.id,
      email: user.email,
      priceId: 'price_sbx_credits_100',
      credits: 100,
      checkoutId: randomUUID(),
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/no',
    });
    await fetch(`${sandbox.url}/__sandbox/stripe/checkout/${session.id}/complete`, { method: 'POST' });
    await settled();
    await eventually(
      () => ledger(user.id),
      (rows) => rows.length === 1,
      'top-up',
    );
    const event = sandbox.state.events.find(
      (e) => e.type === 'checkout.session.completed' && (e.data.object as { id: string }).id === session.id,
    )!;
    sandbox.resend(event.id);
    await settled();
    expect(await ledger(user.id)).toEqual([
      { amount: 100, transaction_type: 'purchase', balance_after: 100, idempotency_key: `credit_topup:${session.id}` },
    ]);
    expect(await db().selectFrom('payments').select(['payment_type', 'amount_cents']).where('user_id', '=', user.id).execute()).toEqual([
      { payment_type: 'credit_topup', amount_cents: 999 },
    ]);
    expect(await eventRows([event.id])).toEqual([expect.objectContaining({ status: 'processed' })]);
  });

  it('answers 400 problem+json to a validly signed but malformed event, storing and signalling nothing', async () => {
    const tag = `evt_bad_${randomUUID().slice(0, 8)}`;
    const subscriptionId = `sub_bad_${randomUUID().slice(0, 8)}`;
    const now = Math.floor(Date.now() / 1000);
    const base = {
      object: 'event',
      type: 'customer.subscription.updated',
      created: now,
      data: { object: { id: subscriptionId, object: 'subscription' } },
    };
    const malformed: Array<[string, unknown]> = [
      ['no data', { ...base, id: `${tag}_1`, data: undefined }],
      ['data.object null', { ...base, id: `${tag}_2`, data: { object: null } }],
      ['data.object not an object', { ...base, id: `${tag}_3`, data: { object: subscriptionId } }],
      ['type not a string', { ...base, id: `${tag}_4`, type: 42 }],
      ['created not a number', { ...base, id: `${tag}_5`, created: 'yesterday' }],
      ['client_reference_id not a string', { ...base, id: `${tag}_6`, data: { object: { ...base.data.object, client_reference_id: 7 } } }],
      ['an id over 255 characters', { ...base, id: `${tag}_${'a'.repeat(300)}` }],
      [
        'a subscription id over 255 characters',
        { ...base, id: `${tag}_8`, data: { object: { id: `${subscriptionId}${'x'.repeat(300)}`, object: 'subscription' } } },
      ],
      ['created a day in the future', { ...base, id: `${tag}_9`, created: now + 86_400 }],
      ['not an object at all', [base]],
    ];
    for (const [what, event] of malformed) {
      const res = await signedPost(JSON.stringify(event));
      expect([what, res.status, res.headers.get('content-type')]).toEqual([
        what,
        400,
        expect.stringMatching(/^application\/problem\+json/),
      ]);
      expect(await res.json()).toMatchObject({ status: 400 });
    }
    expect(
      await db().selectFrom('subscription_events').select('stripe_event_id').where('stripe_event_id', 'like', `${tag}%`).execute(),
    ).toEqual([]);
    await expect(platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).describe()).rejects.toThrow(/not found/i);

    // The same event well formed is accepted: the refusals above were about the shape alone.
    expect((await signedPost(JSON.stringify({ ...base, id: `${tag}_ok` }))).status).toBe(200);
    // Stripe knows no such subscription: the event fails alone, recorded as failed.
    await eventually(
      () => eventRows([`${tag}_ok`]),
      (rows) => rows[0]?.status === 'failed',
      'event marked failed',
    );
    await platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).terminate();
  });

  it('grants a top-up the credits Stripe sold, whatever a signed event claims (forged metadata.credits and amount_total)', async () => {
    const user = await newUser();
    sandbox.setWebhookUrl(undefined);
    const session = await adapter.createCreditTopUpCheckout({
      userId: user.id,
      email: user.email,
      priceId: 'price_sbx_credits_100',
      credits: 100,
      checkoutId: randomUUID(),
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/no',
    });
    await fetch(`${sandbox.url}/__sandbox/stripe/checkout/${session.id}/complete`, { method: 'POST' });
    sandbox.setWebhookUrl(`${platform.apiUrl}${WEBHOOK_PATH}`);
    const real = sandbox.state.events.find(
      (e) => e.type === 'checkout.session.completed' && (e.data.object as { id: string }).id === session.id,
    )!;
    const forge = (id: string, object: Record<string, unknown>) => ({
      ...real,
      id,
      data: { object: { ...real.data.object, ...object, metadata: { kind: 'credit_topup', user_id: user.id, credits: '1000000' } } },
    });

    const forged = forge(`evt_forged_${randomUUID().slice(0, 8)}`, { amount_total: 0 });
    expect((await signedPost(JSON.stringify(forged))).status).toBe(200);
    expect(await platform.client.workflow.getHandle(billingEventWorkflowId(forged.id)).result()).toEqual({
      eventId: forged.id,
      outcome: 'credits_granted',
    });
    expect(await ledger(user.id)).toEqual([
      { amount: 100, transaction_type: 'purchase', balance_after: 100, idempotency_key: `credit_topup:${session.id}` },
    ]);
    expect(await db().selectFrom('payments').select(['payment_type', 'amount_cents']).where('user_id', '=', user.id).execute()).toEqual([
      { payment_type: 'credit_topup', amount_cents: 999 },
    ]);

    // A session Stripe never saw grants nothing.
    const invented = forge(`evt_invented_${randomUUID().slice(0, 8)}`, { id: `cs_test_invented${randomUUID().replace(/-/g, '')}` });
    expect((await signedPost(JSON.stringify(invented))).status).toBe(200);
    await expect(platform.client.workflow.getHandle(billingEventWorkflowId(invented.id)).result()).rejects.toThrow();
    expect(await ledger(user.id)).toHaveLength(1);
    // A failed billing-event run leaves its row pending: settle it, so later tests wait on their own events only.
    await db().updateTable('subscription_events').set({ status: 'failed' }).where('stripe_event_id', '=', invented.id).execute();
  });

  it('pauses access while Stripe pauses the subscription, restores it on resume, and asks for payment authentication when the bank does', async () => {
    const user = await newUser();
    const subscriptionId = await subscribe(user.id, user.email, 'price_sandbox_premium_monthly', 14);
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_tier === 'premium',
      'trial tier',
    );
    const typesHandled = async () =>
      (
        await db()
          .selectFrom('subscription_events')
          .select(['event_type', 'status'])
          .where('stripe_subscription_id', '=', subscriptionId)
          .execute()
      )
        .filter((e) => e.status === 'processed')
        .map((e) => e.event_type);

    // Trial ended without a payment method: Stripe pauses the subscription, and paid access pauses with it.
    await advance(subscriptionId, 'pause');
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_tier === 'free',
      'access paused',
    );
    expect(await userRow(user.id)).toMatchObject({ subscription_status: 'paused' });
    expect(await subscriptionRow(subscriptionId)).toMatchObject({ status: 'paused' });
    expect(await typesHandled()).toContain('customer.subscription.paused');

    // Resumed: a new period, paid at once, brings the plan and its credits back.
    await advance(subscriptionId, 'resume');
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_tier === 'premium' && u.subscription_status === 'active',
      'resumed',
    );
    expect(await typesHandled()).toEqual(expect.arrayContaining(['customer.subscription.resumed', 'invoice.paid']));
    await eventually(
      () => ledger(user.id),
      (rows) => rows.length === 1,
      'resumed period credits',
    );

    // The renewal needs the customer's authentication: past due with an "action required" email, access kept meanwhile.
    await advance(subscriptionId, 'renew_action_required');
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_status === 'past_due',
      'past_due',
    );
    expect((await userRow(user.id)).subscription_tier).toBe('premium');
    expect(await typesHandled()).toContain('invoice.payment_action_required');
    const mail = await eventually(
      async () => mailSandbox.messages.filter((m) => m.to.includes(user.email) && m.subject === 'Confirm your payment'),
      (list) => list.length === 1,
      'action-required email',
    );
    expect(mail[0]!.tags).toEqual(expect.arrayContaining([{ name: 'template', value: 'payment_action_required' }]));
    // The day-0 dunning reminder goes out beside it (its own activity): wait for the workflow to count it.
    const pastDue = await eventually(
      async () =>
        (await api(platform.apiUrl, 'GET', '/v1/subscription', undefined, user.auth)).json as { dunning?: { remindersSent?: number } },
      (view) => view.dunning?.remindersSent === 1,
      'day-0 dunning reminder',
    );
    expect(pastDue).toMatchObject({ subscription: { status: 'past_due' }, dunning: { remindersSent: 1 } });

    // Authenticated and paid: active again, that period's credits granted.
    await advance(subscriptionId, 'pay_latest');
    await settled();
    await eventually(
      () => userRow(user.id),
      (u) => u.subscription_status === 'active',
      'recovered',
    );
    await eventually(
      () => ledger(user.id),
      (rows) => rows.length === 2,
      'second grant',
    );
  });

  it("the demo script's journey (scripts/subscription-journey.ts) reaches every step's state", async () => {
    const user = await newUser();
    const seen: Array<{ title: string; snapshot: JourneySnapshot }> = [];
    const subscriptionId = await runSubscriptionJourney({
      db: db(),
      stripeSandboxUrl: sandbox.url,
      stripe: adapter,
      user,
      onStep: (step, snapshot) => {
        seen.push({ title: step.title, snapshot });
      },
    });
    expect(seen.map((s) => s.title)).toEqual(SUBSCRIPTION_JOURNEY.map((s) => s.title));
    const last = seen.at(-1)!.snapshot;
    expect(last.user).toMatchObject({ subscription_tier: 'free', subscription_status: 'canceled' });
    expect(last.ledger.map((t) => t.balance_after)).toEqual([300, 600, 900, 1200]);
    expect(last.usage).toHaveLength(5);
    await settled();
    expect(await platform.client.workflow.getHandle(subscriptionWorkflowId(subscriptionId)).result()).toMatchObject({
      finalStatus: 'canceled',
    });
  });
});
