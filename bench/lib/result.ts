import type { LatencySummary } from './stats';

/** One measured series: ours or the baseline it is compared with. */
export interface Series {
  label: string;
  role: 'ours' | 'baseline';
  latencyMs?: LatencySummary;
  /** Completed operations per second over the measured phase. */
  throughputPerSec?: number;
  errors?: number;
}

/** One goal from the issue, evaluated on this run's numbers. */
export interface Check {
  metric: string;
  ours: number;
  baseline: number;
  /** ours / baseline, or NaN when the goal is not a ratio. */
  ratio: number;
  unit: 'ms' | '/s' | 'count';
  goal: string;
  met: boolean;
}

export interface BenchmarkResult {
  id: string;
  title: string;
  status: 'measured' | 'not-run' | 'failed';
  /** Why it was not run or what failed. */
  reason?: string;
  /** Measured operations per series, and warm-up operations discarded first. */
  n?: number;
  warmup?: number;
  concurrency?: number;
  series: Series[];
  checks: Check[];
  notes: string[];
}

export interface BenchmarkContext {
  quick: boolean;
  /** Temp directory for this run's files (removed at the end). */
  workDir: string;
  log(message: string): void;
}

export interface BenchmarkModule {
  id: string;
  title: string;
  run(context: BenchmarkContext): Promise<BenchmarkResult>;
}

/** Goal: ours ≤ factor × baseline (latencies). */
export function atMostTimes(metric: string, ours: number, baseline: number, factor: number, unit: Check['unit'] = 'ms'): Check {
  return { metric, ours, baseline, ratio: ours / baseline, unit, goal: `≤ ${factor}× baseline`, met: ours <= factor * baseline };
}

/** Goal: ours ≥ factor × baseline (throughputs). */
export function atLeastTimes(metric: string, ours: number, baseline: number, factor: number, unit: Check['unit'] = '/s'): Check {
  return { metric, ours, baseline, ratio: ours / baseline, unit, goal: `≥ ${factor}× baseline`, met: ours >= factor * baseline };
}

/** Goal: ours ≤ baseline + extraMs. */
export function atMostPlus(metric: string, ours: number, baseline: number, extraMs: number): Check {
  return {
    metric,
    ours,
    baseline,
    ratio: ours / baseline,
    unit: 'ms',
    goal: `≤ baseline + ${extraMs} ms`,
    met: ours <= baseline + extraMs,
  };
}

/** Goal: ours ≤ factor × baseline + extraMs (a latency against a floor plus a fixed allowance). */
export function atMostTimesPlus(metric: string, ours: number, baseline: number, factor: number, extraMs: number): Check {
  return {
    metric,
    ours,
    baseline,
    ratio: ours / baseline,
    unit: 'ms',
    goal: `≤ ${factor}× baseline + ${extraMs} ms`,
    met: ours <= factor * baseline + extraMs,
  };
}

/** Goal on ours alone (the baseline column shows the same metric for context). */
export function absolute(metric: string, ours: number, baseline: number, goal: string, met: boolean, unit: Check['unit'] = 'ms'): Check {
  return { metric, ours, baseline, ratio: ours / baseline, unit, goal, met };
}

export function notRun(module: Pick<BenchmarkModule, 'id' | 'title'>, reason: string): BenchmarkResult {
  return { id: module.id, title: module.title, status: 'not-run', reason, series: [], checks: [], notes: [] };
}
