import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../lib/runtime/ports';
import { startTemporalDevServer, type DevServer } from '../../lib/runtime/temporal-dev-server';
import { createTemplateDatabase } from './database';
import { killGroup, spawnTs, type SpawnedProcess } from './processes';
import type { TestStack } from './stack-env';

const TEMPLATE_DB = 'platform_template';

/** A PostgreSQL and a Temporal dev server owned by one test file, which may kill and restart them. */
export interface PrivateStack extends TestStack {
  /** kill -9 of the Temporal dev server; after `downMs` it starts again on the same port and history file. */
  killAndRestartTemporal(downMs: number): Promise<void>;
  /** Stops PostgreSQL (open sessions are cut); after `downMs` it starts again on the same port and data. */
  restartPostgres(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stopPostgres(postgres: SpawnedProcess): Promise<void> {
  killGroup(postgres, 'SIGINT'); // PostgreSQL's fast shutdown
  await postgres.exited;
}

/**
 * Chaos tests restart servers, which the run's shared stack must never see (other files use it in
 * parallel). Both servers keep their data on disk, so a restart finds every run and row again.
 */
export async function startPrivateStack(): Promise<PrivateStack> {
  const root = mkdtempSync(join(tmpdir(), 'platform-chaos-'));
  chmodSync(root, 0o755); // the postgres OS user (when running as root) must reach the data dir
  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  const startPostgres = async () => {
    const proc = spawnTs('test/helpers/postgres-process.ts', { PG_DIR: join(root, 'pg'), PG_PORT: String(pgPort) });
    const url = (await proc.waitForOutput(/postgres ready \S+/)).split(' ')[2] ?? '';
    return { proc, url };
  };
  const startTemporal = () =>
    startTemporalDevServer({ port: temporalPort, uiPort: 0, namespace: 'default', headless: true, dbFile: join(root, 'temporal.db') });

  const [pgStart, temporalStart] = await Promise.allSettled([startPostgres(), startTemporal()]);
  if (pgStart.status === 'rejected' || temporalStart.status === 'rejected') {
    // Stop whichever did start, or its process outlives the test.
    await Promise.allSettled([
      pgStart.status === 'fulfilled' && stopPostgres(pgStart.value.proc),
      temporalStart.status === 'fulfilled' && temporalStart.value.stop(),
    ]);
    rmSync(root, { recursive: true, force: true });
    throw pgStart.status === 'rejected' ? pgStart.reason : (temporalStart as PromiseRejectedResult).reason;
  }
  let postgres = pgStart.value;
  let temporal: DevServer = temporalStart.value;
  const stop = async () => {
    await Promise.allSettled([temporal.stop(), stopPostgres(postgres.proc)]);
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await createTemplateDatabase(postgres.url, TEMPLATE_DB);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    pgServerUrl: postgres.url,
    templateDb: TEMPLATE_DB,
    temporalAddress: temporal.address,
    async killAndRestartTemporal(downMs) {
      process.kill(temporal.pid, 'SIGKILL');
      await temporal.stop(); // resolves once the killed process has exited
      await pause(downMs);
      temporal = await startTemporal();
    },
    async restartPostgres(downMs) {
      await stopPostgres(postgres.proc);
      await pause(downMs);
      postgres = await startPostgres();
    },
    stop,
  };
}
