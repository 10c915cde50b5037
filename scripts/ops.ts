// `npm run ops -- <command>`: operator commands run against the stack's PostgreSQL and Temporal
// directly (DATABASE_URL + TEMPORAL_ADDRESS, else the running `npm start`'s data/runtime.json).
//   npm run ops -- redrive --type video-import --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z
//                          [--error-type ProviderUnavailable] [--dry-run] [--limit 100] [--rate 5]
// prints the report of POST /v1/admin/runs/redrive as JSON.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { redriveRuns } from '../api/redrive';
import { createDb } from '../db/database';
import { ConfigError, loadConfig } from '../lib/config';
import { createLogger } from '../lib/logger';
import { runMain } from '../lib/runtime/main-runner';
import { taskQueues } from '../lib/task-queues';
import { connectTemporalClient } from '../lib/temporal';
import { RedriveBodySchema } from '../schemas/operations';

const USAGE =
  'usage: npm run ops -- redrive --type <jobType> --from <ISO time> --to <ISO time> [--error-type <type>] [--dry-run] [--limit n] [--rate n]';

function endpoints(config: ReturnType<typeof loadConfig>): { databaseUrl: string; temporalAddress: string; namespace: string } {
  if (config.DATABASE_URL && config.TEMPORAL_ADDRESS)
    return { databaseUrl: config.DATABASE_URL, temporalAddress: config.TEMPORAL_ADDRESS, namespace: config.TEMPORAL_NAMESPACE };
  const manifest = join(config.dataDir, 'runtime.json');
  if (!existsSync(manifest))
    throw new ConfigError(`set DATABASE_URL and TEMPORAL_ADDRESS, or start the stack with \`npm start\` (${manifest} not found)`);
  const runtime = JSON.parse(readFileSync(manifest, 'utf8')) as { databaseUrl: string; temporalAddress: string; temporalNamespace: string };
  return { databaseUrl: runtime.databaseUrl, temporalAddress: runtime.temporalAddress, namespace: runtime.temporalNamespace };
}

async function redrive(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      type: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      'error-type': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      limit: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  const parsed = RedriveBodySchema.safeParse({
    type: values.type,
    from: values.from,
    to: values.to,
    errorType: values['error-type'],
    dryRun: values['dry-run'],
    limit: values.limit === undefined ? undefined : Number(values.limit),
    startsPerSecond: values.rate === undefined ? undefined : Number(values.rate),
  });
  if (!parsed.success) throw new ConfigError(`${z.prettifyError(parsed.error).replace(/\n/g, ' ')}\n${USAGE}`);

  const config = loadConfig();
  const { databaseUrl, temporalAddress, namespace } = endpoints(config);
  const db = createDb(databaseUrl, 2);
  const temporal = await connectTemporalClient(temporalAddress, namespace);
  try {
    const report = await redriveRuns(
      { db, temporal, logger: createLogger('warn', 'ops'), taskQueues: taskQueues(config.TASK_QUEUE_PREFIX) },
      parsed.data,
    );
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } catch (err) {
    const problem = err as { status?: number; detail?: string };
    if (problem.status) throw new ConfigError(problem.detail ?? String(err));
    throw err;
  } finally {
    await temporal.connection.close();
    await db.destroy();
  }
}

runMain(async () => {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'redrive') return redrive(rest);
  throw new ConfigError(`unknown command ${command ?? '(none)'}\n${USAGE}`);
});
