import { createHash, randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity, IoDirection, RunStatus } from '../../core/db/entities/index.js';
import { OpenLineageRepository, type EventRow, type ExternalRunRow, type RunDatasetRow } from '../../core/db/repositories/openlineage.repository.js';
import { writeTransaction } from '../../core/db/transaction.js';
import { canonicalJson } from '../../core/versions/definition.js';
import { RunRepository } from '../../core/db/repositories/run.repository.js';
import type { LineageName, NamingContext } from '../../jobs/openlineage/naming.js';
import { BadUserInputError } from '../../core/errors.js';
import { ExternalObjects } from './external-objects.js';
import type { OlDataset, OlEvent, OlEventType, OlFacets, OlRunEvent } from './validate.js';

/** The run status an event type moves a run to; OTHER (or none) adds facets only. */
const STATUS: Partial<Record<OlEventType, RunStatus>> = {
  START: RunStatus.RUNNING,
  RUNNING: RunStatus.RUNNING,
  COMPLETE: RunStatus.SUCCESS,
  FAIL: RunStatus.FAILED,
  ABORT: RunStatus.CANCELLED,
};
const FINISHED: RunStatus[] = [RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.CANCELLED];

export interface Received {
  /** The stored event's id. */
  eventId: number;
  /** The same event was received before: nothing was written this time. */
  duplicate: boolean;
}

export interface ReceiveOptions {
  naming: NamingContext;
  /** The API token that sent it. */
  tokenId?: string | null;
}

/** A checked event, as sent, with its identity. */
export interface Incoming {
  event: OlEvent;
  raw: unknown;
  key: string;
}

/** Largest event taken, alone or in a batch (its canonical JSON). */
export const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/** Datasets one event names (its inputs and outputs, or its dataset). */
export const datasetCount = (event: OlEvent): number => (event.kind === 'DATASET' ? 1 : (event.inputs?.length ?? 0) + (event.outputs?.length ?? 0));

/**
 * A parsed event ready to take in: its identity (sha256 of its canonical JSON, so a repeated event
 * is recognised whatever its key order), within the size limit, and about jobs of other
 * installations: this one's own namespace belongs to its own automations, which no event may
 * stand in for (two installations keeping the default namespace are told to set their own).
 */
export function incomingOf(event: OlEvent, raw: unknown, naming: NamingContext, field?: string): Incoming {
  const at = (name: string) => (field ? `${field}.${name}` : name);
  const text = canonicalJson(raw);
  if (text.length > MAX_EVENT_CHARS) throw new BadUserInputError(field ?? 'event', `the event is ${text.length} characters long; the limit is ${MAX_EVENT_CHARS}`);
  const own = (job: LineageName | undefined, name: string) => {
    if (job?.namespace === naming.namespace) {
      throw new BadUserInputError(at(name), `job namespace ${JSON.stringify(job.namespace)} is this Tributary's own (OPENLINEAGE_NAMESPACE): its jobs are its automations; send under another namespace (set OPENLINEAGE_NAMESPACE on the sending side)`);
    }
  };
  if (event.kind !== 'DATASET') own(event.job, 'job.namespace');
  own(parentOf(event)?.job, 'run.facets.parent.job.namespace');
  return { event, raw, key: createHash('sha256').update(text).digest('hex') };
}

/** A runId as stored: lowercase, without the `urn:uuid:` prefix the uuid format allows. */
export const runIdOf = (runId: string): string => runId.replace(/^urn:uuid:/i, '').toLowerCase();

/** The largest row count a run keeps (an int column on PostgreSQL). */
const MAX_ROWS = 2_147_483_647;

interface ParentFacet {
  run?: { runId?: string };
  job?: { namespace?: string; name?: string };
}
const parentOf = (event: OlEvent): { runId: string; job: LineageName } | null => {
  const parent = event.kind === 'RUN' ? (event.run.facets?.parent as ParentFacet | undefined) : undefined;
  return parent?.run?.runId && parent.job?.namespace && parent.job.name ? { runId: runIdOf(parent.run.runId), job: { namespace: parent.job.namespace, name: parent.job.name } } : null;
};

/** Sum of a statistics facet's rowCount over the datasets that carry it; null when none does. */
function rowCount(list: OlDataset[] | undefined, facets: (d: OlDataset) => OlFacets | undefined, name: string): number | null {
  let total: number | null = null;
  for (const d of list ?? []) {
    const count = facets(d)?.[name]?.rowCount;
    if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 0) total = Math.min(MAX_ROWS, (total ?? 0) + count);
  }
  return total;
}

