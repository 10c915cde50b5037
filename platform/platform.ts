import type { Server } from 'node:http';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities, createMediaActivities } from '../activities';
import { createProviders } from '../providers';
import { ensureAdminGrantTimers } from './admin-grant-timers';
import { apiKeyLookupsOf } from '../api/api-key-cache';
import { createApp } from '../api/app';
import { createWebhookDispatch, webhookDeliveryPolicy } from '../api/webhook-dispatch';
import { createDb, type Db } from '../db/database';
import { migrateToLatest } from '../db/migrate';
import { seedReferenceData } from '../db/seed';
import { seedDevAccess, type DevAccess } from '../db/seed/dev-access';
import { ConfigError, type Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import { mediaStoreFor } from '../lib/media/store';
import { isPortFree } from '../lib/runtime/ports';
import { payloadDataConverter } from '../lib/payload-codec';
import { createSecretBox, loadEncryptionKey, loadPayloadKeyring } from '../lib/secrets';
import { urlGuardOptions } from '../lib/ssrf';
import { taskQueues } from '../lib/task-queues';
import { connectTemporalClient } from '../lib/temporal';
import { startTracing, tracingConfigured } from '../lib/tracing';
import { installTemporalRuntime } from '../worker/temporal-runtime';
import { createMainWorker, createMediaWorker } from '../worker/create-worker';
import { createContentPlanScheduler } from './content-plan-schedules';
import { platformMetrics, type MetricsUrls } from './metrics';
import { createPostRunControl } from './post-runs';
import { createSocialAccountSchedules } from '../api/social-schedules';
import { ensureSocialAccountSchedules } from './social-account-schedules';
import { ensureIntervalSweep, ensurePayoutSchedule, ensureRetentionSchedule, INTERVAL_SWEEPS, retentionPolicy } from './schedules';

export interface PlatformEndpoints {
  databaseUrl: string;
  temporalAddress: string;
  /** Provider name → local sandbox URL, for providers without a configured key. */
  sandboxUrls?: Record<string, string>;
}

export interface PlatformParts {
  worker?: boolean;
  api?: boolean;
}

export interface RunningPlatform {
  db: Db;
  /** The demo API key seeded at start (DEV_API_KEY, or generated in development). */
  devAccess: DevAccess;
  apiUrl?: string;
  workers: Worker[];
  /** Where this process serves Prometheus metrics (METRICS_PORT, TEMPORAL_METRICS_PORT); empty when off. */
  metricsUrls: MetricsUrls;
  stop(): Promise<void>;
}

/**
 * The composition root: builds real dependencies from config and starts the worker(s)
 * and/or the API against the given PostgreSQL and Temporal.
 */
export async function startPlatform(
  config: Config,
  endpoints: PlatformEndpoints,
  logger: Logger,
  parts: PlatformParts = { worker: true, api: true },
): Promise<RunningPlatform> {
  // Every client and worker below encrypts the payloads it sends to Temporal with the same keys.
  const dataConverter = payloadDataConverter(loadPayloadKeyring(config));
  const db = createDb(endpoints.databaseUrl);
  let devAccess: DevAccess;
  try {
    await migrateToLatest(db);
    await seedReferenceData(db);
    devAccess = await seedDevAccess(db, config);
  } catch (err) {
    await db.destroy();
    const message = (err as Error).message;
    throw message.includes('migration') ? err : new ConfigError(`PostgreSQL unreachable at DATABASE_URL: ${message}`);
  }
  const queues = taskQueues(config.TASK_QUEUE_PREFIX);
  const stops: Array<() => Promise<void>> = [() => db.destroy()];
  // Before any client, worker or app exists: each adds its tracing pieces only when tracing is active.
  if (tracingConfigured(config)) {
    const tracing = startTracing({
      serviceName: parts.api && parts.worker ? 'creator-jobs' : parts.api ? 'creator-jobs-api' : 'creator-jobs-worker',
    });
    stops.push(() => tracing.shutdown()); // last: flushes the spans of the shutdown too
  }
  const workers: Worker[] = [];
  let apiUrl: string | undefined;
  const metrics = platformMetrics(config, parts);
  let metricsUrls: MetricsUrls = {};

  try {
    if (parts.worker) {
      installTemporalRuntime(logger, { metricsBindAddress: await metrics.temporalBindAddress() });
      const connection = await NativeConnection.connect({ address: endpoints.temporalAddress }).catch((err: Error) => {
        throw new ConfigError(`Temporal unreachable at TEMPORAL_ADDRESS=${endpoints.temporalAddress}: ${err.message.split('\n')[0]}`);
      });
      // The content-plan Schedules of subscribers are created and removed from activities (billing, clean-up).
      const scheduleClient = await connectTemporalClient(endpoints.temporalAddress, config.TEMPORAL_NAMESPACE, { dataConverter });
      stops.unshift(() => scheduleClient.connection.close());
      const activityDeps = {
        db,
        logger: logger.child({ component: 'activities' }),
        providers: createProviders({ config, logger, db, sandboxUrls: endpoints.sandboxUrls ?? {}, metrics: metrics.worker }),
        secrets: createSecretBox(loadEncryptionKey(config)),
        affiliatePolicy: { refundWindowDays: config.AFFILIATE_REFUND_WINDOW_DAYS, minimumPayoutCents: config.AFFILIATE_MIN_PAYOUT_CENTS },
        contentPlanSchedules: createContentPlanScheduler(scheduleClient, { queues, prefix: config.TASK_QUEUE_PREFIX }, logger),
        postRuns: createPostRunControl(scheduleClient),
        socialSchedules: createSocialAccountSchedules(scheduleClient, { queues, prefix: config.TASK_QUEUE_PREFIX }, logger),
        webhookDispatch: createWebhookDispatch(scheduleClient, queues, db, webhookDeliveryPolicy(config)),
        urlGuard: urlGuardOptions(config),
        metrics: metrics.worker,
      };
      const worker = await createMainWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: queues.main,
        dataConverter,
        activities: createActivities(activityDeps),
        ...(config.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
        maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
        metrics: metrics.worker,
      });
      const mediaWorker = await createMediaWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: queues.media,
        dataConverter,
        activities: createMediaActivities({
          ...activityDeps,
          mediaStore: mediaStoreFor(config, () => activityDeps.providers.cloudinary),
          urlGuard: urlGuardOptions(config),
        }),
        metrics: metrics.worker,
      });
      workers.push(worker, mediaWorker);
      const running = Promise.all([worker.run(), mediaWorker.run()]);
      stops.unshift(async () => {
        worker.shutdown();
        mediaWorker.shutdown();
        await running;
        await connection.close();
      });
      running.catch((err: unknown) => logger.fatal({ err }, 'worker stopped unexpectedly'));
      const scheduler = await connectTemporalClient(endpoints.temporalAddress, config.TEMPORAL_NAMESPACE, { dataConverter });
      try {
        await ensurePayoutSchedule(
          scheduler,
          { queues, prefix: config.TASK_QUEUE_PREFIX, minimumPayoutCents: config.AFFILIATE_MIN_PAYOUT_CENTS },
          logger,
        );
        for (const sweep of INTERVAL_SWEEPS)
          await ensureIntervalSweep(scheduler, { queues, prefix: config.TASK_QUEUE_PREFIX }, logger, sweep);
        await ensureRetentionSchedule(scheduler, { queues, prefix: config.TASK_QUEUE_PREFIX, policy: retentionPolicy(config) }, logger);
        await ensureAdminGrantTimers(db, scheduler, queues, logger);
        // Not awaited: one Temporal call per account must not hold the worker's start.
        ensureSocialAccountSchedules(db, activityDeps.socialSchedules, logger).catch((err: unknown) =>
          logger.warn({ err }, 'could not ensure the social account schedules'),
        );
      } finally {
        await scheduler.connection.close();
      }
    }
    if (parts.api) {
      if (!(await isPortFree(config.PORT, config.HOST))) throw new ConfigError(`PORT ${config.PORT} is already in use`);
      const temporal = await connectTemporalClient(endpoints.temporalAddress, config.TEMPORAL_NAMESPACE, { dataConverter });
      const app = createApp({
        db,
        temporal,
        logger: logger.child({ component: 'api' }),
        config,
        taskQueues: queues,
        sandboxUrls: endpoints.sandboxUrls,
        metrics: metrics.api,
      });
      const server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(config.PORT, config.HOST, () => resolve(s));
        s.once('error', reject);
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      apiUrl = `http://${config.HOST}:${port}`;
      stops.unshift(async () => {
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
        await apiKeyLookupsOf(db).flush(); // usage counted since the last batch write
        await temporal.connection.close();
      });
    }
    metricsUrls = await metrics.serve(stops);
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }

  return {
    db,
    devAccess,
    apiUrl,
    workers,
    metricsUrls,
    async stop() {
      for (const stop of stops) await stop().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
    },
  };
}
