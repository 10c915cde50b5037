import { ApplicationFailure } from '@temporalio/common';
import type { Db } from '../../db/database';
import { markQuotaExhausted, reserveQuotaUnits } from '../../db/repositories/provider-quota';
import { FailureType } from '../../schemas/failures';
import { meterUsage } from '../../lib/usage-meter';
import type { Clock } from '../rate-limit';

/** YouTube Data API v3 quota cost of each call we make (units per request). */
export const YOUTUBE_QUOTA_COST = {
  'videos.list': 1,
  'channels.list': 1,
  'playlistItems.list': 1,
  'captions.list': 50,
  'captions.download': 200,
  'search.list': 100,
  'videos.insert': 1600,
  'thumbnails.set': 50,
} as const;

export type YoutubeOperation = keyof typeof YOUTUBE_QUOTA_COST;

/** YouTube's quota day runs midnight to midnight Pacific time. */
export const YOUTUBE_QUOTA_TIME_ZONE = 'America/Los_Angeles';

export interface QuotaDay {
  /** `YYYY-MM-DD` in the quota's time zone. */
  periodDate: string;
  /** Epoch ms of the next midnight in that zone, when the budget resets. */
  resetsAt: number;
}

function offsetMs(at: number, timeZone: string): number {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')
      ?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

export function quotaDay(now: number, timeZone: string = YOUTUBE_QUOTA_TIME_ZONE): QuotaDay {
  const periodDate = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  const [y, m, d] = periodDate.split('-').map(Number) as [number, number, number];
  const nextMidnightAsUtc = Date.UTC(y, m - 1, d + 1);
  // The offset at the guessed instant is the one in force at that midnight (DST switches at 2 am).
  const guess = nextMidnightAsUtc - offsetMs(nextMidnightAsUtc, timeZone);
  return { periodDate, resetsAt: nextMidnightAsUtc - offsetMs(guess, timeZone) };
}

export interface QuotaBudgetOptions {
  db: Db;
  provider: string;
  /** The quota owner (Google Cloud project). */
  projectKey: string;
  dailyBudget: number;
  clock: Clock;
  timeZone?: string;
}

/**
 * A provider's daily unit budget, persisted so every worker shares one count.
 *
 * Out of budget, a call does not fail the job: it throws a *retryable* ApplicationFailure of
 * type QuotaExceeded whose `nextRetryDelay` is the time until the reset, so Temporal parks the
 * activity durably (no worker slot held, survives restarts) and runs it again after midnight
 * Pacific. Workflows calling YouTube activities must therefore not list QuotaExceeded in
 * `nonRetryableErrorTypes` and need a schedule-to-close timeout longer than a day (or none).
 */
export class QuotaBudget {
  constructor(private readonly options: QuotaBudgetOptions) {}

  /** Reserves the units of `operation` or throws the wait-for-reset failure. */
  async spend(operation: string, units: number): Promise<void> {
    const { db, provider, projectKey, dailyBudget, clock, timeZone } = this.options;
    const now = clock.now();
    const day = quotaDay(now, timeZone);
    const result = await reserveQuotaUnits(db, { provider, projectKey, periodDate: day.periodDate, units, budget: dailyBudget });
    if (!result.reserved) throw this.waitForReset(operation, day, now, `${result.unitsUsed}/${dailyBudget} units used`);
    meterUsage('youtube_units', units);
  }

  /** The provider said the quota is spent: record it and wait for the reset like our own count would. */
  async exhausted(operation: string): Promise<ApplicationFailure> {
    const { db, provider, projectKey, dailyBudget, clock, timeZone } = this.options;
    const now = clock.now();
    const day = quotaDay(now, timeZone);
    await markQuotaExhausted(db, { provider, projectKey, periodDate: day.periodDate, budget: dailyBudget });
    return this.waitForReset(operation, day, now, 'reported exhausted by the provider');
  }

  private waitForReset(operation: string, day: QuotaDay, now: number, detail: string): ApplicationFailure {
    const delay = Math.max(1000, day.resetsAt - now);
    return ApplicationFailure.create({
      message: `${this.options.provider} quota for ${day.periodDate} spent (${detail}); ${operation} waits ${Math.ceil(delay / 60_000)} min for the reset`,
      type: FailureType.QuotaExceeded,
      nonRetryable: false,
      nextRetryDelay: delay,
    });
  }
}
