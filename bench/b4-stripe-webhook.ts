import { randomBytes } from 'node:crypto';
import express, { type Express } from 'express';
import { sql } from 'kysely';
import Stripe from 'stripe';
import { createApp } from '../api/app';
import { STRIPE_WEBHOOK_PATH } from '../api/routes/stripe-webhooks';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { taskQueues } from '../lib/task-queues';
import {
  DEFAULT_BILLING_POLICY,
  stripeEventSignal,
  SUBSCRIPTION_WORKFLOW_TYPE,
  subscriptionWorkflowId,
  type StripeEventRef,
} from '../workflows/subscription/contract';
import { absolute, atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import type { BenchStack } from './lib/stack';
import { runBounded, summarize } from './lib/stats';
import { close, listen } from './lib/http-server';

const SIZES = {
  quick: { n: 300, concurrency: 10, warmup: 20, timeLimitMs: 60_000 },
  full: { n: 5000, concurrency: 50, warmup: 200, timeLimitMs: 300_000 },
};
/** Share of deliveries that repeat an earlier event (Stripe redelivers on timeouts). */
const DUPLICATE_SHARE = 0.1;
const EVENTS_PER_SUBSCRIPTION = 4;

interface Delivery {
  eventId: string;
  subscriptionId: string;
  body: string;
}

/** Unique subscription events plus redeliveries of some of them, shuffled in deterministically. */
function deliveries(prefix: string, count: number): { list: Delivery[]; unique: number; subscriptions: string[] } {
  const unique = Math.round(count / (1 + DUPLICATE_SHARE));
  const created = Math.floor(Date.now() / 1000);
  const subscriptions = Array.from({ length: Math.ceil(unique / EVENTS_PER_SUBSCRIPTION) }, (_, i) => `sub_${prefix}_${i}`);
  const list: Delivery[] = Array.from({ length: unique }, (_, i) => {
    const eventId = `evt_${prefix}_${i}`;
    const subscriptionId = subscriptions[i % subscriptions.length] as string;
    const event = {
      id: eventId,
      object: 'event',
      type: 'customer.subscription.updated',
      created,
      livemode: false,
      api_version: '2025-03-31.basil',
      data: { object: { id: subscriptionId, object: 'subscription', status: 'active', customer: `cus_${prefix}` } },
    };
    return { eventId, subscriptionId, body: JSON.stringify(event) };
  });
  for (let i = 0; list.length < count; i += 7) list.splice(Math.min(list.length, i + 5), 0, list[i % unique] as Delivery);
  return { list, unique, subscriptions };
}

/** express + raw body + signalWithStart: what any webhook receiver must do at the least. */
function floorApp(stack: BenchStack, taskQueue: string): Express {
  const app = express();
  app.post('/webhook', express.raw({ type: 'application/json' }), async (req, res) => {
    const event = JSON.parse((req.body as Buffer).toString('utf8')) as Stripe.Event;
    const subscriptionId = (event.data.object as { id: string }).id;
    const ref: StripeEventRef = { eventId: event.id, type: event.type, createdAt: new Date(event.created * 1000).toISOString() };
    await stack.client.workflow.signalWithStart(SUBSCRIPTION_WORKFLOW_TYPE, {
      workflowId: subscriptionWorkflowId(subscriptionId),
      taskQueue,
      args: [{ stripeSubscriptionId: subscriptionId, policy: DEFAULT_BILLING_POLICY }],
      signal: stripeEventSignal,
      signalArgs: [ref],
    });
    res.json({ received: true });
  });
  return app;
}

interface LoadResult {
  latencies: number[];
  errors: number;
  duplicatesAcked: number;
  wallMs: number;
  /** Deliveries not sent because the phase hit its time limit. */
  skipped: number;
}

/** A closed-loop load generator: `concurrency` clients, each sending its next delivery when the last answered. */
async function drive(url: string, list: Delivery[], concurrency: number, timeLimitMs: number, secret: string): Promise<LoadResult> {
  const result: LoadResult = { latencies: [], errors: 0, duplicatesAcked: 0, wallMs: 0, skipped: 0 };
  const stopAt = Date.now() + timeLimitMs;
  const begin = performance.now();
  await runBounded(list.length, concurrency, async (i) => {
    if (Date.now() > stopAt) {
      result.skipped++;
      return;
    }
    const delivery = list[i] as Delivery;
    const signature = Stripe.webhooks.generateTestHeaderString({ payload: delivery.body, secret });
    const start = performance.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: delivery.body,
      });
      const ack = (await res.json()) as { duplicate?: boolean };
      result.latencies.push(performance.now() - start);
      if (res.status !== 200) result.errors++;
      if (ack.duplicate === true) result.duplicatesAcked++;
    } catch {
      result.errors++;
    }
  });
  result.wallMs = performance.now() - begin;
  return result;
}

