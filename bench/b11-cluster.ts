import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { seedReferenceData } from '../db/seed';
import { ConfigError } from '../lib/config';
import { payloadDataConverter } from '../lib/payload-codec';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../lib/runtime/embedded-postgres';
import { freePort } from '../lib/runtime/ports';
import { ensureDatabase } from '../lib/runtime/postgres';
import {
  freeServerPorts,
  persistenceFromUrl,
  resolveTemporalServerBuild,
  startTemporalCluster,
  TEMPORAL_SERVER_VERSION,
  type TemporalServer,
} from '../lib/runtime/temporal-server';
import { taskQueues } from '../lib/task-queues';
import { startWorkerProcess, writeWorkflowBundle, type WorkerProcess } from '../platform/cluster';
import type { SmokeWorkflowInput } from '../schemas/smoke';
import { SMOKE_WORKFLOW_TYPE, smokeWorkflowId } from '../workflows/smoke/contract';
import { cpuSecondsBetween, machineCpuSecondsBetween, sampleCpu } from './lib/process-cpu';
import { notRun, type BenchmarkContext, type BenchmarkModule, type BenchmarkResult, type Series } from './lib/result';
import { runBounded, summarize } from './lib/stats';

/** Worker processes per measured phase: full runs in ABBA order to spread drift; quick ones keep to the 60 s budget. */
const SIZES = {
  quick: { warmup: 10, n: 40, concurrency: 20, order: [1, 2] },
  full: { warmup: 30, n: 200, concurrency: 20, order: [1, 2, 2, 1] },
};
/** The template's default (config/docker.yaml of the build); compose and start:cluster keep it. */
const HISTORY_SHARDS = 4;
/** A machine this busy (share of its cores) has no CPU left for another process. */
const SATURATED = 0.9;
/** The machine size the scaling note extrapolates to. */
const BIG_MACHINE_CORES = 8;
const COMPONENTS = ['Temporal server', 'PostgreSQL', 'worker processes', 'bench client'] as const;
type Component = (typeof COMPONENTS)[number];

interface Phase {
  workers: number;
  latencies: number[];
  completed: number;
  errors: number;
  firstError?: string;
  wallSeconds: number;
  cpuSeconds: Record<Component, number>;
  machine: { busy: number; capacity: number };
}

interface Pids {
  server: number;
  postgres: number;
  workers: number[];
}

/** Migrations and reference data, as each worker process would do at start. */
async function preparePlatformDatabase(databaseUrl: string): Promise<void> {
  const db = createDb(databaseUrl, 2);
  try {
    await migrateToLatest(db);
    await seedReferenceData(db);
  } finally {
    await db.destroy();
  }
}

/** `count` workflows at `concurrency`, timed one by one, with each component's CPU over the phase. */
async function measurePhase(count: number, concurrency: number, runOne: () => Promise<unknown>, pids: Pids): Promise<Phase> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: unknown;
  const before = sampleCpu();
  const began = performance.now();
  await runBounded(count, concurrency, async () => {
    const startedAt = performance.now();
    try {
      await runOne();
      latencies.push(performance.now() - startedAt);
    } catch (err) {
      errors++;
      firstError ??= err;
    }
  });
  const wallSeconds = (performance.now() - began) / 1000;
  const after = sampleCpu();
  if (errors === count) throw new Error(`every workflow of the phase failed: ${(firstError as Error).message}`);
  return {
    workers: pids.workers.length,
    latencies,
    completed: latencies.length,
    errors,
    ...(firstError === undefined ? {} : { firstError: (firstError as Error).message }),
    wallSeconds,
    cpuSeconds: {
      'Temporal server': cpuSecondsBetween(before, after, pids.server),
      PostgreSQL: cpuSecondsBetween(before, after, pids.postgres),
      'worker processes': pids.workers.reduce((total, pid) => total + cpuSecondsBetween(before, after, pid), 0),
      'bench client': cpuSecondsBetween(before, after, process.pid, false),
    },
    machine: machineCpuSecondsBetween(before, after),
  };
}

