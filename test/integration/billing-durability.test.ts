import { randomUUID } from 'node:crypto';
import pg from 'pg';
import Stripe from 'stripe';
import { createUser } from '../../db/repositories/users';
import { providerCall } from '../../providers/call';
import { ProviderLimiter } from '../../providers/rate-limit';
import { createStripeClient, StripeAdapter } from '../../providers/stripe';
import { startStripeSandbox, type StripeSandbox } from '../../sandbox/stripe';
import { billingEventWorkflowId } from '../../workflows/subscription/contract';
import { startTestPlatform, type TestPlatform } from '../helpers/platform';
import { killGroup } from '../helpers/processes';

const SECRET = 'whsec_durability_test';

/**
 * kill -9 the worker after a credit top-up was committed but before its activity completed:
 * the retried activity on a new worker must not grant the credits twice or add a second row.
 */
describe('billing durability: worker killed with SIGKILL inside the top-up activity', () => {
  let platform: TestPlatform;
  let sandbox: StripeSandbox;

  beforeAll(async () => {
    // The grant reads the checkout from Stripe: the sandbox holds it (it delivers no webhooks here).
    sandbox = await startStripeSandbox({ webhookSecret: SECRET, port: 0 });
    platform = await startTestPlatform({ workers: 'later', env: { STRIPE_WEBHOOK_SECRET: SECRET }, sandboxUrls: { stripe: sandbox.url } });
  });
  afterAll(async () => {
    await platform?.stop();
    await sandbox?.stop();
  });

  it('grants the purchased credits exactly once', async () => {
    const { database, client, apiUrl } = platform;
    const user = await createUser(database.db, { email: `durable-${randomUUID()}@example.test` });
    const first = await platform.spawnWorkerProcess();
    const stripe = new StripeAdapter(
      createStripeClient('sk_test_durability', sandbox.url),
      providerCall(new ProviderLimiter('stripe', { maxConcurrent: 1 })),
    );
    const checkout = await stripe.createCreditTopUpCheckout({
      userId: user.id,
      priceId: 'price_sbx_credits_100',
      credits: 100,
      checkoutId: randomUUID(),
      successUrl: 'http://127.0.0.1/ok',
      cancelUrl: 'http://127.0.0.1/no',
    });
    await fetch(`${sandbox.url}/__sandbox/stripe/checkout/${checkout.id}/complete`, { method: 'POST' });
    const paid = sandbox.state.session(checkout.id);
    const sessionId = paid.id;
    const event = {
      id: `evt_${randomUUID().replace(/-/g, '')}`,
      object: 'event',
      type: 'checkout.session.completed',
      created: Math.floor(Date.now() / 1000),
      data: {
        object: {
          id: sessionId,
          object: 'checkout.session',
          mode: 'payment',
          payment_status: 'paid',
          status: 'complete',
          client_reference_id: user.id,
          customer: paid.customer,
          payment_intent: paid.payment_intent,
          amount_total: 999,
          currency: 'usd',
          metadata: { kind: 'credit_topup', user_id: user.id, credits: '100' },
        },
      },
    };
    const payload = JSON.stringify(event);

    // A second connection holds the event row: the activity commits the grant, then blocks marking the event.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      const res = await fetch(`${apiUrl}/v1/webhooks/stripe`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }),
        },
        body: payload,
      });
      expect(res.status).toBe(200);
      await blocker.query('begin');
      await blocker.query('select 1 from subscription_events where stripe_event_id = $1 for update', [event.id]);

      const deadline = Date.now() + 30_000;
      let granted = 0;
      while (granted === 0 && Date.now() < deadline) {
        granted = (await database.db.selectFrom('credit_transactions').select('id').where('user_id', '=', user.id).execute()).length;
        if (granted === 0) await new Promise((r) => setTimeout(r, 20));
      }
      expect(granted).toBe(1);
      const row = await database.db
        .selectFrom('subscription_events')
        .select('status')
        .where('stripe_event_id', '=', event.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('pending'); // the activity has not finished: this is the window we crash in
      killGroup(first, 'SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
    } finally {
      await blocker.query('rollback').catch(() => undefined);
      await blocker.end();
    }

    // The replacement runs in this process, to skip a second cold start.
    await platform.startWorkers(['main']);
    const handle = client.workflow.getHandle(billingEventWorkflowId(event.id));
    expect(await handle.result()).toEqual({ eventId: event.id, outcome: 'credits_granted' });

    const ledger = await database.db
      .selectFrom('credit_transactions')
      .select(['amount', 'balance_after', 'transaction_type'])
      .where('user_id', '=', user.id)
      .execute();
    expect(ledger).toEqual([{ amount: 100, balance_after: 100, transaction_type: 'purchase' }]);
    expect(
      await database.db.selectFrom('user_credits').select(['balance', 'total_purchased']).where('user_id', '=', user.id).executeTakeFirst(),
    ).toEqual({ balance: 100, total_purchased: 100 });
    expect(await database.db.selectFrom('payments').select('payment_type').where('user_id', '=', user.id).execute()).toEqual([
      { payment_type: 'credit_topup' },
    ]);
    expect(
      (
        await database.db
          .selectFrom('subscription_events')
          .select('status')
          .where('stripe_event_id', '=', event.id)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('processed');
    // The activity really ran twice: its first attempt died with the worker.
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt)
      .filter((a): a is number => typeof a === 'number');
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  });
});
