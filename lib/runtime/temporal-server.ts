import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../config';
import { SEARCH_ATTRIBUTES } from '../search-attributes';
import { connectTemporalClient } from '../temporal';
import { removePidFile, writePidFile } from './pid-files';
import { isPortFree, waitFor } from './ports';
import { ensureDatabase } from './postgres';
import { resolveTemporalCli } from './temporal-binary';
import { stopChild } from './temporal-dev-server';

/** The server version `npm install` builds (scripts/install-tools.mjs) and docker-compose.yml runs. */
export const TEMPORAL_SERVER_VERSION = '1.32.0';

const projectRoot = resolve(__dirname, '..', '..');
const DEPLOY_DIR = join(projectRoot, 'deploy', 'temporal');
/** Shared with docker-compose.yml, so both topologies run the same server settings. */
export const DYNAMIC_CONFIG_FILE = join(DEPLOY_DIR, 'dynamicconfig.yaml');

/** What the install built into .tools/temporal-server (a link to the per-machine cache). */
interface TemporalServerBuild {
  binDir: string;
  server: string;
  schemaDir: string;
  /** config/docker.yaml of the module: the env-driven template the temporalio/server image renders. */
  configTemplate: string;
}

export function resolveTemporalServerBuild(dir = join(projectRoot, '.tools', 'temporal-server')): TemporalServerBuild {
  const build = {
    binDir: join(dir, 'bin'),
    server: join(dir, 'bin', 'temporal-server'),
    schemaDir: join(dir, 'schema', 'postgresql', 'v12'),
    configTemplate: join(dir, 'config', 'docker.yaml'),
  };
  if (![build.server, join(build.binDir, 'temporal-sql-tool'), build.schemaDir, build.configTemplate].every((p) => existsSync(p))) {
    throw new ConfigError(
      `the Temporal server build (go.temporal.io/server v${TEMPORAL_SERVER_VERSION}) is missing from .tools/temporal-server: install Go, then run \`npm install\` (its postinstall builds it)`,
    );
  }
  return build;
}

/** The PostgreSQL server Temporal keeps its two databases on, and a role that may create them. */
export interface TemporalPersistence {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Host, port and credentials of a postgres:// URL (its database is ignored). */
export function persistenceFromUrl(url: string): TemporalPersistence {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

function persistenceUrl(pg: TemporalPersistence, database: string): string {
  return `postgres://${encodeURIComponent(pg.user)}:${encodeURIComponent(pg.password)}@${pg.host}:${pg.port}/${database}`;
}

/** Runs one of the deploy/temporal scripts; a failure becomes a ConfigError carrying its last output lines. */
function runDeployScript(script: string, env: Record<string, string>, log?: (line: string) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    execFile('sh', [join(DEPLOY_DIR, script)], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trimEnd();
      if (output) log?.(output);
      if (!err) return resolveRun();
      const tail = output.split('\n').slice(-3).join(' | ');
      reject(new ConfigError(`deploy/temporal/${script} failed: ${tail || err.message}`));
    });
  });
}

/**
 * Creates the `temporal` and `temporal_visibility` databases when missing and brings their schemas
 * to this build's version, through deploy/temporal/setup-schema.sh (compose's admin-tools step).
 * Idempotent: every start runs it, so a newer build upgrades the schema.
 */
export async function setupTemporalSchema(pg: TemporalPersistence, log?: (line: string) => void): Promise<void> {
  const build = resolveTemporalServerBuild();
  for (const database of ['temporal', 'temporal_visibility']) await ensureDatabase(persistenceUrl(pg, 'postgres'), database);
  await runDeployScript(
    'setup-schema.sh',
    {
      SQL_PLUGIN: 'postgres12',
      SQL_HOST: pg.host,
      SQL_PORT: String(pg.port),
      SQL_USER: pg.user,
      SQL_PASSWORD: pg.password,
      SCHEMA_DIR: build.schemaDir,
      PATH: `${build.binDir}:${process.env.PATH ?? ''}`,
    },
    log,
  );
}

/** The server's listening ports: the frontend's gRPC port is the one clients use. */
export interface TemporalServerPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  /** Ringpop ports of the four services, in the order above. */
  membership: [number, number, number, number];
}

/** The template's layout (7233; history 7234, matching 7235, worker 7239, HTTP 7243, membership 6933…) moved to `frontend`. */
export function serverPortsFrom(frontend: number): TemporalServerPorts {
  const offset = frontend - 7233;
  return {
    frontend,
    frontendHttp: 7243 + offset,
    history: 7234 + offset,
    matching: 7235 + offset,
    worker: 7239 + offset,
    membership: [6933 + offset, 6934 + offset, 6935 + offset, 6939 + offset],
  };
}

/** The cluster_membership table's rpc_port is a smallint. */
const MAX_SQL_MEMBERSHIP_PORT = 32_767;

function allPorts(ports: TemporalServerPorts): number[] {
  return [ports.frontend, ports.frontendHttp, ports.history, ports.matching, ports.worker, ...ports.membership];
}

/** A free block of server ports at a random base (tests: each run its own cluster). */
export async function freeServerPorts(host = '127.0.0.1'): Promise<TemporalServerPorts> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // Below 32,000: Temporal's SQL schema keeps membership ports in a smallint (at most 32,767).
    const ports = serverPortsFrom(20_000 + Math.floor(Math.random() * 12_000));
    if ((await Promise.all(allPorts(ports).map((p) => isPortFree(p, host)))).every(Boolean)) return ports;
  }
  throw new Error('no free block of ports for a Temporal server');
}

