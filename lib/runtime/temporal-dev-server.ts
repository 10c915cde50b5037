import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { ConfigError } from '../config';
import { removePidFile, writePidFile } from './pid-files';
import { isPortFree, waitFor } from './ports';
import { SEARCH_ATTRIBUTES } from '../search-attributes';
import { resolveTemporalCli } from './temporal-binary';

export interface DevServerOptions {
  port: number;
  uiPort: number;
  /** SQLite file for persistence; omitted → in-memory. */
  dbFile?: string;
  namespace: string;
  host?: string;
  headless?: boolean;
  /** The codec server the UI calls to show encrypted payloads (our API's /codec); omitted → the UI shows them encrypted. */
  uiCodecEndpoint?: string;
  /** Port of the server's own Prometheus metrics (`/metrics`); omitted → a random one nobody is told of. */
  metricsPort?: number;
  /** Where to record the server's pid while it runs, so a start after a crash can stop it. */
  pidFile?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  metricsUrl?: string;
  pid: number;
  stop(): Promise<void>;
}

function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited in time. */
export function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Dynamic config of every dev server we start (npm start, tests, bench). The dev server runs one
 * history shard, so a per-shard rate is the whole server's rate.
 */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  // Posts are approved, rescheduled and cancelled through workflow updates.
  'frontend.enableUpdateWorkflowExecution=true',
  // Each workflow task a worker can pick up is first a transfer task; at the default 20 reads per
  // second per shard it waited ~40 ms between WORKFLOW_TASK_SCHEDULED and _STARTED, once per step.
  // Measured on 2 loaded cores: empty workflow p50 51 → 27-36 ms, 3 no-op activities 198 → 89-103 ms.
  'history.transferProcessorMaxPollRPS=10000',
  // The timer queue (durable timers, activity and workflow-task timeouts) has the same 20/s cap:
  // neutral for a single workflow's latency, but a burst of timers due at once fires without waiting on it.
  'history.timerProcessorMaxPollRPS=10000',
  // Visibility (list/count queries, search attributes) likewise: a run shows up in lists without a 50 ms read gap.
  'history.visibilityProcessorMaxPollRPS=10000',
];

/** Starts `temporal server start-dev` with our search attributes and waits until it accepts connections. */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const host = options.host ?? '127.0.0.1';
  const cli = resolveTemporalCli();
  if (!(await isPortFree(options.port, host))) throw new ConfigError(`TEMPORAL_PORT ${options.port} is already in use`);
  if (!options.headless && !(await isPortFree(options.uiPort, host))) {
    throw new ConfigError(`TEMPORAL_UI_PORT ${options.uiPort} is already in use`);
  }
  const args = ['server', 'start-dev', '--ip', host, '--port', String(options.port), '--namespace', options.namespace];
  args.push('--log-level', 'warn', '--log-format', 'json');
  if (options.headless) args.push('--headless');
  else args.push('--ui-port', String(options.uiPort));
  if (!options.headless && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.metricsPort !== undefined) {
    if (!(await isPortFree(options.metricsPort, host)))
      throw new ConfigError(`TEMPORAL_SERVER_METRICS_PORT ${options.metricsPort} is already in use`);
    args.push('--metrics-port', String(options.metricsPort));
  }
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const setting of DEV_SERVER_DYNAMIC_CONFIG) args.push('--dynamic-config-value', setting);

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const { pid } = child;
  const { pidFile } = options;
  if (pidFile && pid !== undefined) writePidFile(pidFile, pid);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    if (pidFile && pid !== undefined) removePidFile(pidFile, pid);
  });
  const forward = (chunk: Buffer) => options.log?.(chunk.toString().trimEnd());
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);

  const up = await waitFor(async () => !exited && (await tcpOpen(host, options.port)), 30_000, 100);
  if (!up || pid === undefined) {
    await stopChild(child);
    throw new ConfigError(`Temporal dev server did not start on ${host}:${options.port} (binary ${cli})`);
  }
  return {
    address: `${host}:${options.port}`,
    uiUrl: options.headless ? undefined : `http://${host}:${options.uiPort}`,
    ...(options.metricsPort !== undefined ? { metricsUrl: `http://${host}:${options.metricsPort}/metrics` } : {}),
    pid,
    stop: () => stopChild(child),
  };
}
