import { readFileSync } from 'node:fs';
import { stopStaleProcess } from '../../lib/runtime/pid-files';
import { startTemporalServer, type TemporalServerOptions } from '../../lib/runtime/temporal-server';

/** How the cluster tier's global setup hands its Temporal server's options to the test files. */
export const CLUSTER_SERVER_ENV = 'TEST_CLUSTER_TEMPORAL_SERVER';

export function clusterServerOptions(): TemporalServerOptions & { pidFile: string } {
  const raw = process.env[CLUSTER_SERVER_ENV];
  if (!raw) throw new Error(`${CLUSTER_SERVER_ENV} is not set: run the cluster tier through \`npm run test:cluster\``);
  return JSON.parse(raw) as TemporalServerOptions & { pidFile: string };
}

/** The running server's pid, from the pid file the server's starter keeps. */
export function clusterServerPid(): number {
  return (JSON.parse(readFileSync(clusterServerOptions().pidFile, 'utf8')) as { pid: number }).pid;
}

/**
 * kill -9 of the Temporal server process; after `downMs` it starts again on the same ports and
 * databases (this process then owns it; the tier's teardown stops it through its pid file).
 */
export async function killAndRestartTemporalServer(downMs: number): Promise<void> {
  const options = clusterServerOptions();
  const pid = clusterServerPid();
  process.kill(pid, 'SIGKILL');
  await stopStaleProcess(options.pidFile); // returns once the killed process is gone
  await new Promise((r) => setTimeout(r, downMs));
  await startTemporalServer(options);
}
