import { Agenda, type AgendaBackend, type Job } from 'agenda';
import type { RunEventSink } from '../openlineage/emitter.js';
import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../../core/db/orm.js';
import type { Logger } from 'pino';
import { AuditEvent, Automation, AutomationState, ConnectorStatus, LoginThrottle, OpenLineageEvent, RunTrigger, type Run } from '../../core/db/entities/index.js';
import { RunService, pausedConnector } from '../runs/run.service.js';
import { pruneIngestionHours } from '../runs/ingestion-stats.js';
import type { SecretBox } from '../../core/secrets.js';
import type { Runner } from '../runners/runner.js';
import type { SftpState } from '../runners/sftp-state.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { RunExecutor } from './executor.js';
import { WorkerIdentity } from './worker-id.js';

/** Agenda job names. */
export const JOBS = {
  /** Repeating, one per scheduled automation: queues a SCHEDULE run. */
  TICK: 'automation:tick',
  /** One-off, one per queued run: runs it. */
  RUN: 'automation:run',
  /** Repeating, single: fails runs of dead workers, dispatches stranded queued runs. */
  MAINTAIN: 'runs:maintain',
  /** Repeating, single: deletes finished runs past the retention age. */
  PRUNE: 'runs:prune',
} as const;

export interface SchedulerOptions {
  orm: Orm;
  warehouse: Warehouse;
  sftpState: SftpState;
  secrets: SecretBox;
  logger: Logger;
  dataDir: string;
  /** Job store (see openJobStore). */
  backend: AgendaBackend;
  /** The process's ScriptRunner (see openScripts); a default one without it. */
  scripts?: Runner;
  /** Hears each run start and end (OpenLineage emission). */
  runEvents?: RunEventSink;
  /** How often the job store is polled for due jobs (ms). Jobs queued in this process start at once regardless. */
  processEveryMs?: number;
  /** Runs this process runs at the same time. */
  concurrency?: number;
  /** Finished runs older than this are deleted (days). */
  retentionDays?: number;
  /** Audit log entries older than this many days are pruned with the runs (default 365). */
  auditRetentionDays?: number;
  /** A run job whose process stops touching its lock for this long is picked up again (ms). */
  lockLifetimeMs?: number;
  heartbeatMs?: number;
  /** How often runs of dead workers are looked for (Agenda interval). */
  maintainEvery?: string;
  /**
   * False for an API-only process (`npm start -- --no-jobs`): it queues runs, keeps schedules in
   * step and asks for cancellations, but takes no job: workers run them. Default true.
   */
  processJobs?: boolean;
}

interface TickJobData {
  automationId: string;
}
interface RunJobData {
  runId: string;
}

/**
 * Agenda on the job store: one repeating job per scheduled automation, kept in step with the
 * metadata database; one job per queued run; maintenance and retention jobs. Every process
 * (the server and `npm run worker`) runs one, sharing the store.
 */
export class Scheduler {
  readonly agenda: Agenda;
  readonly executor: RunExecutor;
  readonly worker = new WorkerIdentity();
  private started = false;

  constructor(private readonly options: SchedulerOptions) {
    this.agenda = new Agenda({
      backend: options.backend,
      name: this.worker.id,
      processEvery: options.processEveryMs ?? 5_000,
      maxConcurrency: (options.concurrency ?? 4) + 8,
      defaultLockLifetime: options.lockLifetimeMs ?? 60_000,
    });
    this.agenda.on('error', (error: Error) => options.logger.error({ err: error }, 'scheduler error'));
    this.executor = new RunExecutor({
      orm: options.orm,
      warehouse: options.warehouse,
      sftpState: options.sftpState,
      secrets: options.secrets,
      logger: options.logger,
      worker: this.worker,
      heartbeatMs: options.heartbeatMs,
      scripts: options.scripts,
      runEvents: options.runEvents,
      dispatch: (runId) => this.dispatch(runId),
    });
    if (this.processesJobs) this.define();
  }

  /** Whether this process runs jobs (false: API only). */
  get processesJobs(): boolean {
    return this.options.processJobs ?? true;
  }

  private define(): void {
    const { logger } = this.options;
    const lockLifetime = this.options.lockLifetimeMs ?? 60_000;
    this.agenda.define<TickJobData>(JOBS.TICK, async (job) => this.tick(job.attrs.data.automationId), { concurrency: 8 });
    this.agenda.define<RunJobData>(
      JOBS.RUN,
      async (job) => {
        const touch = setInterval(() => void job.touch().catch((error: unknown) => logger.warn({ err: error }, 'could not extend a run job lock')), lockLifetime / 3);
        try {
          await this.executor.execute(job.attrs.data.runId);
        } finally {
          clearInterval(touch);
        }
      },
      { concurrency: this.options.concurrency ?? 4, lockLifetime, removeOnComplete: true },
    );
    this.agenda.define(JOBS.MAINTAIN, async () => this.maintain());
    this.agenda.define(JOBS.PRUNE, async () => {
      await this.prune();
    });
  }

