import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import { scheduledStartAction } from '../api/workflow-starts';
import type { Logger } from '../lib/logger';
import type { TaskQueues } from '../lib/task-queues';
import type { ContentPlanScheduler } from '../schemas/content-plans';
import { CONTENT_PLAN_FIRING, contentPlanScheduleId, scheduledContentPlanRun } from '../workflows/content-plans/contract';

/** Firing on the 1st of every month at 06:00 in the user's zone (Temporal reads the calendar in `timezone`, DST included). */
const monthlySpec = (timezone: string): ScheduleSpec => ({ calendars: [{ ...CONTENT_PLAN_FIRING }], timezone });

/**
 * One Temporal Schedule per subscriber whose plan includes the monthly content plan
 * (`<prefix>content-plan:<userId>`): it starts scheduledContentPlanWorkflow, which runs the month
 * of the firing as `content-plan:<userId>:<YYYY-MM>`. A firing while the previous one still runs
 * is skipped; a worker down over the firing catches up within a day. Activities reach it through
 * ActivityDeps.contentPlanSchedules (they may not import the composition root).
 */
export function createContentPlanScheduler(
  client: Client,
  options: { queues: TaskQueues; prefix: string },
  logger: Logger,
): ContentPlanScheduler {
  const idOf = (userId: string) => contentPlanScheduleId(userId, options.prefix);
  const nextRunAt = async (scheduleId: string) => (await client.schedule.getHandle(scheduleId).describe()).info.nextActionTimes[0] ?? null;

  return {
    async upsert({ userId, timezone }) {
      const scheduleId = idOf(userId);
      try {
        await client.schedule.create({
          scheduleId,
          spec: monthlySpec(timezone),
          action: scheduledStartAction(scheduledContentPlanRun, options.queues, { workflowId: scheduleId, args: [{ userId }] }),
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
          memo: { purpose: 'monthly AI content plan', userId },
        });
        logger.info({ scheduleId }, 'content-plan schedule created');
        return { schedule: 'created', nextRunAt: await nextRunAt(scheduleId) };
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      }
      // It exists: only its time zone can have changed (a paused schedule stays paused).
      await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec: monthlySpec(timezone) }));
      return { schedule: 'updated', nextRunAt: await nextRunAt(scheduleId) };
    },

    async remove(userId) {
      const scheduleId = idOf(userId);
      try {
        await client.schedule.getHandle(scheduleId).delete();
        logger.info({ scheduleId }, 'content-plan schedule removed');
        return { schedule: 'removed' };
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) return { schedule: 'absent' };
        throw err;
      }
    },
  };
}
