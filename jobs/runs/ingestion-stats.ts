import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationKind, IngestionHour, RunStatus, type Run } from '../../core/db/entities/index.js';

/** The kinds whose runs count as ingestion (rows coming in from a source system). */
export const INGESTION_KINDS: readonly AutomationKind[] = [AutomationKind.SFTP_IMPORT, AutomationKind.DATABASE_TABLE];

/** How long hourly ingestion statistics are kept. */
export const STATISTICS_DAYS = 90;

export const hourOf = (at: Date): Date => new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);

/**
 * Adds a finished run of an ingestion to its hour (the UTC hour it ended in), inside the run's
 * finishing transaction: rows written, runs, failures, time taken. Runs of other kinds are not counted.
 */
export async function recordIngestionHour(em: EntityManager, run: Run): Promise<void> {
  if (!run.finishedAt || run.status === RunStatus.CANCELLED) return;
  const automation = await em.findOne(Automation, { id: run.automation.id }, { fields: ['kind'] });
  if (!automation || !INGESTION_KINDS.includes(automation.kind)) return;
  const hour = hourOf(run.finishedAt);
  const duration = run.startedAt ? Math.max(0, run.finishedAt.getTime() - run.startedAt.getTime()) : 0;
  const rows = run.status === RunStatus.SUCCESS ? (run.rowsWritten ?? 0) : 0;
  const existing = await em.findOne(IngestionHour, { automation: automation.id, hour });
  const entry = existing ?? em.create(IngestionHour, { automation: automation.id, hour, rows: 0, runs: 0, failedRuns: 0, durationMs: 0, maxDurationMs: 0 });
  entry.rows += rows;
  entry.runs += 1;
  entry.failedRuns += run.status === RunStatus.FAILED ? 1 : 0;
  entry.durationMs = Number(entry.durationMs) + duration;
  entry.maxDurationMs = Math.max(entry.maxDurationMs, duration);
  await em.flush();
}

/** Drops hours older than STATISTICS_DAYS. */
export async function pruneIngestionHours(em: EntityManager, now = new Date()): Promise<number> {
  return em.nativeDelete(IngestionHour, { hour: { $lt: new Date(now.getTime() - STATISTICS_DAYS * 86_400_000) } });
}
