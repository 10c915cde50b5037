import type { MachineInfo } from './machine';
import type { BenchmarkResult, Check, Series } from './result';

export interface RunReport {
  mode: 'quick' | 'full';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  loadAverageAtEnd: number[];
  stack: string;
  results: BenchmarkResult[];
}

const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value) ? '–' : value >= 100 ? `${Math.round(value)}` : value.toFixed(1);
const formatValue = (value: number, unit: Check['unit']) =>
  Number.isNaN(value) ? '–' : unit === 'ms' ? `${ms(value)} ms` : unit === '/s' ? `${value.toFixed(1)}/s` : String(value);
const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '–');

function seriesRow(result: BenchmarkResult, series: Series): string {
  const latency = series.latencyMs;
  const shape = `${latency?.n ?? result.n ?? '–'} (${result.warmup ?? 0}, ${result.concurrency ?? 1})`;
  const throughput = series.throughputPerSec === undefined ? '–' : `${series.throughputPerSec.toFixed(1)}/s`;
  return `| ${result.id} | ${series.role === 'ours' ? '**ours**' : 'baseline'}: ${series.label} | ${shape} | ${ms(latency?.p50)} | ${ms(latency?.p95)} | ${ms(latency?.p99)} | ${throughput} | ${series.errors ?? 0} |`;
}

/** The markdown table (bench/results/latest.md and README's Performance section). */
export function renderMarkdown(report: RunReport): string {
  const { machine } = report;
  const measured = report.results.filter((r) => r.status === 'measured');
  const checks = measured.flatMap((r) => r.checks.map((c) => ({ id: r.id, ...c })));
  const short = checks.filter((c) => !c.met);
  const lines = [
    `_${report.mode === 'quick' ? 'Quick (small N, smoke-check) run' : 'Full run'} of ${report.startedAt} → ${report.finishedAt}._`,
    '',
    `Machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB RAM, ${machine.os}, Node ${machine.node}; ` +
      `load average ${machine.loadAverageAtStart.join(' / ')} at start and ${report.loadAverageAtEnd.join(' / ')} at the end (1/5/15 min). ` +
      `Stack: ${report.stack}.`,
    '',
    `Versions: ${Object.entries(machine.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join('; ')}.`,
    '',
    'Every ratio is ours ÷ a baseline measured in the same run on the same machine.',
    '',
    '### Goals',
    '',
    '| | Metric | Ours | Baseline | Ratio | Goal | Met |',
    '|---|---|---:|---:|---:|---|---|',
    ...checks.map(
      (c) =>
        `| ${c.id} | ${c.metric} | ${formatValue(c.ours, c.unit)} | ${formatValue(c.baseline, c.unit)} | ${ratio(c.ratio)} | ${c.goal} | ${c.met ? 'yes' : '**no**'} |`,
    ),
    '',
    '### Series',
    '',
    'N = measured operations (warm-up discarded, concurrency); latencies in ms.',
    '',
    '| | Series | N (warm-up, concurrency) | p50 | p95 | p99 | Throughput | Errors |',
    '|---|---|---|---:|---:|---:|---:|---:|',
    ...measured.flatMap((r) => r.series.map((s) => seriesRow(r, s))),
    '',
    '### Where we fall short',
    '',
    ...(short.length
      ? short.map((c) => `- ${c.id} ${c.metric}: ${formatValue(c.ours, c.unit)} vs ${formatValue(c.baseline, c.unit)} (goal ${c.goal}).`)
      : ['- Every measured goal was met in this run.']),
    ...report.results
      .filter((r) => r.status !== 'measured')
      .map((r) => `- ${r.id} ${r.title}: ${r.status === 'failed' ? 'failed' : 'not measured'}: ${r.reason ?? ''}`),
    '',
    '### Notes',
    '',
    ...measured.flatMap((r) => r.notes.map((note) => `- ${r.id}: ${note}`)),
    '',
  ];
  return lines.join('\n');
}

export const README_START = '<!-- bench:results:start -->';
export const README_END = '<!-- bench:results:end -->';

/** README with the text between the Performance section's markers replaced; unchanged without markers. */
export function withReadmeTable(readme: string, markdown: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) return readme;
  return `${readme.slice(0, start + README_START.length)}\n${markdown}\n${readme.slice(end)}`;
}
