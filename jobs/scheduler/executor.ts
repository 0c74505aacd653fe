import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../../core/db/orm.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { Automation, AutomationKind, Run, RunStatus } from '../../core/db/entities/index.js';
import { DataService } from '../warehouse/data.service.js';
import { buildPlan } from '../runs/run-plan.js';
import { fillParameters } from '../runs/plan-parameters.js';
import { ParameterError } from '../../core/parameters/values.js';
import { RunService, type RunOutcome } from '../runs/run.service.js';
import type { SecretBox } from '../../core/secrets.js';
import { EtlRunner } from '../runners/etl.runner.js';
import { DatabaseIngestionRunner } from '../runners/database.runner.js';
import { RunCancelledError, RunFailedError, type Runner } from '../runners/runner.js';
import { ScriptRunner } from '../runners/script.runner.js';
import type { SftpState } from '../runners/sftp-state.js';
import { SftpConnectError, SftpImportRunner } from '../runners/sftp.runner.js';
import { SourceConnectError } from '../sources/source.js';
import type { Warehouse } from '../warehouse/warehouse.js';
import { runChain } from './chain.js';
import { RunLogBuffer } from './run-log.js';
import type { WorkerIdentity } from './worker-id.js';
import type { RunEventSink } from '../openlineage/emitter.js';

export interface ExecutorDeps {
  orm: Orm;
  warehouse: Warehouse;
  sftpState: SftpState;
  secrets: SecretBox;
  logger: Logger;
  worker: WorkerIdentity;
  /** Queues an Agenda job for a queued run (the scheduler's dispatcher). */
  dispatch(runId: string): Promise<void>;
  /** How often running runs report they are alive and look for cancel requests (ms). */
  heartbeatMs?: number;
  /** The process's ScriptRunner (sandboxed per SCRIPT_SANDBOX); a default one without it. */
  scripts?: Runner;
  /** Hears each run start and end (OpenLineage emission); it never waits or throws. */
  runEvents?: RunEventSink;
}

/** Why a run was cancelled, as the abort reason. */
export class CancelReason extends Error {}

/**
 * Runs claimed runs in this process: the runner of the automation's kind (chain tasks run their
 * steps as child runs), the outcome and the datasources' new shape recorded, the log kept.
 * A run is cancelled through its AbortController: by stopAutomation in this process at once, or
 * in another process through the run's cancel flag, which the heartbeat picks up.
 */
export class RunExecutor {
  private readonly inflight = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly runners: Record<Exclude<AutomationKind, AutomationKind.CHAIN_TASK | AutomationKind.EXTERNAL_JOB>, Runner>;

  constructor(private readonly deps: ExecutorDeps) {
    this.runners = {
      [AutomationKind.ETL_STEP]: new EtlRunner(deps.warehouse),
      [AutomationKind.SFTP_IMPORT]: new SftpImportRunner(deps.warehouse, deps.sftpState),
      [AutomationKind.SCRIPT]: deps.scripts ?? new ScriptRunner(deps.warehouse),
      [AutomationKind.DATABASE_TABLE]: new DatabaseIngestionRunner(deps.warehouse, deps.sftpState),
    };
  }

  get worker(): WorkerIdentity {
    return this.deps.worker;
  }

  /** A fresh EntityManager: every unit of work here gets its own identity map. */
  fork(): EntityManager {
    return this.deps.orm.em.fork() as EntityManager;
  }

  runs(): RunService {
    return new RunService(this.fork());
  }

