// Bench-only baselines: the least a Temporal workflow can do for the same shape of work.
import { proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { BareActivities } from '../lib/bare-activities';
import type { JobSteps } from '../lib/job-steps';

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

const jobActivities = proxyActivities<JobSteps>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
});
const jobLocalActivities = proxyLocalActivities<JobSteps>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
});

/** B2's 3-step job, each step a (remote) activity with its own history events. */
export async function threeStepJobWorkflow(jobId: string): Promise<void> {
  for (const n of [1, 2, 3]) await jobActivities.step(jobId, n);
}

/** B2's 3-step job with local activities: the steps run in the workflow task's worker, recorded as markers. */
export async function threeStepLocalJobWorkflow(jobId: string): Promise<void> {
  for (const n of [1, 2, 3]) await jobLocalActivities.step(jobId, n);
}
