import { Context } from '@temporalio/activity';
import type { Db } from '../db/database';
import { recordMeteredUsage, type MeteredFact } from '../db/repositories/usage';
import { withUsageMeter, type MeteredUsage } from '../lib/usage-meter';

const activityInfo = () => {
  try {
    return Context.current().info;
  } catch {
    return undefined;
  }
};

/** The activity attempt's facts: one per stored file (keyed by the file), one sum per kind for the rest (keyed by the attempt). */
function factsOf(usage: MeteredUsage[], attemptKey: string): MeteredFact[] {
  const facts = new Map<string, MeteredFact>();
  for (const { kind, quantity, factKey } of usage) {
    const key = factKey ?? `${kind}:${attemptKey}`;
    const fact = facts.get(key);
    if (fact && !factKey) fact.quantity += quantity;
    else if (!fact) facts.set(key, { kind, quantity, factKey: key });
  }
  return [...facts.values()];
}

/**
 * Wraps every activity so what its I/O metered (ffmpeg CPU seconds, YouTube units, bytes stored)
 * is recorded for the owner of its run: one usage_events row per fact, keyed by the attempt
 * (a retry spends again, and is counted again) or by the stored file (stored twice, counted once).
 */
export function withMeteredUsage<T extends object>(db: Db, activities: T): T {
  const wrapped = Object.entries(activities).map(([name, fn]: [string, (...args: unknown[]) => Promise<unknown>]) => [
    name,
    (...args: unknown[]) =>
      withUsageMeter(
        () => fn(...args),
        async (usage) => {
          const info = activityInfo();
          if (!info?.workflowExecution) return; // called outside a workflow's activity (tests, tools): nobody to bill
          const { workflowExecution, activityId, attempt } = info;
          const attemptKey = `${workflowExecution.workflowId}:${workflowExecution.runId}:${activityId}:${attempt}`;
          await recordMeteredUsage(db, workflowExecution.workflowId, factsOf(usage, attemptKey));
        },
      ),
  ]);
  return Object.fromEntries(wrapped) as T;
}
