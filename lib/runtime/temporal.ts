import { join } from 'node:path';
import type { Config } from '../config';
import { connectTemporalClient } from '../temporal';
import { stopStaleProcess } from './pid-files';
import { startTemporalDevServer } from './temporal-dev-server';

export interface ResolvedTemporal {
  address: string;
  uiUrl?: string;
  /** The dev server's own Prometheus metrics (TEMPORAL_SERVER_METRICS_PORT). */
  metricsUrl?: string;
  embedded: boolean;
  /** The dev server's pid. */
  pid?: number;
  stop(): Promise<void>;
}

/**
 * TEMPORAL_ADDRESS when set (must answer), else the CLI dev server with its UI, persisted under
 * DATA_DIR. A dev server a crashed start left running (DATA_DIR/temporal.pid) is stopped first.
 */
export async function resolveTemporal(config: Config, log?: (line: string) => void): Promise<ResolvedTemporal> {
  if (config.TEMPORAL_ADDRESS) {
    const client = await connectTemporalClient(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
    await client.connection.close();
    return { address: config.TEMPORAL_ADDRESS, embedded: false, stop: async () => undefined };
  }
  const pidFile = join(config.dataDir, 'temporal.pid');
  await stopStaleProcess(pidFile);
  const server = await startTemporalDevServer({
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: join(config.dataDir, 'temporal.db'),
    namespace: config.TEMPORAL_NAMESPACE,
    // The API npm start serves beside it decodes the payloads the platform encrypted (api/routes/codec.ts).
    uiCodecEndpoint: `${config.PUBLIC_BASE_URL ?? `http://127.0.0.1:${config.PORT}`}/codec`,
    metricsPort: config.TEMPORAL_SERVER_METRICS_PORT,
    pidFile,
    log,
  });
  try {
    // The port opens slightly before the namespace is served.
    const client = await connectTemporalClient(server.address, config.TEMPORAL_NAMESPACE, { timeoutMs: 20_000 });
    await client.connection.close();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    address: server.address,
    uiUrl: server.uiUrl,
    metricsUrl: server.metricsUrl,
    embedded: true,
    pid: server.pid,
    stop: () => server.stop(),
  };
}
