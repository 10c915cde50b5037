import { ConfigError, loadConfig, sandboxUrlsFrom } from '../lib/config';
import { createLogger } from '../lib/logger';
import { runMain, untilSignal } from '../lib/runtime/main-runner';
import { DEFAULT_METRICS_ENV } from './metrics';
import { startPlatform, type RunningPlatform } from './platform';

/**
 * Runs one piece of the platform (`npm run api` / `npm run worker`) against DATABASE_URL and
 * TEMPORAL_ADDRESS (production, compose) until SIGINT/SIGTERM.
 */
export function runRole(role: 'api' | 'worker', announce: (platform: RunningPlatform) => [Record<string, unknown>, string]): void {
  runMain(async () => {
    const config = loadConfig({ ...DEFAULT_METRICS_ENV, ...process.env });
    if (!config.DATABASE_URL)
      throw new ConfigError(`DATABASE_URL is required for \`npm run ${role}\` (use \`npm start\` for the all-in-one dev stack)`);
    if (!config.TEMPORAL_ADDRESS) throw new ConfigError(`TEMPORAL_ADDRESS is required for \`npm run ${role}\``);
    const logger = createLogger(config.LOG_LEVEL, role);
    const endpoints = { databaseUrl: config.DATABASE_URL, temporalAddress: config.TEMPORAL_ADDRESS, sandboxUrls: sandboxUrlsFrom(config) };
    const platform = await startPlatform(config, endpoints, logger, { [role]: true });
    logger.info(...announce(platform));
    await untilSignal();
    await platform.stop();
    process.exit(0);
  });
}
