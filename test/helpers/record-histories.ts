import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { resolveTemporalCli } from '../../lib/runtime/temporal-binary';
import { testDataConverter } from './temporal';

export const REPLAY_HISTORY_DIR = resolve(__dirname, '../replay/histories');

/**
 * Saves one completed history per workflow type found on the test server into
 * test/replay/histories (payloads as the server holds them: encrypted with the test keys) (run with RECORD_REPLAY_HISTORIES=1 before the server stops). Those
 * committed histories are replayed against the current code by test/replay/replay.test.ts.
 */
export async function recordReplayHistories(address: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter: testDataConverter() });
  const saved: string[] = [];
  try {
    mkdirSync(REPLAY_HISTORY_DIR, { recursive: true });
    const seen = new Set<string>();
    for await (const execution of client.workflow.list({ query: 'ExecutionStatus="Completed"' })) {
      if (seen.has(execution.type)) continue;
      seen.add(execution.type);
      // The CLI writes the history in the proto JSON form that replay reads back.
      const history = execFileSync(
        resolveTemporalCli(),
        ['workflow', 'show', '--address', address, '--workflow-id', execution.workflowId, '--run-id', execution.runId, '--output', 'json'],
        { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      );
      writeFileSync(join(REPLAY_HISTORY_DIR, `${execution.type}.json`), history);
      saved.push(execution.type);
    }
  } finally {
    await connection.close();
  }
  return saved;
}
