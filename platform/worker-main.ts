// `npm run worker`: the worker alone, against DATABASE_URL and TEMPORAL_ADDRESS (production, compose).
import { ConfigError, loadConfig, sandboxUrlsFrom } from '../lib/config';
import { createLogger } from '../lib/logger';
import { runMain, untilSignal } from '../lib/runtime/main-runner';
import { startPlatform } from './platform';

runMain(async () => {
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new ConfigError('DATABASE_URL is required for `npm run worker` (use `npm start` for the all-in-one dev stack)');
  if (!config.TEMPORAL_ADDRESS) throw new ConfigError('TEMPORAL_ADDRESS is required for `npm run worker`');
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  const platform = await startPlatform(config, { databaseUrl: config.DATABASE_URL, temporalAddress: config.TEMPORAL_ADDRESS, sandboxUrls: sandboxUrlsFrom(config) }, logger, { worker: true });
  logger.info({ taskQueuePrefix: config.TASK_QUEUE_PREFIX }, 'worker running');
  await untilSignal();
  await platform.stop();
  process.exit(0);
});