/** Signals delivered to the given subscription workflows, counted from their histories. */
async function signalCount(stack: BenchStack, subscriptions: string[]): Promise<number> {
  let total = 0;
  await runBounded(subscriptions.length, 10, async (i) => {
    const history = await stack.client.workflow.getHandle(subscriptionWorkflowId(subscriptions[i] as string)).fetchHistory();
    total += (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
  });
  return total;
}

/**
 * B4: POST /v1/webhooks/stripe (signature check, stored once in subscription_events, signal in the
 * same transaction) against a floor handler, with ~10% redeliveries. No worker polls the queues, so
 * only the endpoint is measured; duplicates are checked in PostgreSQL and in the workflows' histories.
 */
export function stripeWebhookBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B4',
    title: 'Stripe webhook endpoint vs floor handler (express + raw body + signalWithStart)',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      const prefix = `b4${randomBytes(3).toString('hex')}`;
      const secret = `whsec_${randomBytes(16).toString('hex')}`;
      const queues = taskQueues(`${prefix}-`);
      const config = loadConfig({
        NODE_ENV: 'production',
        LOG_LEVEL: 'silent',
        STRIPE_WEBHOOK_SECRET: secret,
        TASK_QUEUE_PREFIX: `${prefix}-`,
      });
      const ours = await listen(createApp({ db: s.db, temporal: s.client, logger: createLogger('silent'), config, taskQueues: queues }));
      const floor = await listen(floorApp(s, queues.main));
      try {
        const oursUrl = `${ours.url}${STRIPE_WEBHOOK_PATH}`;
        const floorUrl = `${floor.url}/webhook`;
        context.log(`B4 warm-up (${size.warmup} each)`);
        await drive(oursUrl, deliveries(`${prefix}w`, size.warmup).list, size.concurrency, size.timeLimitMs, secret);
        await drive(floorUrl, deliveries(`${prefix}wf`, size.warmup).list, size.concurrency, size.timeLimitMs, secret);

        const half = Math.ceil(size.n / 2);
        const load = { ours: [] as LoadResult[], floor: [] as LoadResult[] };
        const sent = { ours: [] as ReturnType<typeof deliveries>[], floor: [] as ReturnType<typeof deliveries>[] };
        for (const [target, round] of [
          ['ours', 'a'],
          ['floor', 'a'],
          ['floor', 'b'],
          ['ours', 'b'],
        ] as const) {
          context.log(`B4 ${target}: ${half} deliveries at concurrency ${size.concurrency}`);
          const batch = deliveries(`${prefix}${target}${round}`, half);
          sent[target].push(batch);
          load[target].push(await drive(target === 'ours' ? oursUrl : floorUrl, batch.list, size.concurrency, size.timeLimitMs, secret));
        }
        const merge = (results: LoadResult[]) => ({
          latencies: results.flatMap((r) => r.latencies),
          errors: results.reduce((n, r) => n + r.errors, 0),
          duplicatesAcked: results.reduce((n, r) => n + r.duplicatesAcked, 0),
          skipped: results.reduce((n, r) => n + r.skipped, 0),
          perSec: (results.reduce((n, r) => n + r.latencies.length, 0) * 1000) / results.reduce((n, r) => n + r.wallMs, 0),
        });
        const [o, f] = [merge(load.ours), merge(load.floor)];
        const [oursLatency, floorLatency] = [summarize(o.latencies), summarize(f.latencies)];

        const uniqueEvents = sent.ours.reduce((n, b) => n + b.unique, 0);
        const deliveriesSent = sent.ours.reduce((n, b) => n + b.list.length, 0);
        const { rows } = await sql<{
          count: string;
        }>`select count(*)::text as count from subscription_events where stripe_event_id like ${`evt_${prefix}ours%`}`.execute(s.db);
        const stored = Number(rows[0]?.count ?? 0);
        const signalled = await signalCount(
          s,
          sent.ours.flatMap((b) => b.subscriptions),
        );

        return {
          id: 'B4',
          title: this.title,
          status: 'measured',
          n: o.latencies.length,
          warmup: size.warmup,
          concurrency: size.concurrency,
          series: [
            {
              label: 'POST /v1/webhooks/stripe (full app)',
              role: 'ours',
              latencyMs: oursLatency,
              throughputPerSec: o.perSec,
              errors: o.errors,
            },
            {
              label: 'floor: express.raw + signalWithStart',
              role: 'baseline',
              latencyMs: floorLatency,
              throughputPerSec: f.perSec,
              errors: f.errors,
            },
          ],
          checks: [
            atMostTimes('p99 latency', oursLatency.p99, floorLatency.p99, 1.3),
            absolute('p99 latency < 200 ms', oursLatency.p99, floorLatency.p99, '< 200 ms', oursLatency.p99 < 200),
            absolute('errors', o.errors, f.errors, '0', o.errors === 0, 'count'),
            absolute(
              'rows stored (baseline column: unique events)',
              stored,
              uniqueEvents,
              '= unique events',
              stored === uniqueEvents,
              'count',
            ),
            absolute(
              'signals delivered (baseline column: unique events)',
              signalled,
              uniqueEvents,
              '= unique events',
              signalled === uniqueEvents,
              'count',
            ),
            absolute(
              'deliveries answered duplicate (baseline column: redeliveries sent)',
              o.duplicatesAcked,
              deliveriesSent - uniqueEvents,
              '= redeliveries sent',
              o.duplicatesAcked === deliveriesSent - uniqueEvents,
              'count',
            ),
          ],
          notes: [
            `Deliveries: ${deliveriesSent} to ours, of which ${deliveriesSent - uniqueEvents} redeliveries of earlier events; ${uniqueEvents} unique events → ${stored} rows in subscription_events, ${signalled} signals in the subscription workflows' histories, ${o.duplicatesAcked} deliveries answered duplicate:true.`,
            ...(o.skipped > 0
              ? [`${o.skipped} deliveries to ours were skipped at the time limit, so the stored/signalled counts above are not comparable.`]
              : []),
            'The floor does no signature check, no storage and no de-duplication (its redeliveries are signalled again); it is the least any receiver must do.',
            `Load: closed loop of ${size.concurrency} fetch clients (Node's undici), keep-alive, 127.0.0.1; bounded to ${size.n} deliveries per series and ${size.timeLimitMs / 1000} s per phase; phases in ABBA order. autocannon is not installed.`,
          ],
        };
      } finally {
        await Promise.all([close(ours.server), close(floor.server)]);
      }
    },
  };
}