/** The phases of one worker count, added up. */
function combine(phases: Phase[]) {
  const sum = (pick: (p: Phase) => number) => phases.reduce((total, p) => total + pick(p), 0);
  const wallSeconds = sum((p) => p.wallSeconds);
  const completed = sum((p) => p.completed);
  const cpu = Object.fromEntries(COMPONENTS.map((c) => [c, sum((p) => p.cpuSeconds[c])])) as Record<Component, number>;
  const stackSeconds = COMPONENTS.reduce((total, c) => total + cpu[c], 0);
  const machineBusy = sum((p) => p.machine.busy);
  return {
    latencyMs: summarize(phases.flatMap((p) => p.latencies)),
    /** Completed over the phases' summed wall time (not a mean of phase rates, which would overweight a fast phase). */
    throughputPerSec: completed / wallSeconds,
    errors: sum((p) => p.errors),
    wallSeconds,
    completed,
    cpu,
    stackSeconds,
    /** Cores busy on the machine (every process) and available, averaged over the phases. */
    machineCores: machineBusy / wallSeconds,
    capacityCores: sum((p) => p.machine.capacity) / wallSeconds,
    otherCores: Math.max(0, machineBusy - stackSeconds) / wallSeconds,
  };
}
type Combined = ReturnType<typeof combine>;

const pct = (part: number, whole: number) => `${Math.round((100 * part) / whole)}%`;
const cores = (seconds: number, wall: number) => (seconds / wall).toFixed(2);
const perWorkflowMs = (seconds: number, completed: number) => Math.round((1000 * seconds) / completed);
const processes = (n: number) => `${n} worker process${n === 1 ? '' : 'es'}`;

function cpuNote(n: number, c: Combined): string {
  const parts = COMPONENTS.map(
    (component) =>
      `${component} ${pct(c.cpu[component], c.stackSeconds)} (${cores(c.cpu[component], c.wallSeconds)} cores, ${perWorkflowMs(c.cpu[component], c.completed)} ms CPU per workflow)`,
  );
  return `CPU with ${processes(n)}, share of the stack's CPU-seconds over the measured phases (cores used, CPU per completed workflow): ${parts.join('; ')}. The stack used ${cores(c.stackSeconds, c.wallSeconds)} of the machine's ${c.capacityCores.toFixed(1)} cores; the machine was ${pct(c.machineCores, c.capacityCores)} busy, ${c.otherCores.toFixed(2)} cores of it other processes.`;
}

function biggerMachinesNote(one: Combined, two: Combined): string {
  const completed = one.completed + two.completed;
  const ms = (component: Component) => ((one.cpu[component] + two.cpu[component]) / completed) * 1000;
  const [serverMs, postgresMs, workerMs, clientMs] = COMPONENTS.map(ms) as [number, number, number, number];
  const temporalMs = serverMs + postgresMs;
  return (
    `Bigger machines: here the server, PostgreSQL, the workers and the client share ${cpus().length} cores; ` +
    (one.machineCores >= SATURATED * one.capacityCores
      ? `the machine was already ${pct(one.machineCores, one.capacityCores)} busy with one worker process, so the second could only take CPU from the others (the workers got ${cores(two.cpu['worker processes'], two.wallSeconds)} cores instead of ${cores(one.cpu['worker processes'], one.wallSeconds)}). `
      : `with one worker process the machine was ${pct(one.machineCores, one.capacityCores)} busy, so the second had idle CPU to use (the workers got ${cores(two.cpu['worker processes'], two.wallSeconds)} cores instead of ${cores(one.cpu['worker processes'], one.wallSeconds)}). `) +
    `Per completed workflow the stack spent ${Math.round(serverMs + postgresMs + workerMs + clientMs)} ms of CPU: the server ${Math.round(serverMs)}, PostgreSQL ${Math.round(postgresMs)}, the workers ${Math.round(workerMs)}, the client ${Math.round(clientMs)}. ` +
    `With cores to spare, each added worker process adds throughput while the server and PostgreSQL have CPU left: if these costs scaled linearly, a server and PostgreSQL with ${BIG_MACHINE_CORES} cores of their own would carry about ${Math.round((BIG_MACHINE_CORES * 1000) / temporalMs)} such workflows/s, ` +
    `fed by about ${((BIG_MACHINE_CORES * workerMs) / temporalMs).toFixed(1)} cores of worker processes (${(workerMs / temporalMs).toFixed(2)} worker cores per server and PostgreSQL core); past that, more workers add nothing and the server is what to scale: ` +
    `numHistoryShards (${HISTORY_SHARDS} here, the template's default, and fixed when the cluster is created, so a production cluster picks hundreds to thousands up front), ` +
    `the matching partitions of a hot task queue (matching.numTaskqueueReadPartitions/WritePartitions, default 4), the frontend, history and matching services as separate processes on their own hosts, ` +
    `and PostgreSQL on its own machine with fsync on (off here, which flatters persistence); per worker process, its pollers and slots (50 activity slots, the SDK's default workflow-task slots and pollers) decide whether it can keep its cores busy.`
  );
}

