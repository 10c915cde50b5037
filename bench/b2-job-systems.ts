import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { Queue, Worker as BullWorker } from 'bullmq';
import pg from 'pg';
import { ensureDatabase } from '../lib/runtime/postgres';
import { packageVersion } from './lib/machine';
import { Completions, createJobTable, jobSteps, runThreeSteps, type JobSteps } from './lib/job-steps';
import { ensureRedisServer, startRedis } from './lib/redis';
import { atMostTimes, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult, type Series } from './lib/result';
import { runWorkerDuring, type BenchStack } from './lib/stack';
import { runBounded, summarize } from './lib/stats';

const SIZES = {
  quick: { latencyN: 10, saturationN: 60, concurrency: 10, warmup: 2, timeLimitMs: 20_000 },
  full: { latencyN: 200, saturationN: 1000, concurrency: 20, warmup: 20, timeLimitMs: 300_000 },
};
/** DBOS queues poll PostgreSQL (1 s by default); 100 ms keeps the poll from dominating its latency. */
const DBOS_POLLING_MS = 100;

type Enqueue = (jobId: string) => Promise<void>;

/** One system under test: runs its worker(s) with `concurrency` slots while `body` enqueues jobs. */
interface JobSystem {
  key: string;
  label: string;
  role: Series['role'];
  /** Set when the system has no queue of its own, so a saturation run would not be at the same concurrency. */
  latencyOnly?: string;
  run<T>(steps: JobSteps, concurrency: number, body: (enqueue: Enqueue) => Promise<T>): Promise<T>;
}

interface Measured {
  system: JobSystem;
  latencies: number[];
  perSec?: number;
  missing: number;
}

const jobId = (system: string, phase: string, i: number) => `${system}-${phase}-${i}-${randomBytes(4).toString('hex')}`;

async function withTimeLimit<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Latency: one job at a time, enqueue → third step committed. Saturation: N enqueued at once, first enqueue → last done. */
async function measure(system: JobSystem, pool: pg.Pool, size: (typeof SIZES)['quick'], log: (m: string) => void): Promise<Measured> {
  const completions = new Completions();
  return system.run(jobSteps(pool, system.key, completions), size.concurrency, async (enqueue) => {
    const one = async (id: string) => {
      const done = completions.expect(id);
      const start = performance.now();
      await enqueue(id);
      await withTimeLimit(done, 30_000, `job ${id}`);
      return performance.now() - start;
    };
    for (let i = 0; i < size.warmup; i++) await one(jobId(system.key, 'w', i));
    const latencies: number[] = [];
    for (let i = 0; i < size.latencyN; i++) latencies.push(await one(jobId(system.key, 'l', i)));
    if (system.latencyOnly) return { system, latencies, missing: 0 };

    log(`B2 ${system.key}: ${size.saturationN} jobs at concurrency ${size.concurrency}`);
    const ids = Array.from({ length: size.saturationN }, (_, i) => jobId(system.key, 's', i));
    let finished = 0;
    const dones = ids.map((id) => completions.expect(id).then(() => void finished++));
    const start = performance.now();
    await runBounded(ids.length, 20, async (i) => enqueue(ids[i] as string));
    await withTimeLimit(Promise.all(dones), size.timeLimitMs, `${system.key} saturation`).catch(() => undefined);
    const wallMs = performance.now() - start;
    return { system, latencies, perSec: (finished * 1000) / wallMs, missing: ids.length - finished };
  });
}

function temporalSystem(stack: BenchStack, local: boolean): JobSystem {
  const workflowType = local ? 'threeStepLocalJobWorkflow' : 'threeStepJobWorkflow';
  return {
    key: local ? 'temporal-local' : 'temporal',
    label: local ? 'Temporal workflow, 3 local activities' : 'Temporal workflow, 3 activities',
    role: 'ours',
    async run(steps, concurrency, body) {
      const taskQueue = `bench-b2-${randomBytes(3).toString('hex')}`;
      return runWorkerDuring(
        stack,
        taskQueue,
        await stack.benchBundle(),
        steps,
        () =>
          body(async (id) => {
            await stack.client.workflow.start(workflowType, { taskQueue, workflowId: `b2:${id}`, args: [id] });
          }),
        {
          maxConcurrentActivityTaskExecutions: concurrency,
          maxConcurrentLocalActivityExecutions: concurrency,
          maxConcurrentWorkflowTaskExecutions: concurrency,
        },
      );
    },
  };
}

/**
 * DBOS is a process-wide singleton: the workflow is registered once before launch, and both
 * DBOS series (queued and started directly) run in that one launch.
 */
