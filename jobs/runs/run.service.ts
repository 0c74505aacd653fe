import type { EntityManager } from '@mikro-orm/knex';
import { settleSwitch } from '../../core/versions/live.js';
import { recordIngestionHour } from './ingestion-stats.js';
import { Automation, AutomationKind, AutomationState, ChangedEntity, Connector, ConnectorStatus, Datasource, IoDirection, Run, RunDataset, RunLog, RunStatus, RunTrigger } from '../../core/db/entities/index.js';
import type { FilterQuery } from '@mikro-orm/core';
import { BadUserInputError, ConflictError, NotFoundError } from '../../core/errors.js';
import { checkPageSize, decodeCursor, toPage, type Page } from '../../core/paging.js';
import type { ChangeSet } from '../../core/db/change-log.js';
import { writeTransaction } from '../../core/db/transaction.js';
import { RunRepository } from '../../core/db/repositories/run.repository.js';
import { notifyInTransaction } from '../../core/db/events.js';

/** A run's log keeps this many lines; later ones are counted, and the last line says how many were dropped. */
export const MAX_LOG_LINES = 5_000;
/** Longer lines are cut. */
export const MAX_LOG_LINE = 2_000;

export const FINISHED: readonly RunStatus[] = [RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.CANCELLED];

export interface RunOutcome {
  status: RunStatus.SUCCESS | RunStatus.FAILED | RunStatus.CANCELLED;
  rowsRead?: number | null;
  rowsWritten?: number | null;
  errorRecords?: number | null;
  error?: string | null;
  /** The run failed because its source system could not be reached or refused the login: its connector (if any) goes to ERROR. */
  connectionFailed?: boolean;
  /** What a successful run really read and wrote (observed lineage, kept in run_dataset). */
  observed?: { read: string[]; written: string[] };
}

export interface EnqueueRequest {
  automationId: string;
  trigger: RunTrigger;
  parentRunId?: string | null;
  /** Who asked for a manual run. */
  startedById?: string | null;
}

export interface Enqueued {
  run: Run;
  /** False when the request was folded into a run already queued. */
  created: boolean;
}

/**
 * The run records: queueing with coalescing, the atomic claim that keeps an automation from
 * running twice at once, outcomes, bounded logs, liveness and retention. Every change of a
 * run's status also updates its automation's last run status, logged for the lineage graph.
 */
export class RunService {
  constructor(private readonly em: EntityManager) {}

  find(id: string): Promise<Run | null> {
    return this.em.findOne(Run, { id });
  }

  /** An automation's runs, newest first, with keyset cursors on (queuedAt, id). */
  async list(automationId: string, args: { first?: number | null; after?: string | null }): Promise<Page<Run>> {
    const first = checkPageSize(args.first);
    const totalCount = await this.em.count(Run, { automation: automationId });
    if (first === 0) return toPage([], 0, totalCount, !!args.after);
    const filter: FilterQuery<Run> = { automation: automationId };
    if (args.after) {
      const cursor = decodeCursor(args.after);
      const at = new Date(Number(cursor.name));
      if (!/^\d+$/.test(cursor.name)) throw new BadUserInputError('after', 'after is not a cursor returned by runs()');
      filter.$or = [{ queuedAt: { $lt: at } }, { queuedAt: at, id: { $lt: cursor.id } }];
    }
    const rows = await this.em.find(Run, filter, { orderBy: { queuedAt: 'desc', id: 'desc' }, limit: first + 1 });
    return toPage(rows, first, totalCount, !!args.after, (run) => ({ name: String(run.queuedAt.getTime()), id: run.id }));
  }

  /** A chain run's step runs, in the order they were queued. */
  children(runId: string): Promise<Run[]> {
    return this.em.find(Run, { parentRun: runId }, { orderBy: { queuedAt: 'asc', id: 'asc' } });
  }

  /** Each automation's most recently queued run (one statement for any number of automations). */
  async latest(automationIds: readonly string[]): Promise<Map<string, Run>> {
    if (automationIds.length === 0) return new Map();
    const ids = await new RunRepository(this.em).latestIds(automationIds);
    const runs = await this.em.find(Run, { id: { $in: ids } });
    return new Map(runs.map((run) => [run.automation.id, run]));
  }

