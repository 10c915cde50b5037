// Replays every recorded history in test/replay/histories against the current workflow code and
// exits non-zero on the first non-determinism. Runs as a plain Node process: jest's module
// sandbox breaks the SDK's protobuf conversion of JSON histories.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { runMain } from '../lib/runtime/main-runner';
import { WORKFLOWS_PATH } from '../worker/create-worker';
import { bundleWorkflowCode } from '@temporalio/worker';
import { testDataConverter } from '../test/helpers/temporal';

const HISTORY_DIR = resolve(__dirname, '../test/replay/histories');

runMain(async () => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const files = readdirSync(HISTORY_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  // Histories recorded since payload encryption are sealed with the test keys; older plaintext ones pass the codec unchanged.
  const dataConverter = testDataConverter();
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('ERROR') });
  for (const file of files) {
    const history: unknown = JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle, dataConverter }, history, file);
    process.stdout.write(`replayed ${file}\n`);
  }
  process.stdout.write(`replayed ${files.length} histories\n`);
});
