import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { Automation, Connector, IngestionHour } from '../../../core/db/entities/index.js';
import { BadUserInputError, NotFoundError } from '../../../core/errors.js';
import { INGESTION_KINDS, STATISTICS_DAYS, hourOf } from '../../../jobs/runs/ingestion-stats.js';
import { anomaliesOf, BASELINE_DAYS, type AnomalyKind, type HourPoint } from './anomalies.js';

const HOUR = 3_600_000;
/** Ingestions judged per database read, and anomalies listed at most. */
const BATCH = 200;
const MAX_ANOMALIES = 500;

export interface HourlyIngestion {
  hour: Date;
  rows: number;
  runs: number;
  failedRuns: number;
  /** What is unusual about the hour, said plainly (several findings joined by "; "); null when nothing. */
  anomaly: string | null;
  anomalyKinds: AnomalyKind[];
}

export interface IngestionAnomaly {
  automationId: string;
  automationName: string;
  hour: Date;
  kind: AnomalyKind;
  message: string;
}

/**
 * Rows ingested per hour, per ingestion or summed over a connector's ingestions, every hour of the
 * range (at most 90 days), each with the anomalies found against its recent baseline.
 */
export class IngestionStatistics {
  constructor(private readonly em: EntityManager) {}

  async hourly(args: { connectorId?: string | null; automationId?: string | null; from: Date; to: Date }): Promise<HourlyIngestion[]> {
    const { from, to } = checkRange(args.from, args.to, STATISTICS_DAYS);
    const automations = await this.subjects(args.connectorId ?? null, args.automationId ?? null);
    // A connector's hours are its ingestions' summed (one series, judged as one), read summed by the database.
    const series = args.connectorId ? await this.summed(automations.map((a) => a.id), from, to) : (await this.series(automations.map((a) => a.id), from, to)).get(automations[0]!.id)!;
    const out: HourlyIngestion[] = [];
    for (let at = from.getTime(); at < to.getTime(); at += HOUR) {
      const point = series.points.get(at) ?? empty(at);
      const found = anomaliesOf(point, series.points, series.since);
      out.push({
        hour: new Date(at),
        rows: point.rows,
        runs: point.runs,
        failedRuns: point.failedRuns,
        anomaly: found.length > 0 ? found.map((x) => x.message).join('; ') : null,
        anomalyKinds: [...new Set(found.map((x) => x.kind))],
      });
    }
    return out;
  }

  /**
   * Every ingestion's anomalies in the hours of [from, to) (at most 7 days; the overview's list),
   * newest first, at most MAX_ANOMALIES. Ingestions are read a batch at a time, so the work and
   * memory stay bounded by the batch, whatever their number.
   */
  async anomalies(from: Date, to: Date): Promise<IngestionAnomaly[]> {
    const range = checkRange(from, to, 7);
    const automations = await this.em.find(Automation, { kind: { $in: [...INGESTION_KINDS] } }, { fields: ['id', 'name'], orderBy: { name: 'asc' } });
    const found: IngestionAnomaly[] = [];
    for (let i = 0; i < automations.length; i += BATCH) {
      const batch = automations.slice(i, i + BATCH);
      const series = await this.series(batch.map((a) => a.id), range.from, range.to);
      for (const a of batch) {
        const s = series.get(a.id)!;
        if (s.since === Number.POSITIVE_INFINITY) continue; // never ran: nothing to judge
        for (let at = range.from.getTime(); at < range.to.getTime(); at += HOUR) {
          for (const anomaly of anomaliesOf(s.points.get(at) ?? empty(at), s.points, s.since)) found.push({ automationId: a.id, automationName: a.name, hour: new Date(at), ...anomaly });
        }
      }
    }
    return found.sort((x, y) => y.hour.getTime() - x.hour.getTime() || x.automationName.localeCompare(y.automationName)).slice(0, MAX_ANOMALIES);
  }