/**
 * B11: the production topology (issue P): the Go-built Temporal server on PostgreSQL and the
 * platform's worker processes (platform/worker-main.ts, as `npm run start:cluster` runs them),
 * with one and then two of them serving the same batch of smoke workflows, and the CPU each
 * process family used meanwhile.
 */
export const clusterBenchmark: BenchmarkModule = {
  id: 'B11',
  title: 'Cluster (issue P): throughput with one vs two worker processes, server CPU share',
  async run(context: BenchmarkContext): Promise<BenchmarkResult> {
    try {
      resolveTemporalServerBuild();
    } catch (err) {
      if (err instanceof ConfigError) return notRun(this, err.message);
      throw err;
    }
    const size = context.quick ? SIZES.quick : SIZES.full;
    const root = mkdtempSync(join(context.workDir, 'cluster-'));
    chmodSync(root, 0o755); // the postgres OS user (when running as root) must reach the data dir
    const workers: WorkerProcess[] = [];
    let postgres: EmbeddedPostgresHandle | undefined;
    let server: TemporalServer | undefined;
    let client: Client | undefined;
    try {
      context.log('B11 starting embedded PostgreSQL, then the Temporal server on it; bundling the workflows meanwhile');
      const bundle = writeWorkflowBundle(join(root, 'workflow-bundle.js'), false);
      bundle.catch(() => undefined); // awaited below; not an unhandled rejection if PostgreSQL fails first
      const pg = (postgres = await startEmbeddedPostgres(join(root, 'pg'), await freePort()));
      const databaseUrl = await ensureDatabase(pg.url, 'platform_bench');
      // The platform's schema meanwhile, so the first worker process starts on a ready database.
      const [cluster, migrated] = await Promise.allSettled([
        startTemporalCluster({
          persistence: persistenceFromUrl(pg.url),
          ports: await freeServerPorts(),
          logFile: join(root, 'temporal-server.log'),
          namespace: 'default',
        }),
        preparePlatformDatabase(databaseUrl),
      ]);
      if (cluster.status === 'rejected') throw cluster.reason;
      const temporal = (server = cluster.value);
      if (migrated.status === 'rejected') throw migrated.reason;
      const payloadKey = randomBytes(32);
      const dataConverter = payloadDataConverter({ activeKeyId: 'bench', keys: new Map([['bench', payloadKey]]) });
      const temporalClient = (client = new Client({
        connection: await Connection.connect({ address: temporal.address }),
        namespace: 'default',
        dataConverter,
      }));
      const taskQueue = taskQueues().main;
      const workerEnv = {
        NODE_ENV: 'development',
        LOG_LEVEL: 'error', // nothing per run is logged below; the start lines and the media worker's warning would land in the report's stdout
        DATA_DIR: join(root, 'data'),
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: 'default',
        TASK_QUEUE_PREFIX: '',
        WORKFLOW_BUNDLE_PATH: await bundle,
        SANDBOX_URLS: '{}',
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
        PAYLOAD_ENCRYPTION_KEYS: `bench:${payloadKey.toString('base64')}`,
        OTEL_SDK_DISABLED: 'true', // the bundle has no tracing interceptors
      };
      const startWorker = async () => {
        // Metrics on, as production runs them: ours on an ephemeral port, the SDK's on a free one.
        const metricsEnv = { METRICS_PORT: '0', TEMPORAL_METRICS_PORT: String(await freePort()) };
        workers.push(await startWorkerProcess({ ...workerEnv, ...metricsEnv }, { client: temporalClient, taskQueue }));
      };
      const runOne = () =>
        temporalClient.workflow.execute(SMOKE_WORKFLOW_TYPE, {
          taskQueue,
          workflowId: smokeWorkflowId(randomUUID()),
          args: [{ name: 'bench-cluster', delayMs: 0, userId: null } satisfies SmokeWorkflowInput],
        });
      const pids = (): Pids => ({ server: temporal.pid, postgres: pg.pid, workers: workers.map((w) => w.pid) });
      const warmUp = () => runBounded(size.warmup, size.concurrency, async () => void (await runOne()));
      const phase = async () => {
        context.log(`B11 ${processes(workers.length)}: ${size.n} smoke workflows at concurrency ${size.concurrency}`);
        const measured = await measurePhase(size.n, size.concurrency, runOne, pids());
        if (measured.firstError) context.log(`B11 ${measured.errors} workflows failed; the first: ${measured.firstError}`);
        return measured;
      };

      const phases: Phase[] = [];
      for (const count of size.order) {
        if (workers.length < count) {
          while (workers.length < count) {
            context.log(`B11 starting worker process ${workers.length + 1}`);
            await startWorker();
          }
          await warmUp(); // the new process's workflow cache and JIT
        }
        while (workers.length > count) await workers.pop()?.stop();
        phases.push(await phase());
      }

      const one = combine(phases.filter((p) => p.workers === 1));
      const two = combine(phases.filter((p) => p.workers === 2));
      const shares = (c: Combined) => COMPONENTS.map((component) => `${component} ${pct(c.cpu[component], c.stackSeconds)}`).join(', ');
      const series = (n: number, c: Combined, role: Series['role']): Series => ({
        label: `${processes(n)} (platform/worker-main.ts), smoke workflows; CPU: ${shares(c)}`,
        role,
        latencyMs: c.latencyMs,
        throughputPerSec: c.throughputPerSec,
        errors: c.errors,
      });
      return {
        id: 'B11',
        title: this.title,
        status: 'measured',
        n: one.latencyMs.n,
        warmup: size.warmup,
        concurrency: size.concurrency,
        series: [series(1, one, 'baseline'), series(2, two, 'ours')],
        checks: [],
        notes: [
          `The issue sets no goal for B11, so it has no check. Two worker processes ÷ one: throughput ${(two.throughputPerSec / one.throughputPerSec).toFixed(2)}× (${two.throughputPerSec.toFixed(1)} vs ${one.throughputPerSec.toFixed(1)} workflows/s), p50 latency ${(two.latencyMs.p50 / one.latencyMs.p50).toFixed(2)}× (${Math.round(two.latencyMs.p50)} vs ${Math.round(one.latencyMs.p50)} ms); per phase in order: ${phases.map((p) => `${(p.completed / p.wallSeconds).toFixed(1)}/s with ${p.workers}`).join(', ')}.`,
          `Cluster started for this benchmark alone: the Go-built Temporal server v${TEMPORAL_SERVER_VERSION} (frontend, history, matching and worker services in one process, ${HISTORY_SHARDS} history shards, deploy/temporal/dynamicconfig.yaml) on an embedded PostgreSQL (fsync off) that also holds the platform's database. Workers: the production worker process (platform/worker-main.ts as \`npm run start:cluster\` spawns it: main and media workers with createMainWorker's slots, prebuilt workflow bundle, metrics on). The client in the bench process starts smokeWorkflow (job_runs row opened and closed by activities, two progress writes as local activities, one activity reading PostgreSQL; payloads encrypted) and waits for each result; latency is start → result under that load. ${size.n} workflows per phase at concurrency ${size.concurrency} with ${size.order.join(', ')} worker processes in turn (${size.warmup} warm-up workflows, not measured, after a process joins).`,
          cpuNote(1, one),
          cpuNote(2, two),
          'CPU is read from /proc/<pid>/stat (utime + stime) before and after each measured phase: the server process; the postmaster with every backend (ended backends through the postmaster’s reaped-children time); each worker process with its children; the bench process itself (the Temporal client and payload codec). The machine’s busy share comes from /proc/stat and includes whatever else ran on it.',
          biggerMachinesNote(one, two),
        ],
      };
    } finally {
      for (const worker of workers.reverse()) await worker.stop().catch(() => undefined);
      await client?.connection.close().catch(() => undefined);
      await server?.stop().catch(() => undefined);
      await postgres?.stop().catch(() => undefined);
    }
  },
};