  private runs(): RunService {
    return new RunService(this.em());
  }

  private em(): EntityManager {
    return this.options.orm.em.fork() as EntityManager;
  }

  /** Starts processing; fails runs left by dead processes, reconciles the schedules, dispatches the backlog. */
  async start(): Promise<void> {
    // Started even without jobs: that connects the notification channel, so the runs this process
    // queues reach the workers at once; with no job defined, it never takes one.
    await this.agenda.start();
    this.started = true;
    if (!this.processesJobs) return;
    this.executor.start();
    await this.executor.failDead();
    const { added, removed } = await this.reconcile();
    if (added + removed > 0) this.options.logger.info({ added, removed }, 'schedules reconciled with the job store');
    await this.agenda.every(this.options.maintainEvery ?? '30 seconds', JOBS.MAINTAIN, undefined, { skipImmediate: true });
    await this.agenda.every('0 3 * * *', JOBS.PRUNE, undefined, { timezone: 'UTC' });
    await this.dispatchBacklog();
  }

  /** Cancels the runs of this process (they roll back), then stops taking jobs. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.executor.stop();
    await this.agenda.stop();
  }

  /** Queues a run now and returns it at once (manual "Run now"); folded into a queued run if one waits. */
  async runNow(automationId: string, startedBy: string | null = null): Promise<Run> {
    const { run, created } = await this.runs().enqueue({ automationId, trigger: RunTrigger.MANUAL, startedById: startedBy });
    if (created) await this.dispatch(run.id);
    return run;
  }

  /** A schedule tick: queue a SCHEDULE run unless the automation is no longer ACTIVE. */
  private async tick(automationId: string): Promise<void> {
    const automation = await this.em().findOne(Automation, { id: automationId });
    if (!scheduled(automation)) {
      await this.sync(automationId, automation); // the database says otherwise: bring the job store in line
      return;
    }
    const { run, created } = await this.runs().enqueue({ automationId, trigger: RunTrigger.SCHEDULE });
    if (created) await this.dispatch(run.id);
  }

  /**
   * Hands a queued run to Agenda. A run may get more than one job (a retry racing the end of the
   * run it waited for): the claim is atomic, so the extra job finds nothing to do.
   */
  async dispatch(runId: string): Promise<void> {
    await this.agenda.now<RunJobData>(JOBS.RUN, { runId });
  }

  /** Queued runs whose job was lost (a crash between queueing and dispatching), unless they wait for a running one. */
  private async dispatchBacklog(): Promise<void> {
    const runs = this.runs();
    for (const run of await runs.queuedRuns()) if (!(await runs.isRunning(run.automation.id))) await this.dispatch(run.id);
  }

  private async maintain(): Promise<void> {
    await this.executor.failDead();
    await this.reconcile({ removeStale: false });
    await this.dispatchBacklog();
  }

  /**
   * Deletes finished runs older than the retention age (returns how many), audit log entries
   * older than theirs, and failed sign-ins long forgotten (their rows would otherwise pile up,
   * one per address or email ever tried).
   */
  async prune(now = new Date()): Promise<number> {
    const days = this.options.retentionDays ?? 90;
    const removed = await this.runs().prune(new Date(now.getTime() - days * 86_400_000));
    if (removed > 0) this.options.logger.info({ removed, retentionDays: days }, 'old runs pruned');
    // Received OpenLineage events are kept as long as runs are.
    const events = await this.em().nativeDelete(OpenLineageEvent, { receivedAt: { $lt: new Date(now.getTime() - days * 86_400_000) } });
    if (events > 0) this.options.logger.info({ removed: events, retentionDays: days }, 'old OpenLineage events pruned');
    const auditDays = this.options.auditRetentionDays ?? 365;
    const em = this.em();
    const entries = await em.nativeDelete(AuditEvent, { at: { $lt: new Date(now.getTime() - auditDays * 86_400_000) } });
    if (entries > 0) this.options.logger.info({ removed: entries, auditRetentionDays: auditDays }, 'old audit log entries pruned');
    await pruneIngestionHours(em, now);
    const dayAgo = new Date(now.getTime() - 86_400_000);
    await em.nativeDelete(LoginThrottle, { lastFailureAt: { $lt: dayAgo }, $or: [{ blockedUntil: null }, { blockedUntil: { $lt: now } }] });
    return removed;
  }

