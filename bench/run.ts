import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { orchestrationBenchmark } from './b1-orchestration';
import { jobSystemsBenchmark } from './b2-job-systems';
import { mediaBenchmark } from './b3-media';
import { stripeWebhookBenchmark } from './b4-stripe-webhook';
import { timersBenchmark } from './b5-timers';
import { payoutsBenchmark } from './b6-payouts';
import { aiFanOutBenchmark } from './b7-ai-fanout';
import { runStatusBenchmark } from './b8-run-status';
import { costGrowthBenchmark } from './b9-cost-growth';
import { noisyNeighbourBenchmark } from './b10-noisy-neighbour';
import { clusterBenchmark } from './b11-cluster';
import { ingestBenchmark } from './b12-ingest';
import { describeMachine } from './lib/machine';
import { renderMarkdown, withReadmeTable, type RunReport } from './lib/report';
import { notRun, type BenchmarkModule, type BenchmarkResult } from './lib/result';
import { startBenchStack, type BenchStack } from './lib/stack';

const ROOT = resolve(__dirname, '..');
const RESULTS_DIR = join(__dirname, 'results');

function parseArgs(argv: string[]): { quick: boolean; only?: Set<string> } {
  const quick = argv.includes('--quick');
  const onlyArg = argv.find((a) => a.startsWith('--only='));
  const only = onlyArg
    ? new Set(
        onlyArg
          .slice('--only='.length)
          .split(',')
          .map((id) => id.trim().toUpperCase())
          .filter(Boolean),
      )
    : undefined;
  const unknown = argv.filter((a) => a !== '--quick' && !a.startsWith('--only='));
  if (unknown.length) throw new Error(`unknown arguments: ${unknown.join(' ')} (use --quick and --only=B1,B3)`);
  return { quick, only };
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const workDir = mkdtempSync(join(tmpdir(), 'platform-bench-'));
  chmodSync(workDir, 0o755); // the postgres OS user (when running as root) must reach the data dir
  const log = (message: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

  let stack: Promise<BenchStack> | undefined;
  const sharedStack = () => {
    if (!stack) {
      log('starting embedded PostgreSQL + Temporal dev server');
      stack = startBenchStack(workDir);
    }
    return stack;
  };
  const modules: BenchmarkModule[] = [
    orchestrationBenchmark(sharedStack),
    jobSystemsBenchmark(sharedStack),
    mediaBenchmark,
    stripeWebhookBenchmark(sharedStack),
    timersBenchmark(sharedStack),
    payoutsBenchmark(sharedStack),
    aiFanOutBenchmark(sharedStack),
    runStatusBenchmark(sharedStack),
    costGrowthBenchmark(sharedStack),
    noisyNeighbourBenchmark(sharedStack),
    clusterBenchmark,
    ingestBenchmark(sharedStack),
  ];
  const selected = modules.filter((m) => !only || only.has(m.id));
  const machine = await describeMachine();
  log(
    `${quick ? 'quick' : 'full'} run: ${selected.map((m) => m.id).join(', ') || 'nothing selected'}; load average ${machine.loadAverageAtStart.join(' / ')}`,
  );

  const results: BenchmarkResult[] = [];
  let postgresVersion: string | undefined;
  try {
    for (const module of selected) {
      const began = Date.now();
      try {
        results.push(await module.run({ quick, workDir, log }));
      } catch (err) {
        log(`${module.id} failed: ${(err as Error).stack ?? String(err)}`);
        results.push({ ...notRun(module, (err as Error).message.split('\n')[0] ?? String(err)), status: 'failed' });
      }
      log(`${module.id} took ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }
  } finally {
    if (stack) {
      const running = await stack.catch(() => undefined);
      postgresVersion = running?.postgresVersion;
      await running?.stop();
    }
    rmSync(workDir, { recursive: true, force: true });
  }

  const report: RunReport = {
    mode: quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine,
    loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100),
    stack: stack
      ? `embedded PostgreSQL ${postgresVersion ?? '?'} (fsync off) and Temporal dev server (in-memory SQLite), both on 127.0.0.1, started for this run`
      : 'none shared (no benchmark used the shared PostgreSQL + Temporal dev server)',
    results,
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonPath = join(RESULTS_DIR, `${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report);
  writeFileSync(join(RESULTS_DIR, 'latest.md'), markdown);
  // Only a full run of every series stands for the project in README; quick or partial runs stay in bench/results.
  if (!quick && !only) {
    const readmePath = join(ROOT, 'README.md');
    writeFileSync(readmePath, withReadmeTable(readFileSync(readmePath, 'utf8'), markdown));
  }
  log(`wrote ${jsonPath} and bench/results/latest.md${!quick && !only ? " and README's Performance section" : ''}`);
  process.stdout.write(markdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
