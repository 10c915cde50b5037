// Bench-only baselines: the least a Temporal workflow can do for the same shape of work.
import { proxyActivities, sleep } from '@temporalio/workflow';
import type { BareActivities } from '../lib/bare-activities';

const { noop } = proxyActivities<BareActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
});

/** `count` sequential no-op activities: the floor for a workflow of that many steps. */
export async function bareActivitiesWorkflow(count: number): Promise<number> {
  for (let i = 0; i < count; i++) await noop(i);
  return count;
}

/** One durable timer and nothing else. */
export async function bareSleepWorkflow(delayMs: number): Promise<void> {
  await sleep(delayMs);
}
