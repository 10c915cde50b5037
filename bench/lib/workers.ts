import { randomBytes } from 'node:crypto';
import { createRunActivities } from '../../activities/runs';
import { createSmokeActivities } from '../../activities/smoke';
import { bareActivities } from './bare-activities';
import { runWorkerDuring, type BenchStack } from './stack';

export interface WorkerQueues {
  /** Runs the production workflow bundle with the real activities it calls (PostgreSQL writes included). */
  ours: string;
  /** Runs bench/workflows with no-op activities. */
  bare: string;
}

/** Both workers, with identical options, polling their own fresh task queues while `body` runs. */
export async function withOursAndBareWorkers<T>(stack: BenchStack, body: (queues: WorkerQueues) => Promise<T>): Promise<T> {
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const queues = { ours: `${prefix}-ours`, bare: `${prefix}-bare` };
  const oursActivities = { ...createRunActivities({ db: stack.db }), ...createSmokeActivities({ db: stack.db }) };
  const [productionBundle, benchBundle] = await Promise.all([stack.productionBundle(), stack.benchBundle()]);
  return runWorkerDuring(stack, queues.ours, productionBundle, oursActivities, () =>
    runWorkerDuring(stack, queues.bare, benchBundle, bareActivities, () => body(queues)),
  );
}
