import type { Weekday } from '../schemas/posts';

/**
 * Posting slots of a weekly schedule read in an IANA time zone, with the runtime's Intl time
 * zone data (no extra dependency). Local wall times map to instants the way Temporal's
 * 'compatible' disambiguation does: a time skipped by a spring-forward change moves forward by
 * the gap (02:30 → 03:30), a time that occurs twice at a fall-back change takes the first one.
 */

const DAY_MS = 86_400_000;
const WEEKDAY_OF_UTC_DAY: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's wall clock at `instant`, written as if it were UTC (ms). */
function wallClockAsUtc(instant: number, timeZone: string): number {
  const parts: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) parts[p.type] = Number(p.value);
  return Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day, parts.hour, parts.minute, parts.second);
}

/** UTC offset of the zone at `instant`, in ms (e.g. -5 h for New York in winter). */
const offsetAt = (instant: number, timeZone: string) => wallClockAsUtc(instant, timeZone) - Math.floor(instant / 1000) * 1000;

/** The instant a local wall time (given as if UTC) happens in the zone. */
export function zonedWallTimeToInstant(wall: number, timeZone: string): number {
  // Offsets a day either side straddle any transition near this wall time.
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const matches = [...new Set([before, after])].map((o) => wall - o).filter((t) => wallClockAsUtc(t, timeZone) === wall);
  if (matches.length > 0) return Math.min(...matches);
  // Skipped by a spring-forward change: read it with the offset from before the gap.
  return wall - before;
}

export interface WeeklySchedule {
  timezone: string;
  days: readonly Weekday[];
  /** 'HH:MM' or 'HH:MM:SS' local times. */
  times: readonly string[];
}

/** Every slot of the schedule in (`after`, `after` + `horizonDays`], earliest first, as epoch ms. */
export function scheduleSlots(schedule: WeeklySchedule, after: number, horizonDays: number): number[] {
  const days = new Set(schedule.days);
  const times = [...new Set(schedule.times)]
    .map((t) => {
      const [h, m] = t.split(':').map(Number);
      return (h! * 60 + m!) * 60_000;
    })
    .sort((a, b) => a - b);
  const today = Math.floor(wallClockAsUtc(after, schedule.timezone) / DAY_MS) * DAY_MS;
  const slots: number[] = [];
  for (let day = today; day <= today + horizonDays * DAY_MS; day += DAY_MS) {
    if (!days.has(WEEKDAY_OF_UTC_DAY[new Date(day).getUTCDay()]!)) continue;
    for (const time of times) {
      const instant = zonedWallTimeToInstant(day + time, schedule.timezone);
      // Two wall times can land on one instant (both inside a spring-forward gap): keep it once.
      if (instant > after && instant <= after + horizonDays * DAY_MS && slots[slots.length - 1] !== instant) slots.push(instant);
    }
  }
  return slots;
}

/** The first slot after `after` that is not taken (taken = instants of the account's live posts). */
export function nextFreeSlot(schedule: WeeklySchedule, after: number, taken: ReadonlySet<number>, horizonDays = 366): number | null {
  return scheduleSlots(schedule, after, horizonDays).find((slot) => !taken.has(slot)) ?? null;
}
