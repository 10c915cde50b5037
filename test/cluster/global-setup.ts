import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startEmbeddedPostgres } from '../../lib/runtime/embedded-postgres';
import { stopStaleProcess } from '../../lib/runtime/pid-files';
import { freePort } from '../../lib/runtime/ports';
import { freeServerPorts, persistenceFromUrl, resolveTemporalServerBuild, startTemporalCluster } from '../../lib/runtime/temporal-server';
import { WORKFLOWS_PATH } from '../../worker/create-worker';
import { productionBundleOptions } from '../../worker/workflow-bundle';
import { createTemplateDatabase } from '../helpers/database';
import { STACK_ENV } from '../helpers/stack-env';
import { CLUSTER_SERVER_ENV } from './cluster-stack';

const TEMPLATE_DB = 'platform_template';

/**
 * The production topology once for the tier: embedded PostgreSQL holding the platform's template
 * database and Temporal's two databases, the Go-built Temporal server on it with the schema,
 * namespace and search attributes set up as compose does. Test files spawn the worker processes.
 */
export default async function globalSetup(): Promise<void> {
  resolveTemporalServerBuild(); // a missing Go build fails here, naming it, before anything starts
  const root = mkdtempSync(join(tmpdir(), 'platform-cluster-'));
  chmodSync(root, 0o755); // the postgres OS user (when running as root) must reach the data dir
  const workflowBundlePath = join(root, 'workflow-bundle.js');
  const [postgres] = await Promise.all([
    startEmbeddedPostgres(join(root, 'pg'), await freePort()),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...productionBundleOptions(), logger: new DefaultLogger('WARN') }).then(
      ({ code }) => writeFile(workflowBundlePath, code),
    ),
  ]);
  const serverOptions = {
    persistence: persistenceFromUrl(postgres.url),
    ports: await freeServerPorts(),
    logFile: join(root, 'temporal-server.log'),
    pidFile: join(root, 'temporal-server.pid'),
  };
  try {
    const [server] = await Promise.all([
      startTemporalCluster({ ...serverOptions, namespace: 'default' }),
      createTemplateDatabase(postgres.url, TEMPLATE_DB),
    ]);
    process.env[STACK_ENV.temporalAddress] = server.address;
  } catch (err) {
    // Jest skips the teardown when setup fails: stop what did start.
    await stopStaleProcess(serverOptions.pidFile);
    await postgres.stop();
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  process.env[STACK_ENV.pgServerUrl] = postgres.url;
  process.env[STACK_ENV.templateDb] = TEMPLATE_DB;
  process.env[STACK_ENV.workflowBundlePath] = workflowBundlePath;
  process.env[CLUSTER_SERVER_ENV] = JSON.stringify(serverOptions);
  (globalThis as Record<string, unknown>).__PLATFORM_CLUSTER__ = { postgres, root };
}