function dbosSession(systemDatabaseUrl: string) {
  let steps: JobSteps | undefined;
  const threeSteps = DBOS.registerWorkflow(
    async (id: string) => {
      for (const n of [1, 2, 3]) await DBOS.runStep(() => steps!.step(id, n), { name: `step${n}` });
    },
    { name: 'benchThreeStepJob' },
  );
  let launched: Promise<string> | undefined;
  const launch = (concurrency: number) =>
    (launched ??= (async () => {
      DBOS.setConfig({ name: 'platform-bench', systemDatabaseUrl, logLevel: 'error' });
      await DBOS.launch();
      const queueName = `bench-b2-${randomBytes(3).toString('hex')}`;
      await DBOS.registerQueue(queueName, { workerConcurrency: concurrency, minPollingIntervalMs: DBOS_POLLING_MS });
      return queueName;
    })());
  const system = (queued: boolean): JobSystem => ({
    key: queued ? 'dbos-queue' : 'dbos',
    label: queued
      ? `DBOS workflow on a queue (workerConcurrency, ${DBOS_POLLING_MS} ms polling), 3 steps`
      : 'DBOS workflow started directly, 3 steps',
    role: 'baseline',
    ...(queued
      ? {}
      : { latencyOnly: 'started without a queue, a DBOS workflow runs at once in the calling process: no concurrency limit to saturate' }),
    async run(runSteps, concurrency, body) {
      steps = runSteps;
      const queueName = await launch(concurrency);
      return body(async (id) => {
        await DBOS.startWorkflow(threeSteps, { workflowID: `b2:${id}`, ...(queued ? { queueName } : {}) })(id);
      });
    },
  });
  return { queued: system(true), direct: system(false), stop: () => (launched ? DBOS.shutdown() : Promise.resolve()) };
}

function graphileSystem(connectionString: string): JobSystem {
  return {
    key: 'graphile-worker',
    label: 'graphile-worker job, 3 steps in the task',
    role: 'baseline',
    async run(steps, concurrency, body) {
      // ESM-only: loaded when used (Node 20 runs it through import()).
      const { Logger: GraphileLogger, run: runGraphileWorker } = await import('graphile-worker');
      const runner = await runGraphileWorker({
        connectionString,
        concurrency,
        noHandleSignals: true,
        logger: new GraphileLogger(() => () => undefined),
        taskList: { bench_three_step: async (payload) => runThreeSteps(steps, (payload as { jobId: string }).jobId) },
      });
      try {
        return await body(async (id) => void (await runner.addJob('bench_three_step', { jobId: id })));
      } finally {
        await runner.stop();
      }
    },
  };
}

