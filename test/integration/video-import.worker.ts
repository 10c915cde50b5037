// The worker process the crash test spawns and kills: worker/main.ts's composition root, with the
// URLs of the provider sandboxes the test runs passed in TEST_SANDBOX_URLS (worker/main.ts has no
// way to receive them yet).
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { runMain, untilSignal } from '../../lib/main-runner';
import { startPlatform } from '../../worker/platform';

runMain(async () => {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL, 'worker');
  const sandboxUrls = JSON.parse(process.env.TEST_SANDBOX_URLS ?? '{}') as Record<string, string>;
  const platform = await startPlatform(config, { databaseUrl: config.DATABASE_URL ?? '', temporalAddress: config.TEMPORAL_ADDRESS ?? '', sandboxUrls }, logger, { worker: true });
  logger.info('worker running');
  await untilSignal();
  await platform.stop();
  process.exit(0);
});
