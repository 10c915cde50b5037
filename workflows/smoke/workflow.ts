import { proxyActivities, sleep } from '@temporalio/workflow';
import type { SmokeActivities } from '../../activities/smoke';
import type { SmokeResult, SmokeWorkflowInput } from '../../schemas/smoke';
import { trackRun } from '../common/run-tracking';
import { SMOKE_JOB_TYPE } from './contract';

const { composeGreeting } = proxyActivities<SmokeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' },
});

export async function smokeWorkflow(input: SmokeWorkflowInput): Promise<SmokeResult> {
  return trackRun({ type: SMOKE_JOB_TYPE, userId: input.userId }, async (run) => {
    await run.stage('waiting', 10);
    if (input.delayMs > 0) await sleep(input.delayMs);
    await run.stage('greeting', 60);
    const greeting = await composeGreeting(input.name);
    return { greeting };
  });
}
