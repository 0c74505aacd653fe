import { CronExpressionParser } from 'cron-parser';
import { BadUserInputError } from '../../core/errors.js';

export const DEFAULT_TIMEZONE = 'UTC';

/** Checks an IANA time zone name; returns it unchanged. */
export function checkTimezone(timezone: string, field = 'timezone'): string {
  if (timezone.trim() === '') throw new BadUserInputError(field, 'time zone must not be empty');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new BadUserInputError(field, `unknown time zone ${JSON.stringify(timezone)}: use an IANA name such as "UTC" or "Europe/Paris"`);
  }
  return timezone;
}

/**
 * Checks a cron expression of 5 fields (minute hour day-of-month month day-of-week)
 * or 6 (seconds first), saying what is wrong when it is not valid.
 */
export function checkCron(cron: string, timezone: string, field = 'cron'): string {
  const expression = cron.trim().replace(/\s+/g, ' ');
  const fields = expression === '' ? [] : expression.split(' ');
  if (fields.length !== 5 && fields.length !== 6) {
    throw new BadUserInputError(
      field,
      `cron expression ${JSON.stringify(cron)} has ${fields.length} field(s); expected 5 (minute hour day-of-month month day-of-week) or 6 (second first)`,
    );
  }
  try {
    CronExpressionParser.parse(expression, { tz: timezone, strict: false }).next();
  } catch (error) {
    const culprit = badCronField(fields);
    const where = culprit ? `${culprit.name} field ${JSON.stringify(culprit.value)}: ${culprit.message}` : (error as Error).message;
    throw new BadUserInputError(field, `invalid cron expression ${JSON.stringify(cron)}: ${where}`);
  }
  return expression;
}

const FIELD_NAMES_5 = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
const FIELD_NAMES_6 = ['second', ...FIELD_NAMES_5];

/** Finds the first field that is invalid on its own (others set to `*`), to name it in the error. */
function badCronField(fields: string[]): { name: string; value: string; message: string } | null {
  const names = fields.length === 6 ? FIELD_NAMES_6 : FIELD_NAMES_5;
  for (let i = 0; i < fields.length; i++) {
    const probe = fields.map((value, j) => (j === i ? value : '*')).join(' ');
    try {
      CronExpressionParser.parse(probe, { strict: false }).next();
    } catch (error) {
      return { name: names[i]!, value: fields[i]!, message: (error as Error).message };
    }
  }
  return null;
}

/** The next time a cron schedule fires after `from`. */
export function nextRunAt(cron: string, timezone: string, from = new Date()): Date {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: from }).next().toDate();
}

/** The next `count` times a cron schedule fires after `from`, checking the expression and zone first. */
export function upcomingRuns(cron: string, timezone: string, count: number, from = new Date()): Date[] {
  const tz = checkTimezone(timezone);
  const iterator = CronExpressionParser.parse(checkCron(cron, tz), { tz, currentDate: from });
  return Array.from({ length: count }, () => iterator.next().toDate());
}
