import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Duration, Workflow } from '@temporalio/common';
import type { Config } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { RetentionPolicy } from '../schemas/operations';
import type { TaskQueues } from '../lib/task-queues';
import { scheduledStartAction } from '../api/workflow-starts';
import type { RunDefinition } from '../workflows/common/run-definition';
import { CHANNEL_SYNC_INTERVAL, channelSyncScheduleId, channelSyncSweepRun } from '../workflows/channel-sync/contract';
import { CREDIT_EXPIRY_INTERVAL, creditExpiryRun, creditExpiryScheduleId } from '../workflows/credit-expiry/contract';
import { affiliatePayoutsScheduleId, monthlyPayoutsRun } from '../workflows/payouts/contract';
import { retentionRun, retentionScheduleId } from '../workflows/retention/contract';
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

/** A Temporal Schedule that starts one sweep run every `every`; a firing while the previous sweep still runs is skipped. */
export interface IntervalSweep<W extends Workflow = Workflow> {
  scheduleId: (prefix: string) => string;
  every: Duration;
  run: RunDefinition<W>;
  args: Parameters<W>;
  purpose: string;
}

const sweep = <W extends Workflow>(definition: IntervalSweep<W>): IntervalSweep => definition;

/**
 * `channel-sync`: every 15 minutes one sweep visits every channel with auto-import on, in pages,
 * and imports its new uploads. One sweep rather than a schedule per channel: turning auto-import
 * on or off, disconnecting and expiring are row changes the sweep reads, with no schedule to keep
 * in step with them.
 */
export const channelSyncSweep = sweep({
  scheduleId: channelSyncScheduleId,
  every: CHANNEL_SYNC_INTERVAL,
  run: channelSyncSweepRun,
  args: [{}],
  purpose: 'YouTube channel auto-import',
});

/**
 * `credit-expiry`: every hour it expires the credit lots whose time has come (plan credits at
 * their period's end, purchased packs after 12 months), each with an 'expiry' ledger row.
 */
export const creditExpirySweep = sweep({
  scheduleId: creditExpiryScheduleId,
  every: CREDIT_EXPIRY_INTERVAL,
  run: creditExpiryRun,
  args: [],
  purpose: 'expire credits past their expiry',
});

/** `webhook-relay`: every minute it starts the webhook deliveries whose emitter committed the outbox row but died before starting their run. */
export const webhookRelaySweep = sweep({
  scheduleId: webhookRelayScheduleId,
  every: WEBHOOK_RELAY_INTERVAL,
  run: webhookRelayRun,
  args: [],
  purpose: 'start webhook deliveries left behind by a dead emitter',
});

/** Every interval sweep the workers keep scheduled. */
export const INTERVAL_SWEEPS: readonly IntervalSweep[] = [channelSyncSweep, creditExpirySweep, webhookRelaySweep];

/** Creates the sweep's Schedule at worker start unless it exists (operators may have paused it). */
export async function ensureIntervalSweep(
  client: Client,
  options: Pick<PayoutScheduleOptions, 'queues' | 'prefix'>,
  logger: Logger,
  { scheduleId: idFor, every, run, args, purpose }: IntervalSweep,
): Promise<'created' | 'exists'> {
  const scheduleId = idFor(options.prefix);
  return createOnce(client, logger, {
    scheduleId,
    spec: { intervals: [{ every }] },
    action: scheduledStartAction(run, options.queues, { workflowId: scheduleId, args }),
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: every },
    memo: { purpose },
  });
}

const DAY_SECONDS = 86_400;

/** The retention ages and batch size from the RETENTION_* settings. */
export function retentionPolicy(config: Config): RetentionPolicy {
  return {
    maxAgeSeconds: {
      job_runs: config.RETENTION_JOB_RUNS_DAYS * DAY_SECONDS,
      idempotency_keys: config.RETENTION_IDEMPOTENCY_KEYS_HOURS * 3600,
      webhook_logs: config.RETENTION_WEBHOOK_LOGS_DAYS * DAY_SECONDS,
      ai_usage_logs: config.RETENTION_USAGE_DAYS * DAY_SECONDS,
      usage_events: config.RETENTION_USAGE_EVENTS_DAYS * DAY_SECONDS,
      audit_log: config.RETENTION_AUDIT_LOG_DAYS * DAY_SECONDS,
    },
    batchSize: config.RETENTION_BATCH_SIZE,
  };
}

/**
 * The `retention` Temporal Schedule: daily at 03:30 UTC it deletes the rows older than the
 * policy's ages, in batches. Its action carries the policy, so an existing schedule gets the
 * current settings (its paused state and spec are left as they are).
 */
export async function ensureRetentionSchedule(
  client: Client,
  options: Pick<PayoutScheduleOptions, 'queues' | 'prefix'> & { policy: RetentionPolicy },
  logger: Logger,
): Promise<'created' | 'exists'> {
  const scheduleId = retentionScheduleId(options.prefix);
  const action = scheduledStartAction(retentionRun, options.queues, { workflowId: scheduleId, args: [{ policy: options.policy }] });
  const outcome = await createOnce(client, logger, {
    scheduleId,
    spec: { calendars: [{ hour: 3, minute: 30 }], timezone: 'UTC' },
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    memo: { purpose: 'delete rows past their retention age' },
  });
  if (outcome === 'exists') await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, action }));
  return outcome;
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
