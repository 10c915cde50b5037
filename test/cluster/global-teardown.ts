import { rmSync } from 'node:fs';
import { stopStaleProcess } from '../../lib/runtime/pid-files';
import { clusterServerOptions } from './cluster-stack';

interface Cluster {
  postgres: { stop(): Promise<void> };
  root: string;
}

export default async function globalTeardown(): Promise<void> {
  const cluster = (globalThis as Record<string, unknown>).__PLATFORM_CLUSTER__ as Cluster | undefined;
  if (!cluster) return;
  // Whichever process started the server last (setup, or a test that restarted it), its pid file names it.
  await stopStaleProcess(clusterServerOptions().pidFile);
  await cluster.postgres.stop();
  rmSync(cluster.root, { recursive: true, force: true });
}