  /**
   * Queues a run. A schedule tick or manual request that comes while a run of the same automation
   * is already queued is folded into it (counted and logged) rather than piling up runs; chain
   * steps always get their own run. Only ACTIVE automations take new top-level runs.
   */
  enqueue(request: EnqueueRequest): Promise<Enqueued> {
    return this.write(async () => request.automationId, async (em, changes) => {
      const automation = await em.findOne(Automation, { id: request.automationId });
      if (!automation) throw new NotFoundError('Automation', request.automationId, 'id');
      if (automation.kind === AutomationKind.EXTERNAL_JOB) {
        throw new ConflictError('id', `automation ${JSON.stringify(automation.name)} is an external job (known from OpenLineage events): it runs elsewhere, not here`);
      }
      if (automation.draftOnly) {
        throw new ConflictError('id', `automation ${JSON.stringify(automation.name)} has no live version yet: its draft must be approved and made live before it runs`);
      }
      if (request.trigger !== RunTrigger.CHAIN && automation.state !== AutomationState.ACTIVE) {
        throw new ConflictError('id', `automation ${JSON.stringify(automation.name)} is ${automation.state}: start it before running it`);
      }
      const paused = request.trigger === RunTrigger.CHAIN ? null : await pausedConnector(em, automation);
      if (paused !== null) throw new ConflictError('id', `automation ${JSON.stringify(automation.name)} belongs to the connector ${JSON.stringify(paused)}, which is paused: resume the connector before running it`);
      if (request.trigger !== RunTrigger.CHAIN) {
        const queued = await em.findOne(Run, { automation: automation.id, status: RunStatus.QUEUED, parentRun: null }, { orderBy: { queuedAt: 'asc' } });
        if (queued) {
          queued.coalesced += 1;
          await appendLines(em, queued.id, [`${new Date().toISOString()} ${request.trigger.toLowerCase()} request folded into this queued run (a run of this automation was already waiting)`]);
          return { run: queued, created: false };
        }
      }
      // Queue times of one automation are distinct and increasing (its runs are queued one at a
      // time, under its lock), so "its latest run" means the same on every database.
      const last = await new RunRepository(em).lastQueuedAt(automation.id);
      const now = new Date();
      const run = em.create(Run, {
        automation: automation.id,
        trigger: request.trigger,
        parentRun: request.parentRunId ?? null,
        startedById: request.startedById ?? null,
        status: RunStatus.QUEUED,
        queuedAt: last && last >= now ? new Date(last.getTime() + 1) : now,
      });
      await em.flush();
      this.refreshLastStatus(changes, automation.id);
      return { run, created: true };
    });
  }

  /**
   * Marks a queued run RUNNING for `worker`, in one statement, unless another run of the same
   * automation is running. Null when the run is no longer queued or has to wait its turn.
   */
  claim(runId: string, worker: string): Promise<Run | null> {
    return this.write(automationOfRun(runId), async (em, changes) => {
      const automationId = await new RunRepository(em).claim(runId, worker, new Date());
      if (automationId === null) return null;
      this.refreshLastStatus(changes, automationId);
      return em.findOneOrFail(Run, { id: runId }, { refresh: true });
    });
  }

  /** The version a running run follows (see Executor.perform). One statement: nothing else changes. */
  async recordVersion(runId: string, versionId: string | null): Promise<void> {
    await this.em.nativeUpdate(Run, { id: runId }, { versionId });
  }

  /** Records how a run ended; a run already finished keeps its first outcome. */
  finish(runId: string, outcome: RunOutcome, logLines: string[] = []): Promise<Run | null> {
    return this.write(automationOfRun(runId), async (em, changes) => {
      const run = await em.findOne(Run, { id: runId });
      if (!run || FINISHED.includes(run.status)) return run;
      await appendLines(em, run.id, logLines);
      run.status = outcome.status;
      run.finishedAt = new Date();
      run.rowsRead = outcome.rowsRead ?? run.rowsRead ?? null;
      run.rowsWritten = outcome.rowsWritten ?? run.rowsWritten ?? null;
      run.errorRecords = outcome.errorRecords ?? run.errorRecords ?? null;
      run.error = outcome.error ?? null;
      await recordObserved(em, run, outcome.observed);
      await em.flush();
      await recordIngestionHour(em, run);
      await settleConnector(em, run, outcome);
      await settleSwitch(em, run.automation.id);
      this.refreshLastStatus(changes, run.automation.id);
      return run;
    });
  }

