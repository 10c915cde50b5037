import { createHash } from 'node:crypto';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Logger } from '../lib/logger';
import type { TaskQueues } from '../lib/task-queues';
import type { SocialAccountSchedules } from '../schemas/social-insights';
import { accountSyncRun, accountSyncScheduleId, accountSyncWorkflowId, INSIGHTS_PLATFORMS } from '../workflows/account-sync/contract';
import {
  COMMENTS_POLL_INTERVAL_SECONDS,
  commentsPollRun,
  commentsPollScheduleId,
  commentsPollWorkflowId,
} from '../workflows/comments-poll/contract';
import type { ApiDeps } from './deps';
import { scheduledStartAction } from './workflow-starts';

/** A stable 0..65535 per account, to spread the accounts' firings over the interval and the night. */
const spreadOf = (accountId: string) => createHash('sha256').update(accountId).digest().readUInt16BE(0);

/**
 * Each connected account's own Temporal Schedules, so pausing one account (revoked) or removing
 * it (disconnected) is one call on its schedules, and each account's firings spread on their own:
 * - `comments-poll:<accountId>` every 5 minutes, at an offset from the account id: renews its
 *   token ahead of expiry and polls its comments (every platform but Ayrshare);
 * - `account-sync:<accountId>` daily between 02:00 and 05:59 UTC (from the account id): the
 *   previous day's analytics (Instagram, Facebook, X).
 * A firing while the previous run still runs is skipped. Built from the API's Temporal client for
 * the social-accounts routes and handed to activities by the composition root.
 */
export function createSocialAccountSchedules(
  client: Client,
  options: { queues: TaskQueues; prefix: string },
  logger: Logger,
): SocialAccountSchedules {
  const { queues, prefix } = options;
  const idsOf = (accountId: string) => [commentsPollScheduleId(accountId, prefix), accountSyncScheduleId(accountId, prefix)];

  function schedulesFor(account: { id: string; userId: string; platform: string }): ScheduleOptions[] {
    const spread = spreadOf(account.id);
    const args = { socialAccountId: account.id, userId: account.userId };
    const schedules: ScheduleOptions[] = [];
    if (account.platform !== 'ayrshare')
      schedules.push({
        scheduleId: commentsPollScheduleId(account.id, prefix),
        spec: {
          intervals: [{ every: `${COMMENTS_POLL_INTERVAL_SECONDS} seconds`, offset: `${spread % COMMENTS_POLL_INTERVAL_SECONDS} seconds` }],
        },
        action: scheduledStartAction(commentsPollRun, queues, { workflowId: commentsPollWorkflowId(account.id), args: [args] }),
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: `${COMMENTS_POLL_INTERVAL_SECONDS} seconds` },
        memo: { purpose: 'comments inbox and token renewal', socialAccountId: account.id },
      });
    if (INSIGHTS_PLATFORMS.includes(account.platform))
      schedules.push({
        scheduleId: accountSyncScheduleId(account.id, prefix),
        spec: { calendars: [{ hour: 2 + (spread % 4), minute: spread % 60 }], timezone: 'UTC' },
        action: scheduledStartAction(accountSyncRun, queues, { workflowId: accountSyncWorkflowId(account.id), args: [args] }),
        policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
        memo: { purpose: 'daily account analytics', socialAccountId: account.id },
      });
    return schedules;
  }

  return {
    async ensure(account) {
      const schedules = schedulesFor(account);
      for (const schedule of schedules) {
        try {
          await client.schedule.create(schedule);
          logger.info({ scheduleId: schedule.scheduleId }, 'social account schedule created');
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
          const handle = client.schedule.getHandle(schedule.scheduleId);
          if ((await handle.describe()).state.paused) {
            await handle.unpause('the account was connected again');
            logger.info({ scheduleId: schedule.scheduleId }, 'social account schedule resumed');
          }
        }
      }
      return { schedules: schedules.map((s) => s.scheduleId) };
    },

    async pause(accountId, note) {
      const paused: string[] = [];
      for (const scheduleId of idsOf(accountId)) {
        try {
          await client.schedule.getHandle(scheduleId).pause(note);
          paused.push(scheduleId);
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        }
      }
      return { paused };
    },

    async remove(accountId) {
      for (const scheduleId of idsOf(accountId)) {
        try {
          await client.schedule.getHandle(scheduleId).delete();
        } catch (err) {
          if (!(err instanceof ScheduleNotFoundError)) throw err;
        }
      }
    },
  };
}

const apiSchedules = new WeakMap<ApiDeps, SocialAccountSchedules>();
/** The social accounts' schedules on the API's Temporal client, one per app. */
export function socialSchedulesOf(deps: ApiDeps): SocialAccountSchedules {
  let schedules = apiSchedules.get(deps);
  if (!schedules)
    apiSchedules.set(
      deps,
      (schedules = createSocialAccountSchedules(
        deps.temporal,
        { queues: deps.taskQueues, prefix: deps.config.TASK_QUEUE_PREFIX },
        deps.logger,
      )),
    );
  return schedules;
}
