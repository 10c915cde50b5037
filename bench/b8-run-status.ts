import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import autocannon from 'autocannon';
import express, { type Express } from 'express';
import { createApp } from '../api/app';
import { createApiKey } from '../db/repositories/api-keys';
import { createUser } from '../db/repositories/users';
import { loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { taskQueues } from '../lib/task-queues';
import { USER_SCOPES } from '../schemas/api-keys';
import type { SmokeWorkflowInput } from '../schemas/smoke';
import { progressQuery } from '../workflows/common/progress';
import { SMOKE_WORKFLOW_TYPE, smokeWorkflowId } from '../workflows/smoke/contract';
import { absolute, atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import type { BenchStack } from './lib/stack';
import { summarize } from './lib/stats';
import { withOursAndBareWorkers } from './lib/workers';
import { close, listen } from './lib/http-server';

const RATE_PER_SEC = 200;
const SIZES = {
  quick: { phaseSeconds: 4, warmupSeconds: 1, connections: 50 },
  full: { phaseSeconds: 20, warmupSeconds: 5, connections: 50 },
};
/** Requests per minute one user of the enterprise plan may make, over all their keys (db/seed/plans.ts). */
const ENTERPRISE_USER_PER_MINUTE = 1200;
/** Each user at half their limit, so the rate limiter never answers 429 during the run. */
const USER_COUNT = Math.ceil((RATE_PER_SEC * 60 * 2) / ENTERPRISE_USER_PER_MINUTE);

interface Phase {
  latencies: number[];
  non2xx: number;
  errors: number;
  perSec: number;
}

/** The least a status endpoint can do: one progress query to the workflow, no auth, no database. */
function bareApp(client: Client): Express {
  const app = express();
  app.get('/runs/:runId', async (req, res) => {
    res.json(await client.workflow.getHandle(req.params.runId).query(progressQuery));
  });
  return app;
}

/**
 * A client of its own for both endpoints, counting its describe and query calls: autocannon stops
 * with requests in flight whose handlers may still be retrying, so the connection is closed only
 * once they are done (closing it under a pending retry throws from the retry's timer).
 */
async function countingClient(stack: BenchStack): Promise<{ client: Client; closeWhenIdle(): Promise<void> }> {
  let pending = 0;
  const counted = async <T>(call: () => Promise<T>): Promise<T> => {
    pending++;
    try {
      return await call();
    } finally {
      pending--;
    }
  };
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({
    connection,
    namespace: 'default',
    dataConverter: stack.dataConverter,
    interceptors: {
      workflow: [{ query: (input, next) => counted(() => next(input)), describe: (input, next) => counted(() => next(input)) }],
    },
  });
  return {
    client,
    async closeWhenIdle() {
      for (let waited = 0; pending > 0 && waited < 30_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      await connection.close();
    },
  };
}

/** autocannon at a fixed overall rate; each response's latency is kept so percentiles match the other benchmarks'. */
function load(url: string, requests: autocannon.Request[], seconds: number, connections: number): Promise<Phase> {
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections, overallRate: RATE_PER_SEC, duration: seconds, requests }, (err, result) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      resolve({ latencies, non2xx: result.non2xx, errors: result.errors + result.timeouts, perSec: result.requests.total / seconds });
    });
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

/**
 * B8: GET /v1/runs/:id (API key auth and rate limit, ownership check in PostgreSQL, the
 * progress query to Temporal) at a fixed 200 requests/s against a bare endpoint doing only
 * handle.query(progress), both for the same running workflow.
 */
export function runStatusBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B8',
    title: `GET /v1/runs/:id at ${RATE_PER_SEC} requests/s vs a bare handle.query endpoint`,
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      return withOursAndBareWorkers(s, async (queues) => {
        // Rate limits are per user (all of a user's keys share one budget), so the load is spread over
        // enough users, each reading a run of its own that stays open for the whole benchmark.
        const readers = await Promise.all(
          Array.from({ length: USER_COUNT }, async (_, i) => {
            const user = await createUser(s.db, { email: `b8-${randomUUID()}@example.test`, plan: 'enterprise' });
            const key = (await createApiKey(s.db, { userId: user.id, name: `bench-${i}`, scopes: [...USER_SCOPES] })).plaintext;
            const runId = smokeWorkflowId(randomUUID());
            const handle = await s.client.workflow.start(SMOKE_WORKFLOW_TYPE, {
              taskQueue: queues.ours,
              workflowId: runId,
              args: [{ name: 'bench-status', delayMs: 3_600_000, userId: user.id } satisfies SmokeWorkflowInput],
            });
            return { key, runId, handle };
          }),
        );
        const prefix = `b8${randomBytes(3).toString('hex')}-`;
        const config = loadConfig({
          NODE_ENV: 'production',
          LOG_LEVEL: 'silent',
          TASK_QUEUE_PREFIX: prefix,
          STRIPE_WEBHOOK_SECRET: 'whsec_bench_b8',
        });
        const statusClient = await countingClient(s);
        const ours = await listen(
          createApp({ db: s.db, temporal: statusClient.client, logger: createLogger('silent'), config, taskQueues: taskQueues(prefix) }),
        );
        const bare = await listen(bareApp(statusClient.client));
        try {
          // Wait until every run is tracked in PostgreSQL and answers the query.
          for (const { key, runId } of readers) {
            for (let tries = 0; ; tries++) {
              const res = await fetch(`${ours.url}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${key}` } });
              const view = (await res.json()) as { stage?: string };
              if (res.status === 200 && view.stage === 'waiting') break;
              if (tries > 100) throw new Error(`run ${runId} never became readable: ${res.status} ${JSON.stringify(view)}`);
              await new Promise((r) => setTimeout(r, 100));
            }
          }
          const targets = {
            ours: {
              url: ours.url,
              requests: readers.map(({ key, runId }) => ({
                method: 'GET' as const,
                path: `/v1/runs/${runId}`,
                headers: { authorization: `Bearer ${key}` },
              })),
            },
            bare: { url: bare.url, requests: readers.map(({ runId }) => ({ method: 'GET' as const, path: `/runs/${runId}` })) },
          };
          context.log(`B8 warm-up (${size.warmupSeconds} s each)`);
          await load(targets.ours.url, targets.ours.requests, size.warmupSeconds, size.connections);
          await load(targets.bare.url, targets.bare.requests, size.warmupSeconds, size.connections);
          const phases = { ours: [] as Phase[], bare: [] as Phase[] };
          for (const target of ['ours', 'bare', 'bare', 'ours'] as const) {
            context.log(`B8 ${target}: ${size.phaseSeconds} s at ${RATE_PER_SEC}/s`);
            phases[target].push(await load(targets[target].url, targets[target].requests, size.phaseSeconds, size.connections));
          }
          const merge = (list: Phase[]) => ({
            latency: summarize(list.flatMap((p) => p.latencies)),
            failures: list.reduce((n, p) => n + p.non2xx + p.errors, 0),
            perSec: list.reduce((n, p) => n + p.perSec, 0) / list.length,
          });
          const [o, b] = [merge(phases.ours), merge(phases.bare)];
          return {
            id: 'B8',
            title: this.title,
            status: 'measured',
            n: o.latency.n,
            warmup: Math.round(size.warmupSeconds * RATE_PER_SEC),
            concurrency: size.connections,
            series: [
              { label: 'GET /v1/runs/:id (full app)', role: 'ours', latencyMs: o.latency, throughputPerSec: o.perSec, errors: o.failures },
              {
                label: 'bare: express + handle.query(progress)',
                role: 'baseline',
                latencyMs: b.latency,
                throughputPerSec: b.perSec,
                errors: b.failures,
              },
            ],
            checks: [
              atMostTimes('p99 latency', o.latency.p99, b.latency.p99, 1.3),
              absolute('errors and non-2xx answers', o.failures, b.failures, '0', o.failures === 0, 'count'),
            ],
            notes: [
              `Offered ${RATE_PER_SEC} requests/s; answered ${o.perSec.toFixed(1)}/s (ours) and ${b.perSec.toFixed(1)}/s (bare). Below the offered rate every connection was waiting on an answer, so the latencies include queueing on this machine.`,
              `Load: autocannon ${RATE_PER_SEC} requests/s overall over ${size.connections} keep-alive connections, ${size.phaseSeconds} s per phase in ABBA order after ${size.warmupSeconds} s of warm-up each, in the same process as both servers. Both ask about the same running smoke workflows (sleeping on a timer), so each answer comes from the worker's progress query.`,
              `Ours per request: API-key lookup and rate limit (enterprise plan, ${ENTERPRISE_USER_PER_MINUTE}/min per user, so the load is spread over ${USER_COUNT} users with a key and a run each), the ownership check in PostgreSQL and the progress query in Temporal (one call: the query is rejected by a closed workflow, and only then is the run described). The key lookup is cached for 5 s and its usage counted in memory and written once per key per 5 s (api/api-key-cache.ts), so a GET writes nothing. The bare endpoint does only the query.`,
            ],
          };
        } finally {
          await Promise.all([close(ours.server), close(bare.server)]);
          await statusClient.closeWhenIdle();
          await Promise.all(readers.map(({ handle }) => handle.terminate('benchmark finished').catch(() => undefined)));
        }
      });
    },
  };
}
