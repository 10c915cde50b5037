import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './types';

// Return bigint/numeric columns as JS numbers where they fit (counts, cents); int8 ids are not used.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Repositories take either: callers own transactions. */
export type DbOrTx = Db | Tx;

export function createDb(connectionString: string, max = 10): Db {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 5000 });
  // A connection dropped by the server (restart, failover) must not crash the process: an idle
  // client's error reaches the pool; a checked-out one (between a transaction's queries) has no
  // pool listener, so each client gets its own. The query in flight still fails and is retried.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
