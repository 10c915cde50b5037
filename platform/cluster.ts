import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../worker/create-worker';
import { productionBundleOptions } from '../worker/workflow-bundle';
import { tracingBundleOptions } from '../worker/tracing';
import { ConfigError, type Config } from '../lib/config';
import { stopStaleProcess } from '../lib/runtime/pid-files';
import { waitFor } from '../lib/runtime/ports';
import { stopChild } from '../lib/runtime/temporal-dev-server';
import { persistenceFromUrl, serverPortsFrom, startTemporalCluster, type TemporalServer } from '../lib/runtime/temporal-server';

const projectRoot = resolve(__dirname, '..');

/**
 * `npm run start:cluster`'s Temporal: the Go-built server on the platform's PostgreSQL server (its own
 * `temporal` and `temporal_visibility` databases), its ports from TEMPORAL_PORT on, its log and pid
 * under DATA_DIR. A server a crashed start left running there is stopped first.
 */
export async function resolveTemporalCluster(config: Config, databaseUrl: string, log?: (line: string) => void): Promise<TemporalServer> {
  if (config.TEMPORAL_ADDRESS) {
    throw new ConfigError('`npm run start:cluster` runs its own Temporal server: unset TEMPORAL_ADDRESS (or use `npm start` with it)');
  }
  const pidFile = join(config.dataDir, 'temporal-server.pid');
  await stopStaleProcess(pidFile);
  return startTemporalCluster({
    persistence: persistenceFromUrl(databaseUrl),
    ports: serverPortsFrom(config.TEMPORAL_PORT),
    logFile: join(config.dataDir, 'temporal-server.log'),
    pidFile,
    namespace: config.TEMPORAL_NAMESPACE,
    log,
  });
}

/** Bundles the workflow code once, so the worker processes start without webpack each (with the tracing interceptors if they trace). */
export async function writeWorkflowBundle(path: string, tracing: boolean): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    ...productionBundleOptions(tracingBundleOptions(tracing)),
    logger: new DefaultLogger('WARN'),
  });
  await writeFile(path, code);
  return path;
}

export interface WorkerProcess {
  pid: number;
  stop(): Promise<void>;
}

/** Whether a worker process with this pid polls `taskQueue` (the SDK's default identity is `<pid>@<host>`). */
async function polledBy(client: Client, taskQueue: string, pid: number): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue }, // the type defaults to workflow tasks, which every main worker polls
  });
  return (pollers ?? []).some((poller) => poller.identity?.startsWith(`${pid}@`));
}

/**
 * Starts `npm run worker` (platform/worker-main.ts) as a child process with `env` over ours; its
 * output goes to our stdout/stderr. Resolves once it polls the main task queue. It runs in its own
 * process group, so a Ctrl-C reaches only us and we stop the pieces in order.
 */
export async function startWorkerProcess(
  env: Record<string, string>,
  temporal: { client: Client; taskQueue: string },
  timeoutMs = 120_000,
): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'platform', 'worker-main.ts')], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = signal ?? `code ${code}`));
  const { pid } = child;
  const polling = await waitFor(
    async () => exit !== undefined || (pid !== undefined && (await polledBy(temporal.client, temporal.taskQueue, pid))),
    timeoutMs,
    250,
  );
  if (!polling || exit !== undefined || pid === undefined) {
    await stopChild(child);
    throw new ConfigError(
      exit === undefined
        ? `a worker process did not start within ${timeoutMs / 1000} s`
        : `a worker process exited during start (${exit}); see its error above`,
    );
  }
  return { pid, stop: () => stopChild(child, 30_000) };
}