  /** Appends lines to a run's log, within the bound, in a transaction of its own. */
  appendLog(runId: string, lines: string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return this.em.transactional((tx) => appendLines(tx as EntityManager, runId, lines));
  }

  /** The log, with a last line saying how many lines the bound dropped. */
  async log(runId: string): Promise<string[]> {
    const run = await this.em.findOne(Run, { id: runId });
    if (!run) return [];
    const rows = await this.em.find(RunLog, { run: runId }, { orderBy: { id: 'asc' }, fields: ['line'] });
    const lines = rows.map((r) => r.line);
    if (run.logLines > lines.length) lines.push(`… ${run.logLines - lines.length} more line(s) not kept (a run keeps its first ${MAX_LOG_LINES})`);
    return lines;
  }

  /** The process running these runs is alive. */
  async heartbeat(runIds: string[]): Promise<void> {
    await new RunRepository(this.em).heartbeat(runIds, new Date());
  }

  /** Which of these runs someone asked to cancel (stopAutomation, possibly in another process). */
  async cancelRequested(runIds: string[]): Promise<string[]> {
    return new RunRepository(this.em).cancelRequested(runIds);
  }

  /**
   * No new runs for this automation: its queued runs are cancelled; with `cancelRunning` its
   * running runs are flagged for the process running them to cancel. Returns the flagged run ids.
   */
  holdRuns(automationId: string, reason: string, cancelRunning: boolean): Promise<string[]> {
    return this.write(async () => automationId, async (em, changes) => {
      const runs = new RunRepository(em);
      await runs.cancelQueued(automationId, reason, new Date());
      const flagged = cancelRunning ? await runs.flagRunning(automationId) : [];
      // The process running them hears it at commit (PostgreSQL), or at its next heartbeat.
      if (flagged.length > 0) await notifyInTransaction(em, { type: 'cancel', runIds: flagged });
      this.refreshLastStatus(changes, automationId);
      return flagged;
    });
  }

  /** Runs left RUNNING by processes that are gone: FAILED ("worker stopped"). Returns them. */
  async failDeadRuns(isAlive: (worker: string, heartbeatAt: Date | null) => boolean): Promise<Run[]> {
    // External jobs' runs are reported by events, not run by a worker here.
    const running = await this.em.fork().find(Run, { status: RunStatus.RUNNING, trigger: { $ne: RunTrigger.EXTERNAL } });
    const dead = running.filter((run) => !run.worker || !isAlive(run.worker, run.heartbeatAt ?? null));
    const failed: Run[] = [];
    for (const run of dead) {
      const done = await this.finish(run.id, { status: RunStatus.FAILED, error: 'worker stopped: the process running this run ended before it finished' }, [
        `${new Date().toISOString()} worker ${run.worker ?? '?'} stopped while running; marked FAILED`,
      ]);
      if (done) failed.push(done);
    }
    return failed;
  }

  /** Queued top-level runs, oldest first (the dispatcher's backlog). */
  queuedRuns(limit = 1000): Promise<Run[]> {
    return this.em.fork().find(Run, { status: RunStatus.QUEUED, parentRun: null }, { orderBy: { queuedAt: 'asc' }, limit });
  }

  /** The oldest queued top-level run of an automation. */
  nextQueued(automationId: string): Promise<Run | null> {
    return this.em.fork().findOne(Run, { automation: automationId, status: RunStatus.QUEUED, parentRun: null }, { orderBy: { queuedAt: 'asc' } });
  }

  /** Whether a run of the automation is running now. */
  async isRunning(automationId: string): Promise<boolean> {
    return (await this.em.fork().count(Run, { automation: automationId, status: RunStatus.RUNNING })) > 0;
  }

  /** Deletes finished top-level runs that ended before `before` (their step runs and logs go with them), in batches. */
  async prune(before: Date, batch = 500): Promise<number> {
    let total = 0;
    for (;;) {
      // What the pruned runs observed goes with them: the graphs reload those automations' observed lineage.
      const deleted = await writeTransaction(
        this.em,
        'pruning runs',
        async (tx, changes) => {
          const { deleted, automationIds } = await new RunRepository(tx).deleteFinished(before, batch);
          for (const id of automationIds) changes.add(ChangedEntity.RUN_STATUS, id);
          return deleted;
        },
        { graphFree: true },
      );
      total += deleted;
      if (deleted < batch) return total;
    }
  }

