import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CronExpressionParser } from 'cron-parser';
import { serverWithFactories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';

const TIMES = `query($cron: String!, $tz: String, $count: Int) { scheduleTimes(cron: $cron, timezone: $tz, count: $count) }`;

let t: TestServer;
beforeAll(async () => ({ t } = await serverWithFactories()));
afterAll(() => t.close());

describe('scheduleTimes', () => {
  it('lists the next firing times of a cron expression in its time zone, after now', async () => {
    const before = Date.now();
    const { scheduleTimes } = await t.ok(TIMES, { cron: '30 2 * * 1-5', tz: 'Europe/Paris', count: 3 });
    expect(scheduleTimes).toHaveLength(3);
    const times = (scheduleTimes as string[]).map((s) => new Date(s));
    for (const time of times) {
      const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' }).formatToParts(time);
      const part = (type: string) => parts.find((p) => p.type === type)!.value;
      expect(`${part('hour')}:${part('minute')}`).toBe('02:30');
      expect(['Sat', 'Sun']).not.toContain(part('weekday'));
      expect(time.getTime()).toBeGreaterThan(before);
    }
    expect(times[0]!.getTime()).toBeLessThan(times[1]!.getTime());
    // The first one is the parser's own next time from now (the API adds nothing of its own).
    const expected = CronExpressionParser.parse('30 2 * * 1-5', { tz: 'Europe/Paris', currentDate: new Date(before) }).next().toDate();
    expect(times[0]!.toISOString()).toBe(expected.toISOString());
  });

  it('defaults to 5 times in UTC', async () => {
    const { scheduleTimes } = await t.ok(TIMES, { cron: '0 0 * * *' });
    expect(scheduleTimes).toHaveLength(5);
    for (const time of scheduleTimes as string[]) expect(time).toMatch(/T00:00:00\.000Z$/);
  });

  it.each([
    ['a bad cron field', { cron: '61 * * * *' }, 'cron', /minute field "61"/],
    ['too few fields', { cron: '* *' }, 'cron', /expected 5/],
    ['an unknown zone', { cron: '* * * * *', tz: 'Mars/Olympus' }, 'timezone', /unknown time zone/],
    ['too many times', { cron: '* * * * *', count: 51 }, 'count', /from 1 to 50/],
  ])('refuses %s with BAD_USER_INPUT at the field', async (_what, variables, field, message) => {
    const error = await t.fail(TIMES, variables);
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(error.message).toMatch(message);
  });
});
