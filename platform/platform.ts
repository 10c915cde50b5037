import type { Server } from 'node:http';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createActivities, createMediaActivities } from '../activities';
import { createProviders } from '../providers';
import { ensureAdminGrantTimers } from './admin-grant-timers';
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
import { createSecretBox, loadEncryptionKey } from '../lib/secrets';
import { urlGuardOptions } from '../lib/ssrf';
import { taskQueues } from '../lib/task-queues';
import { connectTemporalClient } from '../lib/temporal';
import { installTemporalRuntime } from '../worker/temporal-runtime';
import { createMainWorker, createMediaWorker } from '../worker/create-worker';
import { createContentPlanScheduler } from './content-plan-schedules';
import { createPostRunControl } from './post-runs';
import { ensureChannelSyncSchedule, ensureCreditExpirySchedule, ensurePayoutSchedule, ensureWebhookRelaySchedule } from './schedules';

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
  const workers: Worker[] = [];
  let apiUrl: string | undefined;

  try {
    if (parts.worker) {
      installTemporalRuntime(logger);
      const connection = await NativeConnection.connect({ address: endpoints.temporalAddress }).catch((err: Error) => {
        throw new ConfigError(`Temporal unreachable at TEMPORAL_ADDRESS=${endpoints.temporalAddress}: ${err.message.split('\n')[0]}`);
      });
      // The content-plan Schedules of subscribers are created and removed from activities (billing, clean-up).
      const scheduleClient = await connectTemporalClient(endpoints.temporalAddress, config.TEMPORAL_NAMESPACE);
      stops.unshift(() => scheduleClient.connection.close());
      const activityDeps = {
        db,
        logger: logger.child({ component: 'activities' }),
        providers: createProviders({ config, logger, db, sandboxUrls: endpoints.sandboxUrls ?? {} }),
        secrets: createSecretBox(loadEncryptionKey(config)),
        affiliatePolicy: { refundWindowDays: config.AFFILIATE_REFUND_WINDOW_DAYS, minimumPayoutCents: config.AFFILIATE_MIN_PAYOUT_CENTS },
        contentPlanSchedules: createContentPlanScheduler(scheduleClient, { queues, prefix: config.TASK_QUEUE_PREFIX }, logger),
        postRuns: createPostRunControl(scheduleClient),
        webhookDispatch: createWebhookDispatch(scheduleClient, queues, db, webhookDeliveryPolicy(config)),
        urlGuard: urlGuardOptions(config),
      };
      const worker = await createMainWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: queues.main,
        activities: createActivities(activityDeps),
        ...(config.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
        maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      });
      const mediaWorker = await createMediaWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: queues.media,
        activities: createMediaActivities({
          ...activityDeps,
          mediaStore: mediaStoreFor(config, () => activityDeps.providers.cloudinary),
          urlGuard: urlGuardOptions(config),
        }),
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
      const scheduler = await connectTemporalClient(endpoints.temporalAddress, config.TEMPORAL_NAMESPACE);
      try {
        await ensurePayoutSchedule(
          scheduler,
          { queues, prefix: config.TASK_QUEUE_PREFIX, minimumPayoutCents: config.AFFILIATE_MIN_PAYOUT_CENTS },
          logger,
        );
        await ensureChannelSyncSchedule(scheduler, { queues, prefix: config.TASK_QUEUE_PREFIX }, logger);
        await ensureCreditExpirySchedule(scheduler, { queues, prefix: config.TASK_QUEUE_PREFIX }, logger);
        await ensureWebhookRelaySchedule(scheduler, { queues, prefix: config.TASK_QUEUE_PREFIX }, logger);
        await ensureAdminGrantTimers(db, scheduler, queues, logger);
      } finally {
        await scheduler.connection.close();
      }
    }
    if (parts.api) {
      if (!(await isPortFree(config.PORT, config.HOST))) throw new ConfigError(`PORT ${config.PORT} is already in use`);
      const temporal = await connectTemporalClient(endpoints.temporalAddress, config.TEMPORAL_NAMESPACE);
      const app = createApp({
        db,
        temporal,
        logger: logger.child({ component: 'api' }),
        config,
        taskQueues: queues,
        sandboxUrls: endpoints.sandboxUrls,
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
        await temporal.connection.close();
      });
    }
  } catch (err) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw err;
  }

  return {
    db,
    devAccess,
    apiUrl,
    workers,
    async stop() {
      for (const stop of stops) await stop().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
    },
  };
}