export interface TemporalServerOptions {
  persistence: TemporalPersistence;
  ports: TemporalServerPorts;
  /** The server's stdout/stderr go here (appended), not through a pipe: it may outlive the process that started it. */
  logFile: string;
  /** Where its pid is recorded while it runs, so a later start (or a test's teardown) can stop it. */
  pidFile?: string;
  host?: string;
}

export interface TemporalServer {
  address: string;
  pid: number;
  stop(): Promise<void>;
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-5).join('\n');
  } catch {
    return '';
  }
}

/**
 * Starts the Go-built Temporal server (frontend, history, matching and worker services in one
 * process) on PostgreSQL, configured the way the temporalio/server image is: the module's env-driven
 * template with compose's variables, and deploy/temporal/dynamicconfig.yaml. Resolves once the
 * frontend serves requests from persistence.
 */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServer> {
  const build = resolveTemporalServerBuild();
  const host = options.host ?? '127.0.0.1';
  const { ports, persistence: pg } = options;
  if (Math.max(...allPorts(ports)) > MAX_SQL_MEMBERSHIP_PORT)
    throw new ConfigError(
      `TEMPORAL_PORT ${ports.frontend} puts the server's ports above ${MAX_SQL_MEMBERSHIP_PORT}: Temporal's SQL schema stores membership ports as smallint; choose a TEMPORAL_PORT below 32000`,
    );
  for (const port of allPorts(ports)) {
    if (!(await isPortFree(port, host))) {
      throw new ConfigError(
        `port ${port} of the Temporal server (TEMPORAL_PORT ${ports.frontend} and the ports after it) is already in use`,
      );
    }
  }
  const env = {
    PATH: process.env.PATH ?? '',
    DB: 'postgres12',
    POSTGRES_SEEDS: pg.host,
    DB_PORT: String(pg.port),
    POSTGRES_PORT: String(pg.port), // the template reads the visibility store's port from this one
    POSTGRES_USER: pg.user,
    POSTGRES_PWD: pg.password,
    BIND_ON_IP: host,
    TEMPORAL_BROADCAST_ADDRESS: host,
    DYNAMIC_CONFIG_FILE_PATH: DYNAMIC_CONFIG_FILE,
    LOG_LEVEL: 'warn',
    FRONTEND_GRPC_PORT: String(ports.frontend),
    FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    HISTORY_GRPC_PORT: String(ports.history),
    MATCHING_GRPC_PORT: String(ports.matching),
    WORKER_GRPC_PORT: String(ports.worker),
    FRONTEND_MEMBERSHIP_PORT: String(ports.membership[0]),
    HISTORY_MEMBERSHIP_PORT: String(ports.membership[1]),
    MATCHING_MEMBERSHIP_PORT: String(ports.membership[2]),
    WORKER_MEMBERSHIP_PORT: String(ports.membership[3]),
  };
  mkdirSync(dirname(options.logFile), { recursive: true });
  const logFd = openSync(options.logFile, 'a');
  const child = spawn(build.server, ['--config-file', build.configTemplate, '--allow-no-auth', 'start'], {
    env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const { pid } = child;
  const { pidFile } = options;
  if (pidFile && pid !== undefined) writePidFile(pidFile, pid);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    if (pidFile && pid !== undefined) removePidFile(pidFile, pid);
  });
  child.once('error', () => (exited = true));

  const address = `${host}:${ports.frontend}`;
  // The frontend answers for the system namespace once membership has formed and persistence is read.
  const ready = await waitFor(
    async () => {
      if (exited) return true;
      const client = await connectTemporalClient(address, 'temporal-system', { timeoutMs: 2000 });
      await client.connection.close();
      return true;
    },
    90_000,
    250,
  );
  if (!ready || exited || pid === undefined) {
    await stopChild(child);
    throw new ConfigError(
      `the Temporal server did not start on ${address}; its log (${options.logFile}) ends:\n${logTail(options.logFile)}`,
    );
  }
  return { address, pid, stop: () => stopChild(child, 15_000) };
}

/**
 * Creates the namespace and our search attributes through deploy/temporal/create-namespace.sh (the
 * script compose runs) with the Temporal CLI `npm install` put in .tools/bin, then waits until the
 * frontend serves both.
 */
export async function registerNamespace(address: string, namespace: string, log?: (line: string) => void): Promise<void> {
  const cliDir = dirname(resolveTemporalCli());
  await runDeployScript(
    'create-namespace.sh',
    { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, PATH: `${cliDir}:${process.env.PATH ?? ''}` },
    log,
  );
  const served = await waitFor(
    async () => {
      const client = await connectTemporalClient(address, namespace, { timeoutMs: 2000 });
      try {
        const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
        return Object.keys(SEARCH_ATTRIBUTES).every((name) => customAttributes?.[name] !== undefined);
      } finally {
        await client.connection.close();
      }
    },
    30_000,
    250,
  );
  if (!served) throw new ConfigError(`namespace ${namespace} or its search attributes are not served at ${address} 30 s after creation`);
}

export interface TemporalClusterOptions extends TemporalServerOptions {
  namespace: string;
  log?: (line: string) => void;
}

/** Schema setup/upgrade → server → namespace and search attributes: what compose's Temporal services do. */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalServer> {
  await setupTemporalSchema(options.persistence, options.log);
  const server = await startTemporalServer(options);
  try {
    await registerNamespace(server.address, options.namespace, options.log);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
