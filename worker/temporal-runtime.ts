import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

let installed = false;

/**
 * Routes the Temporal SDK's own logs into our pino logger at WARN and above (worker state
 * changes and webpack output are noise in a dev terminal). Must run before any Worker or
 * NativeConnection exists; later calls are no-ops.
 */
export function installTemporalRuntime(logger: Logger, level: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    logger: new DefaultLogger(level, ({ level: l, message, meta }) => {
      const method = l === 'ERROR' ? 'error' : l === 'WARN' ? 'warn' : 'debug';
      sdkLogger[method](meta ?? {}, message);
    }),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: level }) } },
    // Our exit hook stops the pieces in order (API, then workers, then servers); the SDK's own
    // signal handling would drain the workers first and make that shutdown fail.
    shutdownSignals: [],
  });
}