  /**
   * A run write, serialized with the other run writes of the same automation (on PostgreSQL, the
   * runs of different automations are written side by side; see writeTransaction).
   */
  private write<T>(automationOf: (em: EntityManager) => Promise<string | null>, work: (em: EntityManager, changes: ChangeSet) => Promise<T>): Promise<T> {
    return writeTransaction(this.em, 'a run', work, { graphFree: true, serializeOn: automationOf });
  }

  /** The automation's last run status becomes the status of its most recently queued run (written at commit, after the change log's lock). */
  private refreshLastStatus(changes: ChangeSet, automationId: string): void {
    changes.atCommit((tx) => new RunRepository(tx).refreshLastStatus(automationId));
    changes.add(ChangedEntity.RUN_STATUS, automationId);
  }
}

/**
 * Appends lines to a run's log (the first MAX_LOG_LINES are kept, the rest only counted). The
 * first statement writes (the count), so a transaction doing this first holds the write lock from
 * the start: a read-then-write transaction would get SQLITE_BUSY at once when another process
 * writes meanwhile.
 */
export async function appendLines(em: EntityManager, runId: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  const runs = new RunRepository(em);
  const total = await runs.countLogLines(runId, lines.length);
  if (total === null) return;
  const room = Math.max(0, MAX_LOG_LINES - (total - lines.length));
  await runs.insertLogLines(runId, lines.slice(0, room).map(cutLine));
}

/** The automation a run belongs to (a run never changes automation), or null when there is no such run. */
function automationOfRun(runId: string): (em: EntityManager) => Promise<string | null> {
  return (em) => new RunRepository(em).automationOf(runId);
}

function cutLine(line: string): string {
  return line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}… (line cut at ${MAX_LOG_LINE} characters)` : line;
}

/** The name of the automation's connector when that connector is PAUSED (it then runs nothing); null otherwise. */
export async function pausedConnector(em: Pick<EntityManager, 'findOne'>, automation: Automation): Promise<string | null> {
  if (!automation.connector) return null;
  const connector = await em.findOne(Connector, { id: automation.connector.id }, { fields: ['name', 'status'] });
  return connector?.status === ConnectorStatus.PAUSED ? connector.name : null;
}

/**
 * A connector whose ingestion could not reach its source is in ERROR (with why) until one of its
 * ingestions succeeds again; a paused connector stays paused.
 */
async function settleConnector(em: EntityManager, run: Run, outcome: RunOutcome): Promise<void> {
  const automation = await em.findOne(Automation, { id: run.automation.id }, { fields: ['connector'] });
  if (!automation?.connector) return;
  const connector = await em.findOne(Connector, { id: automation.connector.id });
  if (!connector) return;
  if (outcome.status === RunStatus.FAILED && outcome.connectionFailed && connector.status === ConnectorStatus.STARTED) {
    connector.status = ConnectorStatus.ERROR;
    connector.lastError = (outcome.error ?? 'the source could not be reached').slice(0, 2_000);
  } else if (outcome.status === RunStatus.SUCCESS && connector.status === ConnectorStatus.ERROR) {
    connector.status = ConnectorStatus.STARTED;
    connector.lastError = null;
  } else {
    return;
  }
  await em.flush();
}

/** What a successful run used (observed lineage), leaving out datasources deleted while it ran: the run's end must not fail on them. */
async function recordObserved(em: EntityManager, run: Run, observed: RunOutcome['observed']): Promise<void> {
  if (!observed) return;
  const ids = [...new Set([...observed.read, ...observed.written])];
  const present = new Set((await em.find(Datasource, { id: { $in: ids } }, { fields: ['id'] })).map((d) => d.id));
  for (const [list, direction] of [[observed.read, IoDirection.INPUT], [observed.written, IoDirection.OUTPUT]] as const) {
    for (const id of new Set(list)) if (present.has(id)) em.create(RunDataset, { run: run.id, automation: run.automation.id, datasource: id, direction, at: run.finishedAt! });
  }
}
