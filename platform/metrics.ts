import type { Config } from '../lib/config';
import { ConfigError } from '../lib/config';
import { createApiMetrics, createWorkerMetrics, serveMetrics, type ApiMetrics, type WorkerMetrics } from '../lib/metrics';
import { isPortFree } from '../lib/runtime/ports';

/** Where a process serves its metrics (runtime.json `metricsUrls`). */
export interface MetricsUrls {
  /** Ours (prom-client): API requests and/or runs, activities, providers, AI, ffmpeg; plus process metrics. */
  platform?: string;
  /** The Temporal SDK core's worker metrics (pollers, task slots, schedule-to-start latency…). */
  temporalSdk?: string;
  /** npm start's Temporal dev server's own metrics (runtime.json only). */
  temporalServer?: string;
}

export interface PlatformMetrics {
  worker?: WorkerMetrics;
  api?: ApiMetrics;
  /** host:port for Runtime.install's Prometheus exporter, when TEMPORAL_METRICS_PORT is set. */
  temporalBindAddress(): Promise<string | undefined>;
  /** Starts the METRICS_PORT listener (when set) with the registries built; `stops` gets its shutdown. */
  serve(stops: Array<() => Promise<void>>): Promise<MetricsUrls>;
}

const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** The metrics of the parts this process runs, as METRICS_PORT / TEMPORAL_METRICS_PORT ask (both unset: none). */
export function platformMetrics(config: Config, parts: { worker?: boolean; api?: boolean }): PlatformMetrics {
  const enabled = config.METRICS_PORT !== undefined;
  const worker = enabled && parts.worker ? createWorkerMetrics() : undefined;
  const api = enabled && parts.api ? createApiMetrics() : undefined;
  const sdkPort = parts.worker ? config.TEMPORAL_METRICS_PORT : undefined;
  return {
    worker,
    api,
    async temporalBindAddress() {
      if (sdkPort === undefined) return undefined;
      if (!(await isPortFree(sdkPort, config.METRICS_HOST))) throw new ConfigError(`TEMPORAL_METRICS_PORT ${sdkPort} is already in use`);
      return hostPort(config.METRICS_HOST, sdkPort);
    },
    async serve(stops) {
      const urls: MetricsUrls = {};
      if (sdkPort !== undefined) urls.temporalSdk = `http://${hostPort(config.METRICS_HOST, sdkPort)}/metrics`;
      const registries = [worker?.registry, api?.registry].filter((r) => r !== undefined);
      if (config.METRICS_PORT === undefined || registries.length === 0) return urls;
      const server = await serveMetrics(registries, config.METRICS_HOST, config.METRICS_PORT).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EADDRINUSE' ? new ConfigError(`METRICS_PORT ${config.METRICS_PORT} is already in use`) : err;
      });
      stops.unshift(() => server.stop());
      urls.platform = server.url;
      return urls;
    },
  };
}

/**
 * What npm start, npm run worker and npm run api use unless METRICS_PORT / TEMPORAL_METRICS_PORT /
 * TEMPORAL_SERVER_METRICS_PORT (npm start's dev server) say otherwise (empty = off).
 */
export const DEFAULT_METRICS_ENV = { METRICS_PORT: '9464', TEMPORAL_METRICS_PORT: '9465', TEMPORAL_SERVER_METRICS_PORT: '9463' } as const;

/**
 * `npm run start:cluster`'s worker process number `n` (from 0): its metrics ports follow the start
 * process's, two per worker (ours, then the SDK's): 9466/9467, 9468/9469 by default.
 */
export function workerProcessMetrics(config: Config, n: number): { env: Record<string, string>; urls: MetricsUrls } {
  if (config.METRICS_PORT === undefined || config.METRICS_PORT === 0)
    return { env: { METRICS_PORT: '', TEMPORAL_METRICS_PORT: '' }, urls: {} };
  const platform = config.METRICS_PORT + 2 * (n + 1);
  const sdk = config.TEMPORAL_METRICS_PORT === undefined ? undefined : platform + 1;
  return {
    env: { METRICS_PORT: String(platform), TEMPORAL_METRICS_PORT: sdk === undefined ? '' : String(sdk) },
    urls: {
      platform: `http://${hostPort(config.METRICS_HOST, platform)}/metrics`,
      ...(sdk === undefined ? {} : { temporalSdk: `http://${hostPort(config.METRICS_HOST, sdk)}/metrics` }),
    },
  };
}
