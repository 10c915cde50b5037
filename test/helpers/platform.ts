import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createActivities, createMediaActivities, type Activities } from '../../activities';
import { createProviders, type Providers } from '../../providers';
import { createContentPlanScheduler } from '../../platform/content-plan-schedules';
import { createPostRunControl } from '../../platform/post-runs';
import { createSocialAccountSchedules } from '../../api/social-schedules';
import { createApp } from '../../api/app';
import { createWebhookDispatch, webhookDeliveryPolicy } from '../../api/webhook-dispatch';
import { loadConfig, type Config } from '../../lib/config';
import { payloadDataConverter } from '../../lib/payload-codec';
import { createSecretBox, loadEncryptionKey, loadPayloadKeyring, type SecretBox } from '../../lib/secrets';
import { createLogger, type Logger } from '../../lib/logger';
import type { ApiMetrics, WorkerMetrics } from '../../lib/metrics';
import { mediaStoreFor } from '../../lib/media/store';
import { urlGuardOptions } from '../../lib/ssrf';
import type { TaskQueues } from '../../lib/task-queues';
import { createMainWorker, createMediaWorker } from '../../worker/create-worker';
import { createTestDatabase, type TestDatabase } from './database';
import { killGroup, spawnTs, type SpawnedProcess } from './processes';
import { sharedStack, stackValue, type TestStack } from './stack-env';
import { TEST_PAYLOAD_ENCRYPTION_KEYS, testClient, testNativeConnection, uniqueTaskQueues, workflowBundle } from './temporal';

export type WorkerKind = 'main' | 'media';

export interface TestPlatform {
  apiUrl: string;
  database: TestDatabase;
  client: Client;
  queues: TaskQueues & { prefix: string };
  config: Config;
  /** The platform's secret box, for tests that store sealed tokens. */
  secrets: SecretBox;
  /** Starts in-process workers (main + media at start unless `workers: 'later'`); a running kind is left as it is. */
  startWorkers(kinds?: WorkerKind[]): Promise<void>;
  /**
   * Spawns a real worker process (platform/worker-main.ts unless `entry` says otherwise) on this platform's
   * database, task queues, encryption key and sandboxes; resolves once it announces `ready`.
   * Crash tests kill -9 it; stop() kills any still running.
   */
  spawnWorkerProcess(env?: Record<string, string>, options?: { entry?: string; ready?: RegExp }): Promise<SpawnedProcess>;
  stop(): Promise<void>;
}

export interface TestPlatformOptions {
  /** Replace some activities (workflow-level fakes); real ones otherwise. */
  activities?: (real: Activities) => Activities;
  env?: Record<string, string>;
  /** Provider adapters (usually pointed at sandboxes the test started). */
  providers?: Providers;
  /** Or: provider name → URL of a sandbox the test started, for providers built on the platform's own database. */
  sandboxUrls?: Record<string, string>;
  /** 'later': no in-process workers until startWorkers() (crash tests run the first worker as a process). */
  workers?: 'now' | 'later';
  /** A private PostgreSQL + Temporal (tests that restart servers); the run's shared stack otherwise. */
  stack?: TestStack;
  /** The logger of the API, activities and providers (a silent one otherwise). */
  logger?: Logger;
  /** Metrics the in-process workers and the API record into (none otherwise). */
  metrics?: { worker?: WorkerMetrics; api?: ApiMetrics };
}

