import { Automation, AutomationState, ChainStep, RunStatus, RunTrigger, type ChainTask, type Run } from '../../core/db/entities/index.js';
import { RunCancelledError, RunFailedError } from '../runners/runner.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from '@mikro-orm/core';
import { pausedConnector, type RunService } from '../runs/run.service.js';
import type { RunLogBuffer } from './run-log.js';

/** What a chain needs of the executor running it (the executor implements it). */
export interface ChainHost {
  fork(): EntityManager;
  runs(): RunService;
  readonly worker: { id: string };
  runClaimed(run: Run, signal: AbortSignal): Promise<Run>;
}

/** How often a step waits to claim its automation while another run of it is going on (ms). */
const CLAIM_RETRY_MS = 200;

/**
 * Runs a chain's steps in order, each as a child run (trigger CHAIN, parentRun = the chain's
 * run), nested chains included. A step that is not ACTIVE is skipped (recorded as a CANCELLED
 * child run saying so). A failed or cancelled step stops the chain unless continueOnFailure;
 * either way the chain run fails when any step did.
 */
export async function runChain(executor: ChainHost, chainRun: Run, chain: Automation, signal: AbortSignal, log: RunLogBuffer): Promise<{ rowsRead: number; rowsWritten: number }> {
  const em = executor.fork();
  const stepIds = (await em.find(ChainStep, { chain: chain.id }, { orderBy: { position: 'asc' } })).map((s) => s.step.id);
  const continueOnFailure = (chain as ChainTask).continueOnFailure;
  const failed: string[] = [];
  let rowsRead = 0;
  let rowsWritten = 0;
  log.line(`chain of ${stepIds.length} step(s)${continueOnFailure ? ', continuing after failures' : ''}`);

  for (const [index, stepId] of stepIds.entries()) {
    if (signal.aborted) throw new RunCancelledError();
    const label = `step ${index + 1}/${stepIds.length}`;
    const step = await executor.fork().findOneOrFail(Automation, { id: stepId });
    const { run: child } = await executor.runs().enqueue({ automationId: stepId, trigger: RunTrigger.CHAIN, parentRunId: chainRun.id });
    const paused = await pausedConnector(executor.fork(), step);
    if (step.state !== AutomationState.ACTIVE || paused !== null) {
      const why = paused !== null ? `its connector ${JSON.stringify(paused)} is paused` : `it is ${step.state}`;
      await executor.runs().finish(child.id, { status: RunStatus.CANCELLED, error: `skipped: ${why}` });
      log.line(`${label} ${JSON.stringify(step.name)}: skipped, ${why}`);
      continue;
    }
    log.line(`${label} ${JSON.stringify(step.name)}: started`);
    const claimed = await claimWhenFree(executor, child, stepId, signal);
    if (!claimed) {
      if (signal.aborted) throw new RunCancelledError();
      log.line(`${label} ${JSON.stringify(step.name)}: skipped, it was paused or stopped while waiting`);
      continue;
    }
    const done = await executor.runClaimed(claimed, signal);
    rowsRead += done.rowsRead ?? 0;
    rowsWritten += done.rowsWritten ?? 0;
    log.line(`${label} ${JSON.stringify(step.name)}: ${done.status}${done.error ? ` (${done.error})` : ''}`);
    if (done.status === RunStatus.SUCCESS) continue;
    if (signal.aborted) throw new RunCancelledError();
    failed.push(step.name);
    if (!continueOnFailure) {
      throw new RunFailedError(`step ${index + 1} ${JSON.stringify(step.name)} ${done.status === RunStatus.FAILED ? 'failed' : 'was cancelled'}; the steps after it did not run`);
    }
  }
  if (failed.length > 0) throw new RunFailedError(`${failed.length} of ${stepIds.length} step(s) did not succeed: ${failed.map((n) => JSON.stringify(n)).join(', ')}`);
  return { rowsRead, rowsWritten };
}

/**
 * Claims a step's child run, waiting while another run of the same automation goes on. Null
 * when the wait ends otherwise: the chain is cancelled (the child is then cancelled too) or
 * the step's automation is no longer ACTIVE.
 */
async function claimWhenFree(executor: ChainHost, child: Run, stepId: string, signal: AbortSignal): Promise<Run | null> {
  let announced = false;
  for (;;) {
    const runs = executor.runs();
    const claimed = await runs.claim(child.id, executor.worker.id);
    if (claimed) return claimed;
    const step = await executor.fork().findOne(Automation, { id: stepId });
    if (signal.aborted || !step || step.state !== AutomationState.ACTIVE) {
      await runs.finish(child.id, { status: RunStatus.CANCELLED, error: signal.aborted ? 'cancelled: the chain run was cancelled' : `skipped: the step is ${step?.state ?? 'deleted'}` });
      return null;
    }
    if (!announced) {
      await runs.appendLog(child.id, [`${new Date().toISOString()} waiting: another run of this automation is in progress`]);
      announced = true;
    }
    await sleep(CLAIM_RETRY_MS);
  }
}