  /** The hours of several automations summed, from a baseline's reach before `from` up to `to`, and the first recorded hour of any. */
  private async summed(ids: string[], from: Date, to: Date): Promise<{ points: Map<number, HourPoint>; since: number }> {
    const points = new Map<number, HourPoint>();
    if (ids.length === 0) return { points, since: Number.POSITIVE_INFINITY };
    const reach = new Date(from.getTime() - BASELINE_DAYS * 24 * HOUR);
    const qb = this.em.createQueryBuilder(IngestionHour, 'h');
    const rows = (await qb
      .select(['h.hour', raw('sum(h.rows) as rows'), raw('sum(h.runs) as runs'), raw('sum(h.failed_runs) as failed'), raw('sum(h.duration_ms) as duration'), raw('max(h.max_duration_ms) as slowest')])
      .where({ automation: { $in: ids }, hour: { $gte: reach, $lt: to } })
      .groupBy('h.hour')
      .execute('all', false)) as { hour: unknown; rows: unknown; runs: unknown; failed: unknown; duration: unknown; slowest: unknown }[];
    for (const r of rows) {
      const hour = hourOf(toDate(r.hour));
      points.set(hour.getTime(), { hour, rows: Number(r.rows), runs: Number(r.runs), failedRuns: Number(r.failed), durationMs: Number(r.duration), maxDurationMs: Number(r.slowest) });
    }
    const since = Math.min(...[...(await this.firstHours(ids)).values()], Number.POSITIVE_INFINITY);
    return { points, since };
  }

  private async subjects(connectorId: string | null, automationId: string | null): Promise<{ id: string; name: string }[]> {
    if ((connectorId === null) === (automationId === null)) throw new BadUserInputError(connectorId ? 'automationId' : 'connectorId', 'give connectorId or automationId (one of them)');
    if (connectorId) {
      if (!(await this.em.findOne(Connector, { id: connectorId }, { fields: ['id'] }))) throw new NotFoundError('Connector', connectorId, 'connectorId');
      return this.em.find(Automation, { connector: connectorId }, { fields: ['id', 'name'], orderBy: { name: 'asc' } });
    }
    const automation = await this.em.findOne(Automation, { id: automationId! }, { fields: ['id', 'name'] });
    if (!automation) throw new NotFoundError('Automation', automationId!, 'automationId');
    return [automation];
  }

  /** Each automation's recorded hours from a baseline's reach before `from` up to `to`, and its first recorded hour. */
  private async series(ids: string[], from: Date, to: Date): Promise<Map<string, { points: Map<number, HourPoint>; since: number }>> {
    const result = new Map(ids.map((id) => [id, { points: new Map<number, HourPoint>(), since: Number.POSITIVE_INFINITY }]));
    if (ids.length === 0) return result;
    const reach = new Date(from.getTime() - BASELINE_DAYS * 24 * HOUR);
    const rows = await this.em.find(IngestionHour, { automation: { $in: ids }, hour: { $gte: reach, $lt: to } });
    for (const r of rows) {
      const s = result.get(r.automation.id)!;
      s.points.set(r.hour.getTime(), { hour: r.hour, rows: r.rows, runs: r.runs, failedRuns: r.failedRuns, durationMs: Number(r.durationMs), maxDurationMs: r.maxDurationMs });
    }
    // A baseline starts at an ingestion's first recorded hour: the days before it existed are not "zero rows".
    for (const [id, first] of await this.firstHours(ids)) result.get(id)!.since = first;
    return result;
  }

  /** Each automation's first recorded hour (ms), for those that have one. */
  private async firstHours(ids: string[]): Promise<Map<string, number>> {
    const firsts = await this.em.getConnection().execute<{ automation_id: string; first: unknown }[]>(
      `select automation_id, min(hour) as ${this.em.getPlatform().quoteIdentifier('first')} from ingestion_hour where automation_id in (${ids.map(() => '?').join(', ')}) group by automation_id`,
      ids,
    );
    return new Map(firsts.map((f) => [f.automation_id, hourOf(toDate(f.first)).getTime()]));
  }
}

const empty = (at: number): HourPoint => ({ hour: new Date(at), rows: 0, runs: 0, failedRuns: 0, durationMs: 0, maxDurationMs: 0 });

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : (value as string | number));
}

function checkRange(fromIn: Date, toIn: Date, maxDays: number): { from: Date; to: Date } {
  if (!(fromIn instanceof Date) || Number.isNaN(fromIn.getTime())) throw new BadUserInputError('from', 'from must be a date-time');
  if (!(toIn instanceof Date) || Number.isNaN(toIn.getTime())) throw new BadUserInputError('to', 'to must be a date-time');
  const from = hourOf(fromIn);
  const to = new Date(Math.ceil(toIn.getTime() / HOUR) * HOUR);
  if (to <= from) throw new BadUserInputError('to', 'to must be after from');
  if (to.getTime() - from.getTime() > maxDays * 24 * HOUR) throw new BadUserInputError('from', `a range is at most ${maxDays} days${maxDays === STATISTICS_DAYS ? ' (statistics are kept that long)' : ''}`);
  return { from, to };
}
