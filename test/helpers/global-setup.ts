import { chmodSync, mkdtempSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startEmbeddedPostgres } from '../../lib/runtime/embedded-postgres';
import { freePort } from '../../lib/runtime/ports';
import { startTemporalDevServer } from '../../lib/runtime/temporal-dev-server';
import { WORKFLOWS_PATH } from '../../worker/create-worker';
import { productionBundleOptions } from '../../worker/workflow-bundle';
import { createTemplateDatabase } from './database';
import { STACK_ENV } from './stack-env';

const TEMPLATE_DB = 'platform_template';

/**
 * One real PostgreSQL and one real Temporal dev server for the whole run; each test file then
 * takes its own database (cloned from a migrated template) and its own task queues.
 */
export default async function globalSetup(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'platform-test-'));
  chmodSync(root, 0o755); // the postgres OS user (when running as root) must reach the data dir
  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  const workflowBundlePath = join(root, 'workflow-bundle.js');
  const [postgres, temporal] = await Promise.all([
    startEmbeddedPostgres(join(root, 'pg'), pgPort),
    startTemporalDevServer({ port: temporalPort, uiPort: 0, namespace: 'default', headless: true }),
    // Bundled once for the run: every test file's workers and every spawned worker process load it.
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...productionBundleOptions(), logger: new DefaultLogger('WARN') }).then(
      ({ code }) => writeFile(workflowBundlePath, code),
    ),
  ]);
  await createTemplateDatabase(postgres.url, TEMPLATE_DB);

  process.env[STACK_ENV.pgServerUrl] = postgres.url;
  process.env[STACK_ENV.temporalAddress] = temporal.address;
  process.env[STACK_ENV.templateDb] = TEMPLATE_DB;
  process.env[STACK_ENV.workflowBundlePath] = workflowBundlePath;
  (globalThis as Record<string, unknown>).__PLATFORM_TEST_STACK__ = { postgres, temporal, root };
}