  start(): void {
    const every = this.deps.heartbeatMs ?? 1_000;
    this.timer = setInterval(() => void this.beat().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'run heartbeat failed')), every);
    this.timer.unref();
  }

  /** Cancels what runs here and waits (up to `graceMs`) for the runners to roll back. */
  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true; // no new claims: a run not started stays QUEUED for the next process
    clearInterval(this.timer);
    for (const controller of this.inflight.values()) controller.abort(new CancelReason('the server shut down'));
    const deadline = Date.now() + graceMs;
    while (this.inflight.size > 0 && Date.now() < deadline) await sleep(50);
  }

  /** Ids of the runs running in this process. */
  running(): string[] {
    return [...this.inflight.keys()];
  }

  /** Cancels these runs if they run here; true for each one found. */
  cancelLocal(runIds: string[], reason: string): number {
    let found = 0;
    for (const id of runIds) {
      const controller = this.inflight.get(id);
      if (controller) {
        controller.abort(new CancelReason(reason));
        found += 1;
      }
    }
    return found;
  }

  private async beat(): Promise<void> {
    const ids = this.running();
    if (ids.length === 0) return;
    const runs = this.runs();
    await runs.heartbeat(ids);
    this.cancelLocal(await runs.cancelRequested(ids), 'the automation was stopped');
  }

  /**
   * Runs a queued top-level run if this process can claim it. A run that cannot be claimed is
   * either finished, waiting for another run of its automation (which dispatches it when it
   * ends), or left RUNNING by a dead process: that one is marked FAILED.
   */
  async execute(runId: string): Promise<void> {
    if (this.stopping) return;
    const runs = this.runs();
    const claimed = await runs.claim(runId, this.worker.id);
    if (claimed) {
      await this.runClaimed(claimed);
      return;
    }
    const run = await runs.find(runId);
    if (run?.status === RunStatus.RUNNING && run.worker && !this.worker.isAlive(run.worker, run.heartbeatAt ?? null)) {
      await this.failDead();
    }
    // Waiting behind another run of its automation: that run dispatches it again when it ends.
  }

  /** Marks runs of dead processes FAILED, then lets their automations' queued runs go. */
  async failDead(): Promise<Run[]> {
    const failed = await this.runs().failDeadRuns((worker, heartbeatAt) => this.worker.isAlive(worker, heartbeatAt));
    for (const run of failed) {
      this.deps.logger.warn({ runId: run.id, automationId: run.automation.id, worker: run.worker }, 'run left RUNNING by a stopped worker marked FAILED');
      await this.dispatchNext(run.automation.id);
    }
    return failed;
  }

  /**
   * Runs a run this process has claimed, to its end, and returns it finished. `parent` is the
   * signal of an enclosing chain run: cancelling the chain cancels its step.
   */
  async runClaimed(run: Run, parent?: AbortSignal): Promise<Run> {
    const controller = new AbortController();
    const onParentAbort = () => controller.abort(parent?.reason);
    if (parent?.aborted) onParentAbort();
    parent?.addEventListener('abort', onParentAbort, { once: true });
    this.inflight.set(run.id, controller);
    this.deps.runEvents?.started(run.id);
    const log = new RunLogBuffer(this.runs(), run.id, this.deps.logger);
    const automationId = run.automation.id;
    let outcome: RunOutcome;
    try {
      outcome = await this.perform(run, automationId, controller.signal, log);
    } catch (error) {
      outcome = this.outcomeOfError(error, controller.signal, log, run);
    } finally {
      parent?.removeEventListener('abort', onParentAbort);
      this.inflight.delete(run.id);
    }
    await log.close();
    const finished = (await this.runs().finish(run.id, outcome)) ?? run;
    this.deps.runEvents?.finished(run.id);
    await this.dispatchNext(automationId);
    return finished;
  }

  private async perform(run: Run, automationId: string, signal: AbortSignal, log: RunLogBuffer): Promise<RunOutcome> {
    const em = this.fork();
    const automation = await em.findOneOrFail(Automation, { id: automationId });
    // A version went live between the claim and this read: the run does what it read, so it records that version.
    if ((automation.liveVersionId ?? null) !== (run.versionId ?? null)) await this.runs().recordVersion(run.id, automation.liveVersionId ?? null);
    log.line(`started (${run.trigger.toLowerCase()}) on ${this.worker.id}`);
    if (automation.kind === AutomationKind.EXTERNAL_JOB) throw new RunFailedError('an external job runs elsewhere: its runs come from OpenLineage events');
    if (automation.kind === AutomationKind.CHAIN_TASK) {
      const result = await runChain(this, run, automation, signal, log);
      log.line(`finished: ${result.rowsRead} row(s) read, ${result.rowsWritten} written by the steps`);
      return { status: RunStatus.SUCCESS, ...result };
    }
    const data = new DataService(em, this.deps.warehouse);
    const { plan, log: parameters } = await fillParameters(em, await buildPlan(em, data, this.deps.secrets, automationId)).catch((error: unknown) => {
      throw error instanceof ParameterError ? new RunFailedError(error.message) : error;
    });
    for (const line of parameters) log.line(line);
    const result = await this.runners[automation.kind].run(plan, {
      signal,
      log: (line) => log.line(line),
      progress: () => undefined,
    });
    // A fresh EntityManager: the plan's was loaded before the run, and its datasources may have changed since.
    const written = new DataService(this.fork(), this.deps.warehouse);
    for (const output of result.outputs) await written.recordWrite(output.datasourceId, output.stats);
    if (result.errorRecords > 0) log.line(`${result.errorRecords} row(s) could not be read: ${result.errorSamples.join('; ')}`);
    log.line(`finished: ${result.rowsRead} row(s) read, ${result.rowsWritten} written`);
    const observed = { read: result.read ?? plan.inputs.map((input) => input.id), written: result.outputs.map((output) => output.datasourceId) };
    return { status: RunStatus.SUCCESS, rowsRead: result.rowsRead, rowsWritten: result.rowsWritten, errorRecords: result.errorRecords, observed };
  }

  private outcomeOfError(error: unknown, signal: AbortSignal, log: RunLogBuffer, run: Run): RunOutcome {
    if (error instanceof RunCancelledError || signal.aborted) {
      const reason = signal.reason instanceof CancelReason ? signal.reason.message : 'the run was cancelled';
      log.line(`cancelled: ${reason}; nothing was written`);
      return { status: RunStatus.CANCELLED, error: `cancelled: ${reason}` };
    }
    const message = error instanceof Error ? error.message : String(error);
    if (!(error instanceof RunFailedError)) this.deps.logger.error({ err: error, runId: run.id }, 'run failed unexpectedly');
    log.line(`failed: ${message}`);
    const cause = error instanceof Error ? error.cause : undefined;
    const connectionFailed = error instanceof SftpConnectError || cause instanceof SourceConnectError;
    return { status: RunStatus.FAILED, error: message, connectionFailed };
  }

  /** Hands the next queued run of the automation to the dispatcher. */
  async dispatchNext(automationId: string): Promise<void> {
    const next = await this.runs().nextQueued(automationId);
    if (next) await this.deps.dispatch(next.id);
  }
}