  /**
   * After an automation changed (created, edited, scheduled, paused, stopped, started, deleted):
   * its repeating job matches the database, and runs it may no longer take are cancelled.
   */
  async automationChanged(automationId: string): Promise<void> {
    const em = this.em();
    const automation = await em.findOne(Automation, { id: automationId });
    const paused = automation ? await pausedConnector(em, automation) : null;
    if (automation && automation.state !== AutomationState.ACTIVE) {
      const stop = automation.state === AutomationState.STOPPED || automation.state === AutomationState.DEACTIVATED;
      const flagged = await this.runs().holdRuns(automationId, `cancelled: the automation was ${automation.state.toLowerCase()} before the run started`, stop);
      this.executor.cancelLocal(flagged, `the automation was ${automation.state.toLowerCase()}`);
    } else if (automation && paused !== null) {
      // A paused connector runs nothing: what was queued waits no more; a run in flight finishes.
      await this.runs().holdRuns(automationId, `cancelled: its connector ${JSON.stringify(paused)} was paused before the run started`, false);
    }
    await this.sync(automationId, paused === null ? automation : null);
  }

  /** Makes the job store hold exactly the repeating job the automation (null: deleted) should have. */
  private async sync(automationId: string, automation: Automation | null): Promise<void> {
    const jobs = (await this.agenda.queryJobs({ name: JOBS.TICK, data: { automationId } })).jobs;
    const want = scheduled(automation) ? automation : null;
    const keep = want ? jobs.find((job) => tickMatches(job, want)) : undefined;
    const extra = jobs.filter((j) => j !== keep).map((j) => String(j._id));
    if (extra.length > 0) await this.agenda.cancel({ ids: extra });
    if (want && !keep) await this.saveTick(want);
  }

  private async saveTick(automation: Automation): Promise<Job<TickJobData>> {
    const job = this.agenda.create<TickJobData>(JOBS.TICK, { automationId: automation.id });
    job.repeatEvery(automation.scheduleCron!, { timezone: automation.scheduleTimezone ?? 'UTC', skipImmediate: true });
    job.unique({ 'data.automationId': automation.id });
    return (await job.save()) as Job<TickJobData>;
  }

  /**
   * Brings the job store in line with the database: missing repeating jobs added, orphans and
   * stale ones removed. Periodic runs only add (removing could race with another process's
   * edit); a stale job left over removes itself at its next tick.
   */
  async reconcile({ removeStale = true } = {}): Promise<{ added: number; removed: number }> {
    const wanted = new Map(
      (await this.em().find(Automation, { state: AutomationState.ACTIVE, scheduleCron: { $ne: null }, $or: [{ connector: null }, { connector: { status: { $ne: ConnectorStatus.PAUSED } } }] })).map((a) => [a.id, a]),
    );
    const jobs = (await this.agenda.queryJobs({ name: JOBS.TICK })).jobs;
    const kept = new Set<string>();
    const stale: string[] = [];
    for (const job of jobs) {
      const id = (job.data as TickJobData | undefined)?.automationId;
      const want = id ? wanted.get(id) : undefined;
      if (want && !kept.has(want.id) && tickMatches(job, want)) kept.add(want.id);
      else stale.push(String(job._id));
    }
    if (removeStale && stale.length > 0) await this.agenda.cancel({ ids: stale });
    let added = 0;
    for (const automation of wanted.values()) {
      if (kept.has(automation.id)) continue;
      await this.saveTick(automation);
      added += 1;
    }
    return { added, removed: removeStale ? stale.length : 0 };
  }

  /** When each automation's repeating job fires next, from the job store. */
  async nextRunTimes(automationIds: readonly string[]): Promise<Map<string, Date | null>> {
    const wanted = new Set(automationIds);
    const times = new Map<string, Date | null>();
    const jobs = automationIds.length === 1
      ? (await this.agenda.queryJobs({ name: JOBS.TICK, data: { automationId: automationIds[0] } })).jobs
      : (await this.agenda.queryJobs({ name: JOBS.TICK })).jobs;
    for (const job of jobs) {
      const id = (job.data as TickJobData | undefined)?.automationId;
      if (id && wanted.has(id) && !job.disabled) times.set(id, job.nextRunAt ? new Date(job.nextRunAt) : null);
    }
    return times;
  }
}

/** Whether the automation should have a repeating job: ACTIVE, with a schedule. */
function scheduled(automation: Automation | null): automation is Automation {
  return !!automation && automation.state === AutomationState.ACTIVE && !!automation.scheduleCron;
}

/** Whether a repeating job fires on the automation's current schedule. */
function tickMatches(job: { repeatInterval?: string | number; repeatTimezone?: string }, automation: Automation): boolean {
  return job.repeatInterval === automation.scheduleCron && job.repeatTimezone === automation.scheduleTimezone;
}
