import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import pg from 'pg';
import Stripe from 'stripe';
import { createActivities } from '../../activities';
import { createProviders } from '../../activities/providers';
import { createApp } from '../../api/app';
import { createUser } from '../../db/repositories/users';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { billingEventWorkflowId } from '../../workflows/subscription/contract';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { killGroup, spawnTs, type SpawnedProcess } from '../helpers/processes';
import { stackValue } from '../helpers/stack-env';
import { createMainWorker } from '../../worker/create-worker';
import { testClient, testNativeConnection, uniqueTaskQueues, workflowBundle } from '../helpers/temporal';

const SECRET = 'whsec_durability_test';

/**
 * kill -9 the worker after a credit top-up was committed but before its activity completed:
 * the retried activity on a new worker must not grant the credits twice or add a second row.
 */
describe('billing durability: worker killed with SIGKILL inside the top-up activity', () => {
  let database: TestDatabase;
  let client: Client;
  let server: Server;
  let apiUrl: string;
  const workers: SpawnedProcess[] = [];
  const queues = uniqueTaskQueues();
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', STRIPE_WEBHOOK_SECRET: SECRET, TASK_QUEUE_PREFIX: queues.prefix });
  const logger = createLogger('silent');
  let replacement: { worker: Worker; running: Promise<void> } | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    client = await testClient();
    const app = createApp({ db: database.db, temporal: client, logger, config, taskQueues: queues });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const address = server.address();
    apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    workers.forEach((w) => killGroup(w));
    replacement?.worker.shutdown();
    await replacement?.running;
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await client?.connection.close();
    await database?.drop();
  });

  /** The worker that takes over after the crash runs in this process (saves a second bundling process). */
  const startReplacementWorker = async () => {
    const worker = await createMainWorker({
      connection: await testNativeConnection(),
      namespace: 'default',
      taskQueue: queues.main,
      activities: createActivities({ db: database.db, logger, providers: createProviders({ config, logger, db: database.db, sandboxUrls: {} }) }),
      workflowBundle: await workflowBundle(),
    });
    replacement = { worker, running: worker.run() };
  };

  const startWorker = async () => {
    const worker = spawnTs('worker/main.ts', {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: stackValue('temporalAddress'),
      TASK_QUEUE_PREFIX: queues.prefix,
      NODE_ENV: 'test',
    });
    workers.push(worker);
    await worker.waitForOutput(/worker running/, 90_000);
    return worker;
  };

  it('grants the purchased credits exactly once', async () => {
    const user = await createUser(database.db, { email: `durable-${randomUUID()}@example.test` });
    const bundled = workflowBundle();
    const first = await startWorker();
    await bundled;
    const sessionId = `cs_test_${randomUUID().replace(/-/g, '')}`;
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
          customer: 'cus_durable',
          payment_intent: `pi_${randomUUID().replace(/-/g, '')}`,
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
        headers: { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) },
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
      const row = await database.db.selectFrom('subscription_events').select('status').where('stripe_event_id', '=', event.id).executeTakeFirstOrThrow();
      expect(row.status).toBe('pending'); // the activity has not finished: this is the window we crash in
      killGroup(first, 'SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
    } finally {
      await blocker.query('rollback').catch(() => undefined);
      await blocker.end();
    }

    await startReplacementWorker();
    const handle = client.workflow.getHandle(billingEventWorkflowId(event.id));
    expect(await handle.result()).toEqual({ eventId: event.id, outcome: 'credits_granted' });

    const ledger = await database.db.selectFrom('credit_transactions').select(['amount', 'balance_after', 'transaction_type']).where('user_id', '=', user.id).execute();
    expect(ledger).toEqual([{ amount: 100, balance_after: 100, transaction_type: 'purchase' }]);
    expect(await database.db.selectFrom('user_credits').select(['balance', 'total_purchased']).where('user_id', '=', user.id).executeTakeFirst()).toEqual({ balance: 100, total_purchased: 100 });
    expect(await database.db.selectFrom('payments').select('payment_type').where('user_id', '=', user.id).execute()).toEqual([{ payment_type: 'credit_topup' }]);
    expect((await database.db.selectFrom('subscription_events').select('status').where('stripe_event_id', '=', event.id).executeTakeFirstOrThrow()).status).toBe('processed');
    // The activity really ran twice: its first attempt died with the worker.
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt).filter((a): a is number => typeof a === 'number');
    expect(Math.max(...attempts)).toBeGreaterThanOrEqual(2);
  });
});
