import { AsyncLocalStorage } from 'node:async_hooks';

/** What an activity's I/O consumed that a tenant's cost view counts (db/types.ts UsageKind minus the domain counters). */
export type MeteredKind = 'ffmpeg_cpu_seconds' | 'youtube_units' | 'storage_bytes';

export interface MeteredUsage {
  kind: MeteredKind;
  quantity: number;
  /** A key of the fact itself (a stored file's key) when it may repeat; else the activity attempt counts it. */
  factKey?: string;
}

const meters = new AsyncLocalStorage<MeteredUsage[]>();

/**
 * Runs `work` with a usage meter: ffmpeg runs, YouTube units and stored files report into it
 * (meterUsage) from deep inside lib/ and providers/; `record` gets what was metered. When `work`
 * fails its error wins over a failed recording.
 */
export async function withUsageMeter<T>(work: () => Promise<T>, record: (usage: MeteredUsage[]) => Promise<void>): Promise<T> {
  const usage: MeteredUsage[] = [];
  let result: T;
  try {
    result = await meters.run(usage, work);
  } catch (err) {
    if (usage.length > 0) await record(usage).catch(() => undefined);
    throw err;
  }
  if (usage.length > 0) await record(usage);
  return result;
}

/** Adds to the current meter; outside one (API requests, tests) it is a no-op. */
export function meterUsage(kind: MeteredKind, quantity: number, factKey?: string): void {
  const usage = meters.getStore();
  if (usage && quantity > 0) usage.push({ kind, quantity, ...(factKey ? { factKey } : {}) });
}

/** The current meter, bound now for callbacks that run later (a child process's output); undefined outside one. */
export function boundUsageMeter(): ((kind: MeteredKind, quantity: number) => void) | undefined {
  const usage = meters.getStore();
  return usage ? (kind, quantity) => quantity > 0 && usage.push({ kind, quantity }) : undefined;
}
