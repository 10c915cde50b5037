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
  /** Where to record the server's pid while it runs, so a start after a crash can stop it. */
  pidFile?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
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
  if (options.dbFile) {
    mkdirSync(dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  // Sub-second timers and fast task retries keep dev and tests responsive.
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');

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
    pid,
    stop: () => stopChild(child),
  };
}
