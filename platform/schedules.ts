import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Logger } from '../lib/logger';
import { affiliatePayoutsScheduleId, MONTHLY_PAYOUTS_WORKFLOW_TYPE, type MonthlyPayoutsInput } from '../workflows/payouts/contract';

export interface PayoutScheduleOptions {
  taskQueue: string;
  /** TASK_QUEUE_PREFIX: parallel stacks on one Temporal server get their own schedule. */
  prefix: string;
  minimumPayoutCents: number;
}

/**
 * The `affiliate-payouts` Temporal Schedule: on the 1st of every month at 02:00 UTC it starts
 * the payout of the month that just ended; a firing while the previous one still runs is
 * skipped. Created at worker start; an existing schedule is left as it is (operators may
 * have paused it), so every worker may call this.
 */
export async function ensurePayoutSchedule(client: Client, options: PayoutScheduleOptions, logger: Logger): Promise<'created' | 'exists'> {
  const scheduleId = affiliatePayoutsScheduleId(options.prefix);
  const args: [MonthlyPayoutsInput] = [{ minimumPayoutCents: options.minimumPayoutCents }];
  try {
    await client.schedule.create({
      scheduleId,
      spec: { calendars: [{ dayOfMonth: 1, hour: 2, minute: 0 }], timezone: 'UTC' },
      action: { type: 'startWorkflow', workflowType: MONTHLY_PAYOUTS_WORKFLOW_TYPE, taskQueue: options.taskQueue, args, workflowId: scheduleId },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { purpose: 'monthly affiliate payouts' },
    });
    logger.info({ scheduleId }, 'affiliate payout schedule created');
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