/** Real PostgreSQL (own database) + real Temporal (own task queues) + real worker + the API on port 0. */
export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const stack = options.stack ?? sharedStack();
  const database = await createTestDatabase(stack);
  const queues = uniqueTaskQueues();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    TASK_QUEUE_PREFIX: queues.prefix,
    PORT: '0',
    ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PAYLOAD_ENCRYPTION_KEYS: TEST_PAYLOAD_ENCRYPTION_KEYS,
    // Never the checkout's DATA_DIR one: a test signing webhooks passes its own and hands it to its sandbox.
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64url')}`,
    ...options.env,
  });
  const secrets = createSecretBox(loadEncryptionKey(config));
  const logger = options.logger ?? createLogger('silent');
  const workerMetrics = options.metrics?.worker;
  const dataConverter = payloadDataConverter(loadPayloadKeyring(config));
  const client = await testClient(stack.temporalAddress, dataConverter);
  const providers =
    options.providers ??
    createProviders({ config, logger, db: database.db, sandboxUrls: options.sandboxUrls ?? {}, metrics: workerMetrics });
  const real = createActivities({
    db: database.db,
    logger,
    providers,
    secrets,
    postRuns: createPostRunControl(client),
    contentPlanSchedules: createContentPlanScheduler(client, { queues, prefix: queues.prefix }, logger),
    socialSchedules: createSocialAccountSchedules(client, { queues, prefix: queues.prefix }, logger),
    webhookDispatch: createWebhookDispatch(client, queues, database.db, webhookDeliveryPolicy(config)),
    urlGuard: urlGuardOptions(config),
    metrics: workerMetrics,
  });
  const connection = await testNativeConnection(stack.temporalAddress);
  const workers = new Map<WorkerKind, { worker: Worker; running: Promise<void> }>();
  const startWorkers = async (kinds: WorkerKind[] = ['main', 'media']) => {
    for (const kind of kinds) {
      if (workers.has(kind)) continue;
      const worker =
        kind === 'main'
          ? await createMainWorker({
              connection,
              namespace: 'default',
              taskQueue: queues.main,
              dataConverter,
              activities: options.activities ? options.activities(real) : real,
              workflowBundle: await workflowBundle(),
              maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
              metrics: workerMetrics,
            })
          : await createMediaWorker({
              connection,
              namespace: 'default',
              taskQueue: queues.media,
              dataConverter,
              activities: createMediaActivities({
                db: database.db,
                logger,
                providers,
                secrets,
                mediaStore: mediaStoreFor(config, () => providers.cloudinary),
                urlGuard: urlGuardOptions(config),
                // Media activities record facts too (clips, images): their deliveries start at once, as on the main worker.
                webhookDispatch: createWebhookDispatch(client, queues, database.db, webhookDeliveryPolicy(config)),
                metrics: workerMetrics,
              }),
              metrics: workerMetrics,
            });
      workers.set(kind, { worker, running: worker.run() });
    }
  };
  if (options.workers !== 'later') await startWorkers();

  const processes: SpawnedProcess[] = [];
  const spawnWorkerProcess = async (
    env: Record<string, string> = {},
    { entry = 'platform/worker-main.ts', ready = /worker running/ } = {},
  ) => {
    const worker = spawnTs(entry, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info', // the worker announces itself at info level
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TASK_QUEUE_PREFIX: queues.prefix,
      WORKFLOW_BUNDLE_PATH: stackValue('workflowBundlePath'),
      ENCRYPTION_KEY: config.ENCRYPTION_KEY,
      PAYLOAD_ENCRYPTION_KEYS: config.PAYLOAD_ENCRYPTION_KEYS,
      SANDBOX_URLS: JSON.stringify(options.sandboxUrls ?? {}),
      ...options.env,
      ...env,
    });
    processes.push(worker);
    await worker.waitForOutput(ready, 90_000);
    return worker;
  };

  const app = createApp({ db: database.db, temporal: client, logger, config, taskQueues: queues, metrics: options.metrics?.api });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    apiUrl: `http://127.0.0.1:${port}`,
    database,
    client,
    queues,
    config,
    secrets,
    startWorkers,
    spawnWorkerProcess,
    async stop() {
      processes.forEach((p) => killGroup(p));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      for (const { worker } of workers.values()) worker.shutdown();
      await Promise.all([...workers.values()].map((w) => w.running));
      await connection.close();
      await client.connection.close();
      await database.drop();
    },
  };
}

/** fetch + JSON helper for API tests. */
export async function api(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}