/**
 * Takes in checked OpenLineage events, all in one transaction (a failure writes none of them): the
 * external jobs and datasets they name, their runs' status and times, what the runs read and wrote
 * and what the jobs read and write, and the raw events. A repeated event writes nothing. What the
 * group names is read in a few statements up front and written in a few multi-row statements at
 * the end (core/db/repositories/openlineage.repository.ts), so a group of events costs about what
 * one does. The graph of every process catches up through the change log.
 */
export function receiveEvents(em: EntityManager, incoming: Incoming[], options: ReceiveOptions): Promise<Received[]> {
  return receiveGroup(em, () => ({ incoming, tokenId: options.tokenId ?? null }), options.naming);
}

/** The events of one transaction, and the token that sent them all. */
export interface Group {
  incoming: Incoming[];
  tokenId: string | null;
}

/**
 * {@link receiveEvents} for a group picked by `pick` once the transaction holds the write lock
 * (and only once, however often the transaction is tried): the events that arrived while it waited
 * for the lock go in it too.
 */
export function receiveGroup(em: EntityManager, pick: () => Group, naming: NamingContext): Promise<Received[]> {
  let group: Group | undefined;
  return writeTransaction(em, 'receiveOpenLineageEvents', async (tx, changes) => {
    group ??= pick();
    const { incoming } = group;
    const options: ReceiveOptions = { naming, tokenId: group.tokenId };
    const repo = new OpenLineageRepository(tx);
    const now = new Date();
    const seen = await repo.seenEvents(incoming.map((i) => i.key));
    const once = new Set<string>();
    const fresh = incoming.filter((i) => !seen.has(i.key) && !once.has(i.key) && once.add(i.key));
    const objects = new ExternalObjects(tx, options.naming, changes);
    const named = fresh.flatMap(({ event }) => (event.kind === 'DATASET' ? [] : [event.job, ...((p) => (p ? [p.job] : []))(parentOf(event))]));
    const datasets = fresh.flatMap(({ event }) => (event.kind === 'DATASET' ? [event.dataset] : [...(event.inputs ?? []), ...(event.outputs ?? [])]));
    await objects.load(named, datasets);
    const runs = new RunBook(repo, objects);
    await runs.load(fresh.flatMap(({ event }) => (event.kind === 'RUN' ? [runIdOf(event.run.runId), ...((p) => (p ? [p.runId] : []))(parentOf(event))] : [])));

    const rows: EventRow[] = [];
    for (const { event, raw, key } of fresh) {
      let jobId: string | null = null;
      if (event.kind === 'DATASET') {
        objects.dataset(event.dataset, event.producer);
      } else {
        jobId = objects.job(event.job, event.producer).id;
        const inputs = (event.inputs ?? []).map((d) => objects.dataset(d, event.producer));
        const outputs = (event.outputs ?? []).map((d) => objects.dataset(d, event.producer));
        if (event.kind === 'JOB') {
          // A JobEvent states the job's lineage as it is now; one without inputs or outputs leaves it.
          if (event.inputs !== undefined || event.outputs !== undefined) objects.setIo(jobId, inputs, outputs, true);
        } else {
          const run = runs.record(jobId, event, inputs, outputs);
          // A completed run tells what the job reads and writes now (as Marquez's job versions do): every dataset its events named.
          if (event.eventType === 'COMPLETE') objects.setIo(jobId, ...runs.datasetsOf(run), true);
          else objects.setIo(jobId, inputs, outputs, false);
        }
      }
      rows.push({
        event_key: key,
        kind: event.kind,
        event_type: event.kind === 'RUN' ? (event.eventType ?? null) : null,
        event_time: new Date(event.eventTime),
        run_id: event.kind === 'RUN' ? runIdOf(event.run.runId) : null,
        job_namespace: event.kind === 'DATASET' ? null : event.job.namespace,
        job_name: event.kind === 'DATASET' ? null : event.job.name,
        automation_id: jobId,
        producer: event.producer,
        received_by_token: options.tokenId ?? null,
        payload: JSON.stringify(raw),
      });
    }
    await objects.save(now);
    await runs.save();
    const ids = await repo.insertEvents(rows, now);
    const touched = runs.touchedJobs();
    if (touched.length > 0) {
      changes.atCommit((commit) => new RunRepository(commit).refreshLastStatuses(touched));
      for (const id of touched) changes.add(ChangedEntity.RUN_STATUS, id);
    }
    return incoming.map(({ key }) => (ids.has(key) && !seen.has(key) ? { eventId: ids.get(key)!, duplicate: false } : { eventId: seen.get(key) ?? ids.get(key)!, duplicate: true }));
  });
}

