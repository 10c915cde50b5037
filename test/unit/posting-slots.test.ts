import { nextFreeSlot, scheduleSlots, zonedWallTimeToInstant } from '../../lib/posting-slots';

const at = (iso: string) => Date.parse(iso);
const wall = (iso: string) => Date.parse(`${iso}Z`);

describe('posting slots in the user time zone (DST-correct)', () => {
  it('New York in March: 09:00 is 14:00Z before the change and 13:00Z on the Sunday it happens', () => {
    const sundays = { timezone: 'America/New_York', days: ['sun'] as const, times: ['09:00'] };
    expect(scheduleSlots(sundays, at('2026-02-28T00:00:00Z'), 9).map((t) => new Date(t).toISOString())).toEqual([
      '2026-03-01T14:00:00.000Z',
      '2026-03-08T13:00:00.000Z',
    ]);
  });

  it('New York spring-forward gap: 02:30 on 8 March does not exist and moves to 03:30 EDT', () => {
    expect(new Date(zonedWallTimeToInstant(wall('2026-03-08T02:30:00'), 'America/New_York')).toISOString()).toBe(
      '2026-03-08T07:30:00.000Z',
    );
    // 02:30 and 03:30 land on one instant: one slot, not two.
    const slots = scheduleSlots({ timezone: 'America/New_York', days: ['sun'], times: ['02:30', '03:30'] }, at('2026-03-07T12:00:00Z'), 1);
    expect(slots.map((t) => new Date(t).toISOString())).toEqual(['2026-03-08T07:30:00.000Z']);
  });

  it('New York in November: 01:30 happens twice and the first (EDT) is taken; 09:00 is 14:00Z again', () => {
    expect(new Date(zonedWallTimeToInstant(wall('2026-11-01T01:30:00'), 'America/New_York')).toISOString()).toBe(
      '2026-11-01T05:30:00.000Z',
    );
    const slots = scheduleSlots({ timezone: 'America/New_York', days: ['sat', 'sun'], times: ['09:00'] }, at('2026-10-31T00:00:00Z'), 2);
    expect(slots.map((t) => new Date(t).toISOString())).toEqual(['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z']);
  });

  it('Europe/Berlin: 09:00 is 08:00Z in winter and 07:00Z in summer time, across both changes', () => {
    const tz = 'Europe/Berlin';
    expect(new Date(zonedWallTimeToInstant(wall('2026-03-28T09:00:00'), tz)).toISOString()).toBe('2026-03-28T08:00:00.000Z');
    expect(new Date(zonedWallTimeToInstant(wall('2026-03-29T09:00:00'), tz)).toISOString()).toBe('2026-03-29T07:00:00.000Z');
    expect(new Date(zonedWallTimeToInstant(wall('2026-10-25T09:00:00'), tz)).toISOString()).toBe('2026-10-25T08:00:00.000Z');
    expect(new Date(zonedWallTimeToInstant(wall('2026-03-29T02:30:00'), tz)).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('the next free slot skips slots already taken by the account and anything not after now', () => {
    const schedule = { timezone: 'Europe/Berlin', days: ['mon', 'wed'] as const, times: ['09:00', '18:30'] };
    const now = at('2026-06-01T07:00:00Z'); // Monday 09:00 Berlin: that slot is not after now
    const first = nextFreeSlot(schedule, now, new Set());
    expect(new Date(first!).toISOString()).toBe('2026-06-01T16:30:00.000Z');
    const second = nextFreeSlot(schedule, now, new Set([first!]));
    expect(new Date(second!).toISOString()).toBe('2026-06-03T07:00:00.000Z');
  });

  it('reads the local day in the zone, not in UTC (late evening in Los Angeles is already tomorrow in UTC)', () => {
    // Tuesday 2026-06-02 17:30 in Los Angeles = Wednesday 00:30Z.
    const slot = nextFreeSlot({ timezone: 'America/Los_Angeles', days: ['tue'], times: ['18:00'] }, at('2026-06-03T00:30:00Z'), new Set());
    expect(new Date(slot!).toISOString()).toBe('2026-06-03T01:00:00.000Z');
  });
});
