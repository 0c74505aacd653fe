import { describe, expect, it } from 'vitest';
import { checkCron, checkTimezone, nextRunAt } from '../../api/services/schedule.js';

describe('schedules', () => {
  it('accepts 5- and 6-field cron expressions and normalises spacing', () => {
    expect(checkCron('0  2 * *   *', 'UTC')).toBe('0 2 * * *');
    expect(checkCron('30 0 2 * * 1-5', 'Europe/Paris')).toBe('30 0 2 * * 1-5');
  });

  it('names the cron field that is wrong', () => {
    expect(() => checkCron('61 * * * *', 'UTC')).toThrow(/minute field "61".*0-59/);
    expect(() => checkCron('0 25 * * *', 'UTC')).toThrow(/hour field "25"/);
    expect(() => checkCron('0 0 * 13 *', 'UTC')).toThrow(/month field "13"/);
    expect(() => checkCron('0 0 0 * * 9', 'UTC')).toThrow(/day-of-week field "9"/);
    expect(() => checkCron('* * * *', 'UTC')).toThrow(/has 4 field\(s\); expected 5/);
  });

  it('computes the next run in the schedule time zone', () => {
    const from = new Date('2026-03-28T12:00:00Z');
    // 02:30 in Paris on the 29th does not exist (DST starts): the run happens right after the gap,
    // at 03:30 CEST (01:30 UTC), rather than being skipped for the day.
    expect(nextRunAt('30 2 * * *', 'Europe/Paris', from).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(nextRunAt('30 2 * * *', 'Europe/Paris', new Date('2026-03-29T02:00:00Z')).toISOString()).toBe('2026-03-30T00:30:00.000Z');
    expect(nextRunAt('0 9 * * *', 'America/New_York', from).toISOString()).toBe('2026-03-28T13:00:00.000Z');
  });

  it('checks IANA time zones', () => {
    expect(checkTimezone('Asia/Kolkata')).toBe('Asia/Kolkata');
    expect(() => checkTimezone('GMT+25')).toThrow(/unknown time zone/);
  });
});