/** The external runs of a group of events: read once, changed in memory, written by {@link save}. */
class RunBook {
  private readonly runs = new Map<string, ExternalRunRow>();
  private readonly changed = new Set<ExternalRunRow>();
  private readonly datasets = new Map<string, Map<string, RunDatasetRow>>();
  private readonly changedDatasets = new Set<RunDatasetRow>();
  private readonly jobs = new Set<string>();

  constructor(
    private readonly repo: OpenLineageRepository,
    private readonly objects: ExternalObjects,
  ) {}

  async load(runIds: string[]): Promise<void> {
    const found = await this.repo.runsByExternalId(runIds);
    for (const run of found) {
      this.runs.set(`${run.automation_id}|${run.external_run_id}`, run);
      this.datasets.set(run.id, new Map());
    }
    for (const row of await this.repo.runDatasetsOf(found.map((r) => r.id))) this.datasets.get(row.run_id)!.set(`${row.direction}:${row.datasource_id}`, row);
  }

  touchedJobs(): string[] {
    return [...this.jobs];
  }

  /** What a run read and wrote, by every event of it so far. */
  datasetsOf(run: ExternalRunRow): [string[], string[]] {
    const rows = [...(this.datasets.get(run.id)?.values() ?? [])];
    return [rows.filter((r) => r.direction === IoDirection.INPUT).map((r) => r.datasource_id), rows.filter((r) => r.direction === IoDirection.OUTPUT).map((r) => r.datasource_id)];
  }

  private find(jobId: string, runId: string, at: Date, startedAt: Date | null): ExternalRunRow {
    const key = `${jobId}|${runId}`;
    let run = this.runs.get(key);
    if (!run) {
      run = { id: randomUUID(), automation_id: jobId, external_run_id: runId, status: RunStatus.RUNNING, queued_at: at, started_at: startedAt, finished_at: null, error: null, rows_read: null, rows_written: null, parent_run_id: null };
      this.runs.set(key, run);
      this.datasets.set(run.id, new Map());
    }
    this.changed.add(run);
    this.jobs.add(jobId);
    return run;
  }

  /**
   * The run an event reports on (made on first sight): its status moves forward only (a late
   * RUNNING never reopens a finished run; of two endings the later one counts), with its times,
   * row counts, error and the datasets it used. A parent run facet links it to its parent's run.
   */
  record(jobId: string, event: OlRunEvent, inputs: string[], outputs: string[]): ExternalRunRow {
    const at = new Date(event.eventTime);
    const status = event.eventType ? STATUS[event.eventType] : undefined;
    const run = this.find(jobId, runIdOf(event.run.runId), at, at);
    if (at < run.queued_at) run.queued_at = at;
    if ((event.eventType === 'START' || event.eventType === 'RUNNING') && (!run.started_at || at < run.started_at)) run.started_at = at;
    if (status && FINISHED.includes(status) && (!FINISHED.includes(run.status) || !run.finished_at || at >= run.finished_at)) {
      run.status = status;
      run.finished_at = at;
      const error = event.run.facets?.errorMessage?.message;
      run.error = status === RunStatus.SUCCESS ? null : typeof error === 'string' ? error.slice(0, 10_000) : run.error;
    }
    const written = rowCount(event.outputs, (d) => d.outputFacets, 'outputStatistics');
    const read = rowCount(event.inputs, (d) => d.inputFacets, 'inputStatistics');
    if (written !== null) run.rows_written = written;
    if (read !== null) run.rows_read = read;
    const used = this.datasets.get(run.id)!;
    for (const [ids, direction] of [[inputs, IoDirection.INPUT], [outputs, IoDirection.OUTPUT]] as const) {
      for (const id of ids) {
        // When the run was first seen using it: later events naming it again change nothing.
        const key = `${direction}:${id}`;
        if (used.has(key)) continue;
        const row = { run_id: run.id, automation_id: jobId, datasource_id: id, direction, at };
        used.set(key, row);
        this.changedDatasets.add(row);
      }
    }
    const parent = parentOf(event);
    if (parent && !run.parent_run_id) {
      const parentJob = this.objects.job(parent.job, event.producer);
      run.parent_run_id = this.find(parentJob.id, parent.runId, at, null).id;
    }
    return run;
  }

  /** Parents before children: a run refers to its parent's row. */
  async save(): Promise<void> {
    const rows = [...this.changed];
    const parents = new Set(rows.map((r) => r.parent_run_id));
    await this.repo.upsertRuns([...rows.filter((r) => parents.has(r.id)), ...rows.filter((r) => !parents.has(r.id))]);
    await this.repo.upsertRunDatasets([...this.changedDatasets]);
  }
}
