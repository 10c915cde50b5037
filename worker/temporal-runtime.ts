import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

let installed = false;

export interface TemporalRuntimeOptions {
  /** The SDK's own lines (worker, core) below this level are dropped: state changes and webpack output are noise. */
  level?: LogLevel;
  /** host:port for the SDK core's Prometheus exporter (worker, poller, task-slot metrics at /metrics); off when unset. */
  metricsBindAddress?: string;
}

/** Lines written by our code through the SDK's loggers (workflow `log`, activity `Context.log`): kept at every level. */
const OUR_COMPONENTS = new Set(['workflow', 'activity']);
const LEVEL_ORDER: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * Routes the Temporal SDK's logs into our pino logger: the SDK's own at `level` and above,
 * workflow `log` lines (with workflowId, runId, workflowType and the run's requestId/userId) at
 * pino's level. Optionally serves the SDK core's metrics. Must run before any Worker or
 * NativeConnection exists and only once per process; later calls are no-ops.
 */
export function installTemporalRuntime(logger: Logger, { level = 'WARN', metricsBindAddress }: TemporalRuntimeOptions = {}): void {
  if (installed) return;
  installed = true;
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  const minimum = LEVEL_ORDER.indexOf(level);
  Runtime.install({
    logger: new DefaultLogger('DEBUG', ({ level: l, message, meta }) => {
      if (!OUR_COMPONENTS.has(String(meta?.sdkComponent)) && LEVEL_ORDER.indexOf(l) < minimum) return;
      const method = l === 'ERROR' ? 'error' : l === 'WARN' ? 'warn' : l === 'INFO' ? 'info' : 'debug';
      sdkLogger[method](meta ?? {}, message);
    }),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: level }) },
      ...(metricsBindAddress ? { metrics: { prometheus: { bindAddress: metricsBindAddress } } } : {}),
    },
    // Our exit hook stops the pieces in order (API, then workers, then servers); the SDK's own
    // signal handling would drain the workers first and make that shutdown fail.
    shutdownSignals: [],
  });
}
