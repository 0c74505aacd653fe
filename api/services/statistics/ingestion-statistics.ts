import type { EntityManager } from '@mikro-orm/knex';
import { Automation, Connector, IngestionHour } from '../../../core/db/entities/index.js';
import { BadUserInputError, NotFoundError } from '../../../core/errors.js';
import { INGESTION_KINDS, STATISTICS_DAYS, hourOf } from '../../../jobs/runs/ingestion-stats.js';
import { anomaliesOf, BASELINE_DAYS, type AnomalyKind, type HourPoint } from './anomalies.js';

const HOUR = 3_600_000;

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
    const { from, to } = checkRange(args.from, args.to);
    const automations = await this.subjects(args.connectorId ?? null, args.automationId ?? null);
    const series = await this.series(automations.map((a) => a.id), from, to);
    const out: HourlyIngestion[] = [];
    for (let at = from.getTime(); at < to.getTime(); at += HOUR) {
      const entry: HourlyIngestion = { hour: new Date(at), rows: 0, runs: 0, failedRuns: 0, anomaly: null, anomalyKinds: [] };
      const messages: string[] = [];
      for (const a of automations) {
        const s = series.get(a.id)!;
        const point = s.points.get(at) ?? empty(at);
        entry.rows += point.rows;
        entry.runs += point.runs;
        entry.failedRuns += point.failedRuns;
        for (const anomaly of anomaliesOf(point, s.points, s.since)) {
          messages.push(automations.length > 1 ? `${a.name}: ${anomaly.message}` : anomaly.message);
          if (!entry.anomalyKinds.includes(anomaly.kind)) entry.anomalyKinds.push(anomaly.kind);
        }
      }
      entry.anomaly = messages.length > 0 ? messages.join('; ') : null;
      out.push(entry);
    }
    return out;
  }

  /** Every ingestion's anomalies in the hours of [from, to) (the overview's list), newest first. */
  async anomalies(from: Date, to: Date): Promise<IngestionAnomaly[]> {
    const range = checkRange(from, to);
    const automations = await this.em.find(Automation, { kind: { $in: [...INGESTION_KINDS] } }, { fields: ['id', 'name'] });
    const series = await this.series(automations.map((a) => a.id), range.from, range.to);
    const found: IngestionAnomaly[] = [];
    for (const a of automations) {
      const s = series.get(a.id)!;
      for (let at = range.from.getTime(); at < range.to.getTime(); at += HOUR) {
        for (const anomaly of anomaliesOf(s.points.get(at) ?? empty(at), s.points, s.since)) {
          found.push({ automationId: a.id, automationName: a.name, hour: new Date(at), ...anomaly });
        }
      }
    }
    return found.sort((x, y) => y.hour.getTime() - x.hour.getTime() || x.automationName.localeCompare(y.automationName));
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
    const firsts = await this.em.getConnection().execute<{ automation_id: string; first: unknown }[]>(
      `select automation_id, min(hour) as ${this.em.getPlatform().quoteIdentifier('first')} from ingestion_hour where automation_id in (${ids.map(() => '?').join(', ')}) group by automation_id`,
      ids,
    );
    for (const f of firsts) {
      const s = result.get(f.automation_id);
      if (s) s.since = hourOf(toDate(f.first)).getTime();
    }
    return result;
  }
}

const empty = (at: number): HourPoint => ({ hour: new Date(at), rows: 0, runs: 0, failedRuns: 0, durationMs: 0, maxDurationMs: 0 });

function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : (value as string | number));
}

function checkRange(fromIn: Date, toIn: Date): { from: Date; to: Date } {
  if (!(fromIn instanceof Date) || Number.isNaN(fromIn.getTime())) throw new BadUserInputError('from', 'from must be a date-time');
  if (!(toIn instanceof Date) || Number.isNaN(toIn.getTime())) throw new BadUserInputError('to', 'to must be a date-time');
  const from = hourOf(fromIn);
  const to = new Date(Math.ceil(toIn.getTime() / HOUR) * HOUR);
  if (to <= from) throw new BadUserInputError('to', 'to must be after from');
  if (to.getTime() - from.getTime() > STATISTICS_DAYS * 24 * HOUR) throw new BadUserInputError('from', `a range is at most ${STATISTICS_DAYS} days (statistics are kept that long)`);
  return { from, to };
}
