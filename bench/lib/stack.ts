import { chmodSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  bundleWorkflowCode,
  DefaultLogger,
  type BundleOptions,
  makeTelemetryFilterString,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { sql } from 'kysely';
import { createDb, type Db } from '../../db/database';
import { migrateToLatest } from '../../db/migrate';
import { seedReferenceData } from '../../db/seed';
import { startEmbeddedPostgres } from '../../lib/runtime/embedded-postgres';
import { freePort } from '../../lib/runtime/ports';
import { ensureDatabase } from '../../lib/runtime/postgres';
import { startTemporalDevServer } from '../../lib/runtime/temporal-dev-server';
import { payloadDataConverter } from '../../lib/payload-codec';
import { WORKFLOWS_PATH } from '../../worker/create-worker';
import { withObservability } from '../../worker/interceptors';
import { productionBundleOptions } from '../../worker/workflow-bundle';

export const BENCH_WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * One ephemeral PostgreSQL + Temporal dev server (headless, in-memory history), started the way
 * the test suite's global setup does, shared by every benchmark that needs it and stopped at the end.
 */
export interface BenchStack {
  databaseUrl: string;
  db: Db;
  temporalAddress: string;
  client: Client;
  connection: NativeConnection;
  /** Payload encryption with a key of this run, as in production: the client's, and every worker's. */
  dataConverter: DataConverter;
  /** The production bundle (workflows/, as the worker builds it) and the bench-only one (bench/workflows/), each built once. */
  productionBundle(): Promise<WorkflowBundleWithSourceMap>;
  benchBundle(): Promise<WorkflowBundleWithSourceMap>;
  postgresVersion: string;
  stop(): Promise<void>;
}

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

export async function startBenchStack(workDir: string): Promise<BenchStack> {
  quietRuntime();
  const root = mkdtempSync(join(workDir, 'stack-'));
  chmodSync(root, 0o755); // the postgres OS user (when running as root) must reach the data dir
  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  const [pgStart, temporalStart] = await Promise.allSettled([
    startEmbeddedPostgres(join(root, 'pg'), pgPort),
    startTemporalDevServer({ port: temporalPort, uiPort: 0, namespace: 'default', headless: true }),
  ]);
  if (pgStart.status === 'rejected' || temporalStart.status === 'rejected') {
    // Stop whichever did start, or its process outlives the run.
    await Promise.allSettled([
      pgStart.status === 'fulfilled' && pgStart.value.stop(),
      temporalStart.status === 'fulfilled' && temporalStart.value.stop(),
    ]);
    throw pgStart.status === 'rejected' ? pgStart.reason : (temporalStart as PromiseRejectedResult).reason;
  }
  const [postgres, temporal] = [pgStart.value, temporalStart.value];
  const databaseUrl = await ensureDatabase(postgres.url, 'platform_bench');
  const db = createDb(databaseUrl, 20);
  await migrateToLatest(db);
  await seedReferenceData(db);
  const { rows } = await sql<{ server_version: string }>`show server_version`.execute(db);
  const dataConverter = payloadDataConverter({ activeKeyId: 'bench', keys: new Map([['bench', randomBytes(32)]]) });
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }), namespace: 'default', dataConverter });
  const connection = await NativeConnection.connect({ address: temporal.address });

  const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
  const bundle = (workflowsPath: string, options: Partial<BundleOptions> = {}) => {
    let built = bundles.get(workflowsPath);
    if (!built) bundles.set(workflowsPath, (built = bundleWorkflowCode({ workflowsPath, ...options, logger: new DefaultLogger('WARN') })));
    return built;
  };
  return {
    databaseUrl,
    db,
    temporalAddress: temporal.address,
    client,
    connection,
    dataConverter,
    productionBundle: () => bundle(WORKFLOWS_PATH, productionBundleOptions()),
    benchBundle: () => bundle(BENCH_WORKFLOWS_PATH),
    postgresVersion: rows[0]?.server_version ?? 'unknown',
    async stop() {
      await client.connection.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
      await db.destroy().catch(() => undefined);
      await Promise.allSettled([temporal.stop(), postgres.stop()]);
    },
  };
}

/**
 * Worker options shared by ours and the baseline: the values createMainWorker (worker/create-worker.ts)
 * uses in production, so the only difference is the workflow and activity code.
 */
export async function runWorkerDuring<T>(
  stack: BenchStack,
  taskQueue: string,
  workflowBundle: WorkflowBundleWithSourceMap,
  activities: object,
  body: () => Promise<T>,
  /** Slot limits a benchmark sets to match the systems it compares with. */
  overrides: Pick<
    WorkerOptions,
    'maxConcurrentActivityTaskExecutions' | 'maxConcurrentLocalActivityExecutions' | 'maxConcurrentWorkflowTaskExecutions'
  > = {},
): Promise<T> {
  const worker = await Worker.create({
    connection: stack.connection,
    namespace: 'default',
    taskQueue,
    activities,
    workflowBundle,
    dataConverter: stack.dataConverter,
    maxConcurrentActivityTaskExecutions: 50,
    // The production interceptors and run-metrics sink (no metrics recorded): the workflow interceptor in the production bundle calls the sink.
    ...withObservability({}, undefined, { workflows: true, prebuiltBundle: true }),
    shutdownGraceTime: '10 seconds',
    ...overrides,
  });
  return worker.runUntil(body());
}
