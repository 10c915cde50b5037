import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Logger } from '../lib/logger';
import type { TaskQueues } from '../lib/task-queues';
import { scheduledStartAction } from '../api/workflow-starts';
import { CHANNEL_SYNC_INTERVAL, channelSyncScheduleId, channelSyncSweepRun } from '../workflows/channel-sync/contract';
import { CREDIT_EXPIRY_INTERVAL, creditExpiryRun, creditExpiryScheduleId } from '../workflows/credit-expiry/contract';
import { affiliatePayoutsScheduleId, monthlyPayoutsRun } from '../workflows/payouts/contract';
import { WEBHOOK_RELAY_INTERVAL, webhookRelayRun, webhookRelayScheduleId } from '../workflows/webhook-relay/contract';

export interface PayoutScheduleOptions {
  queues: TaskQueues;
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
  return createOnce(client, logger, {
    scheduleId,
    spec: { calendars: [{ dayOfMonth: 1, hour: 2, minute: 0 }], timezone: 'UTC' },
    action: scheduledStartAction(monthlyPayoutsRun, options.queues, {
      workflowId: scheduleId,
      args: [{ minimumPayoutCents: options.minimumPayoutCents }],
    }),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    memo: { purpose: 'monthly affiliate payouts' },
  });
}

/**
 * The `channel-sync` Temporal Schedule: every 15 minutes one sweep visits every channel with
 * auto-import on, in pages, and imports its new uploads. One sweep rather than a schedule per
 * channel: turning auto-import on or off, disconnecting and expiring are row changes the sweep
 * reads, with no schedule to keep in step with them. A firing while a sweep still runs is
 * skipped. Created at worker start; an existing one is left as it is (operators may pause it).
 */
export async function ensureChannelSyncSchedule(
  client: Client,
  options: Pick<PayoutScheduleOptions, 'queues' | 'prefix'>,
  logger: Logger,
): Promise<'created' | 'exists'> {
  const scheduleId = channelSyncScheduleId(options.prefix);
  return createOnce(client, logger, {
    scheduleId,
    spec: { intervals: [{ every: CHANNEL_SYNC_INTERVAL }] },
    action: scheduledStartAction(channelSyncSweepRun, options.queues, { workflowId: scheduleId, args: [{}] }),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CHANNEL_SYNC_INTERVAL },
    memo: { purpose: 'YouTube channel auto-import' },
  });
}

/**
 * The `credit-expiry` Temporal Schedule: every hour it expires the credit lots whose time has
 * come (plan credits at their period's end, purchased packs after 12 months), each with an
 * 'expiry' ledger row. A firing while the previous one still runs is skipped.
 */
export async function ensureCreditExpirySchedule(
  client: Client,
  options: Pick<PayoutScheduleOptions, 'queues' | 'prefix'>,
  logger: Logger,
): Promise<'created' | 'exists'> {
  const scheduleId = creditExpiryScheduleId(options.prefix);
  return createOnce(client, logger, {
    scheduleId,
    spec: { intervals: [{ every: CREDIT_EXPIRY_INTERVAL }] },
    action: scheduledStartAction(creditExpiryRun, options.queues, { workflowId: scheduleId, args: [] }),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CREDIT_EXPIRY_INTERVAL },
    memo: { purpose: 'expire credits past their expiry' },
  });
}

/**
 * The `webhook-relay` Temporal Schedule: every minute it starts the webhook deliveries whose
 * emitter committed the outbox row but died before starting their run. A firing while the
 * previous sweep still runs is skipped.
 */
export async function ensureWebhookRelaySchedule(
  client: Client,
  options: Pick<PayoutScheduleOptions, 'queues' | 'prefix'>,
  logger: Logger,
): Promise<'created' | 'exists'> {
  const scheduleId = webhookRelayScheduleId(options.prefix);
  return createOnce(client, logger, {
    scheduleId,
    spec: { intervals: [{ every: WEBHOOK_RELAY_INTERVAL }] },
    action: scheduledStartAction(webhookRelayRun, options.queues, { workflowId: scheduleId, args: [] }),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: WEBHOOK_RELAY_INTERVAL },
    memo: { purpose: 'start webhook deliveries left behind by a dead emitter' },
  });
}

/** Creates the schedule unless it exists: an existing one is left as it is (operators may have paused it), so every worker may call this. */
async function createOnce(client: Client, logger: Logger, schedule: ScheduleOptions): Promise<'created' | 'exists'> {
  try {
    await client.schedule.create(schedule);
    logger.info({ scheduleId: schedule.scheduleId, purpose: schedule.memo?.purpose }, 'schedule created');
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
