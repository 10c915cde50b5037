// A media-queue-only worker process (renders scale separately from orchestration), which the
// clips and ingest crash tests spawn and kill mid-render / mid-download. It starts in seconds: no workflow bundle.
import { NativeConnection } from '@temporalio/worker';
import { createMediaActivities } from '../../activities';
import { createProviders } from '../../providers';
import { createDb } from '../../db/database';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { runMain, untilSignal } from '../../lib/runtime/main-runner';
import { mediaStoreFor } from '../../lib/media/store';
import { payloadDataConverter } from '../../lib/payload-codec';
import { loadPayloadKeyring } from '../../lib/secrets';
import { urlGuardOptions } from '../../lib/ssrf';
import { taskQueues } from '../../lib/task-queues';
import { installTemporalRuntime } from '../../worker/temporal-runtime';
import { createMediaWorker } from '../../worker/create-worker';

runMain(async () => {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'media-worker');
  const db = createDb(config.DATABASE_URL ?? '');
  installTemporalRuntime(logger);
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS ?? '' });
  const providers = createProviders({ config, logger, db, sandboxUrls: {} });
  const worker = await createMediaWorker({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: taskQueues(config.TASK_QUEUE_PREFIX).media,
    dataConverter: payloadDataConverter(loadPayloadKeyring(config)),
    activities: createMediaActivities({
      db,
      logger,
      providers,
      mediaStore: mediaStoreFor(config, () => providers.cloudinary),
      urlGuard: urlGuardOptions(config),
    }),
  });
  const running = worker.run();
  logger.info('media worker running');
  await untilSignal();
  worker.shutdown();
  await running;
  await db.destroy();
  process.exit(0);
});