function pgBossSystem(connectionString: string): JobSystem {
  return {
    key: 'pg-boss',
    label: 'pg-boss job (LISTEN/NOTIFY on, 0.5 s polling), 3 steps in the handler',
    role: 'baseline',
    async run(steps, concurrency, body) {
      const { PgBoss } = await import('pg-boss'); // ESM-only, like graphile-worker
      const boss = new PgBoss({ connectionString, useListenNotify: true });
      boss.on('error', () => undefined);
      await boss.start();
      const queue = `bench-b2-${randomBytes(3).toString('hex')}`;
      try {
        await boss.createQueue(queue, { notify: true });
        await boss.work<{ jobId: string }>(
          queue,
          { localConcurrency: concurrency, batchSize: 1, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
          async (jobs) => {
            for (const job of jobs) await runThreeSteps(steps, job.data.jobId);
          },
        );
        return await body(async (id) => void (await boss.send(queue, { jobId: id })));
      } finally {
        await boss.stop({ graceful: true, timeout: 5000 });
      }
    },
  };
}

function bullmqSystem(redis: { host: string; port: number }): JobSystem {
  return {
    key: 'bullmq',
    label: 'bullmq job (Redis, AOF everysec), 3 steps in the processor',
    role: 'baseline',
    async run(steps, concurrency, body) {
      const name = `bench-b2-${randomBytes(3).toString('hex')}`;
      const connection = { host: redis.host, port: redis.port, maxRetriesPerRequest: null };
      const queue = new Queue(name, { connection });
      const worker = new BullWorker(name, async (job) => runThreeSteps(steps, (job.data as { jobId: string }).jobId), {
        connection,
        concurrency,
      });
      try {
        await worker.waitUntilReady();
        return await body(async (id) => void (await queue.add('three-step', { jobId: id }, { removeOnComplete: true })));
      } finally {
        await worker.close();
        await queue.close();
      }
    },
  };
}

/**
 * B2: the same 3-step job (three small writes to one PostgreSQL table) on Temporal (activities and
 * local activities) and on DBOS, graphile-worker, pg-boss (same PostgreSQL) and bullmq (Redis),
 * each at the same worker concurrency, all in this process.
 */
export function jobSystemsBenchmark(stack: () => Promise<BenchStack>): BenchmarkModule {
  return {
    id: 'B2',
    title: 'A 3-step persisted job: Temporal vs DBOS, graphile-worker, pg-boss, bullmq',
    async run(context: BenchmarkContext): Promise<BenchmarkResult> {
      const size = context.quick ? SIZES.quick : SIZES.full;
      const s = await stack();
      const pool = new pg.Pool({ connectionString: s.databaseUrl, max: size.concurrency + 5 });
      // Idle clients are cut when PostgreSQL stops at the end of the run; that is not a failure.
      pool.on('error', () => undefined);
      await createJobTable(pool);
      const dbos = dbosSession(await ensureDatabase(s.databaseUrl, 'platform_bench_dbos'));
      const notMeasured: string[] = [];
      const log = (message: string) => context.log(message);
      const redisReady = ensureRedisServer(log);
      const redis = redisReady.ok ? await startRedis(mkdtempSync(join(context.workDir, 'redis-'))) : undefined;
      if (!redisReady.ok) notMeasured.push(`bullmq not measured: ${redisReady.reason}.`);
      const systems: JobSystem[] = [
        temporalSystem(s, false),
        temporalSystem(s, true),
        dbos.direct,
        dbos.queued,
        graphileSystem(await ensureDatabase(s.databaseUrl, 'platform_bench_graphile')),
        pgBossSystem(await ensureDatabase(s.databaseUrl, 'platform_bench_pgboss')),
        ...(redis ? [bullmqSystem(redis)] : []),
      ];
      const results: Measured[] = [];
      try {
        for (const system of systems) {
          context.log(`B2 ${system.key}: warm-up ${size.warmup}, latency ${size.latencyN} sequential jobs`);
          try {
            const measured = await measure(system, pool, size, log);
            results.push(measured);
            context.log(
              `B2 ${system.key}: p50 ${summarize(measured.latencies).p50.toFixed(1)} ms, ${measured.perSec?.toFixed(1) ?? '–'} jobs/s, ${measured.missing} not done in time`,
            );
          } catch (err) {
            notMeasured.push(`${system.label} failed: ${(err as Error).message.split('\n')[0]}`);
          }
        }
      } finally {
        await dbos.stop().catch(() => undefined);
        await redis?.stop();
        await pool.end();
      }

      const p50 = (m: Measured) => summarize(m.latencies).p50;
      const dbosRuns = results.filter((m) => m.system.key.startsWith('dbos'));
      const fastestDbos = dbosRuns.sort((a, b) => p50(a) - p50(b))[0];
      const ours = results.filter((m) => m.system.role === 'ours');
      const series: Series[] = results.map((m) => ({
        label: m.system.label,
        role: m.system.role,
        latencyMs: summarize(m.latencies),
        ...(m.perSec === undefined ? {} : { throughputPerSec: m.perSec }),
        errors: m.missing,
      }));
      return {
        id: 'B2',
        title: this.title,
        status: 'measured',
        n: size.latencyN,
        warmup: size.warmup,
        concurrency: size.concurrency,
        series,
        checks: fastestDbos
          ? ours.map((m) =>
              // Issue 26's goals: a remote activity costs a round trip through the server per step, a local one does not.
              atMostTimes(
                `p50 start-to-done, ${m.system.label} vs ${fastestDbos.system.label}`,
                p50(m),
                p50(fastestDbos),
                m.system.key === 'temporal-local' ? 1.5 : 3,
              ),
            )
          : [],
        notes: [
          `The job: step 1 inserts a row, steps 2 and 3 update it (bench_b2_jobs in the bench PostgreSQL); "done" is the third write committed, observed by the step itself, for every system. Latency (p50/p95/p99): ${size.latencyN} jobs one at a time, enqueue → done. Throughput: ${size.saturationN} jobs enqueued at once, first enqueue → last done, worker concurrency ${size.concurrency} everywhere (Temporal: activity, local-activity and workflow-task slots).`,
          "pg-boss polls at its minimum of 0.5 s, also while LISTEN/NOTIFY is on (with notify's default 30 s backstop poll, a burst arriving while every worker was busy waited up to 30 s), and each worker slot fetches again only on its next poll, so its throughput is bounded near concurrency ÷ 0.5 s.",
          'Temporal and DBOS record each step durably (activity events in the history, DBOS step checkpoints); graphile-worker, pg-boss and bullmq persist the job, and a retried job re-runs all three steps.',
          `Versions: @dbos-inc/dbos-sdk ${packageVersion('@dbos-inc/dbos-sdk')}, graphile-worker ${packageVersion('graphile-worker')}, pg-boss ${packageVersion('pg-boss')}, bullmq ${packageVersion('bullmq')} (ioredis ${packageVersion('ioredis')})${redis ? `, redis-server ${redis.version} (appendonly yes, appendfsync everysec)` : ''}. pg-boss is 12.35.0 because 12.38.0 needs rrule-temporal ^2.2.8, which the npm registry here does not have. graphile-worker 0.18 and pg-boss 12 declare Node ≥ 22 but run here on Node 20.`,
          ...(fastestDbos ? [`The goal's baseline is the faster DBOS series (${fastestDbos.system.label}).`] : []),
          ...results.filter((m) => m.system.latencyOnly).map((m) => `${m.system.label}: latency only (${m.system.latencyOnly}).`),
          ...notMeasured,
        ],
      };
    },
  };
}
