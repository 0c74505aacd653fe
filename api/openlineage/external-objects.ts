import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import { ChangedEntity, IoDirection, type Column } from '../../core/db/entities/index.js';
import type { ChangeSet } from '../../core/db/change-log.js';
import { OpenLineageRepository, type DatasetRow, type IoRow, type JobRow } from '../../core/db/repositories/openlineage.repository.js';
import { LIMITS } from '../../core/validation.js';
import { datasetTarget, olKey, type LineageName, type NamingContext } from '../../jobs/openlineage/naming.js';
import type { OlDataset, OlFacet, OlJob } from './validate.js';
import { canonicalJson } from '../../core/versions/definition.js';

// The jobs and datasets OpenLineage events name, as Tributary objects: external jobs (automations
// of kind EXTERNAL_JOB) and datasets, mapped to a Tributary datasource when the documented naming
// says it is one, else EXTERNAL datasources. One ExternalObjects serves a group of events in one
// transaction: what they name is read in a few statements up front and written in a few at the
// end, so an event costs no round trip of its own.

/** A display name from an OpenLineage name: visible characters only, within the name limit. */
export function displayName(name: string): string {
  const visible = name
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu, ' ')
    .trim();
  return (visible || 'unnamed').slice(0, LIMITS.name).trim();
}

/** Columns from a dataset's schema facet (nested fields by their path), or null when it has none. */
export function schemaColumns(facet: OlFacet | undefined): Column[] | null {
  const fields = facet?.fields;
  if (!Array.isArray(fields) || facet?._deleted) return null;
  const columns: Column[] = [];
  const walk = (list: unknown[], prefix: string) => {
    for (const field of list) {
      if (columns.length >= LIMITS.columns || !field || typeof field !== 'object') return;
      const { name, type, fields: nested } = field as { name?: unknown; type?: unknown; fields?: unknown };
      if (typeof name !== 'string') continue;
      columns.push({ name: displayName(`${prefix}${name}`).slice(0, LIMITS.columnName), type: typeof type === 'string' ? type.slice(0, LIMITS.columnType) : '' });
      if (Array.isArray(nested)) walk(nested, `${prefix}${name}.`);
    }
  };
  walk(fields, '');
  return columns;
}

const withSuffix = (name: string, suffix: string) => `${displayName(name).slice(0, LIMITS.name - suffix.length - 2).trim()} ~${suffix}`;

/** The names a new external job or dataset takes, in order of preference: its name, with its namespace, with a piece of its key. */
function nameChoices(namespace: string, name: string, key: string): string[] {
  return [displayName(name), displayName(`${name} (${namespace})`), withSuffix(name, key.slice(0, 8))];
}

function documentation(facet: OlFacet | undefined): string | null {
  return typeof facet?.description === 'string' && !facet._deleted ? facet.description.slice(0, LIMITS.description) : null;
}

const targetKey = (t: NonNullable<ReturnType<typeof datasetTarget>>) => ('storageId' in t ? `s:${t.storageId}` : 'filePath' in t ? `f:${t.filePath}` : `n:${t.datasourceName}`);
const ioKey = (datasourceId: string, direction: IoDirection) => `${direction}:${datasourceId}`;

interface NewJob extends JobRow {
  ol_namespace: string;
  ol_name: string;
}
interface NewDataset extends DatasetRow {
  name: string;
  description: string | null;
  ol_namespace: string;
  ol_name: string;
}

/** The external jobs and datasets of a group of events: read once, changed in memory, written by {@link save}. */
export class ExternalObjects {
  private readonly repo: OpenLineageRepository;
  private readonly jobs = new Map<string, JobRow>();
  private readonly datasets = new Map<string, DatasetRow>();
  private readonly mapped = new Map<string, string>();
  private readonly io = new Map<string, IoRow[]>();
  private readonly newJobs: NewJob[] = [];
  private readonly newDatasets: NewDataset[] = [];
  private readonly changedJobs = new Map<string, { producer: string; description: string | null }>();
  private readonly changedDatasets = new Map<string, { producer: string; columns: string | null }>();
  private readonly ioChanged = new Set<string>();
  /** Ids of the jobs and datasets this group makes: their changes go in with their insert. */
  private readonly created = new Set<string>();
  private readonly ioRemoved: number[] = [];
  private readonly taken = { datasource: new Set<string>(), automation: new Set<string>() };

  constructor(
    em: EntityManager,
    private readonly naming: NamingContext,
    private readonly changes: ChangeSet,
  ) {
    this.repo = new OpenLineageRepository(em);
  }

  /** Reads every job and dataset the group names, the names they would take, and the declarations of those jobs. */
  async load(jobs: LineageName[], datasets: LineageName[]): Promise<void> {
    for (const job of await this.repo.jobsByKey(jobs.map((j) => olKey(j.namespace, j.name)))) this.jobs.set(job.ol_key, job);
    for (const ds of await this.repo.datasetsByKey(datasets.map((d) => olKey(d.namespace, d.name)))) {
      // Compared as canonical JSON: PostgreSQL's jsonb hands the columns back parsed, its keys in its own order.
      const columns = ds.columns as unknown;
      ds.columns = canonicalJson(typeof columns === 'string' ? JSON.parse(columns) : (columns ?? []));
      this.datasets.set(ds.ol_key, ds);
    }
    const targets = datasets.map((d) => datasetTarget(d, this.naming)).filter((t) => t !== null);
    const found = await this.repo.mapped(
      targets.flatMap((t) => ('storageId' in t ? [t.storageId] : [])),
      targets.flatMap((t) => ('filePath' in t ? [t.filePath] : [])),
      targets.flatMap((t) => ('datasourceName' in t ? [t.datasourceName] : [])),
    );
    for (const r of found.storage) this.mapped.set(`s:${r.id}`, r.id);
    for (const r of found.files) this.mapped.set(`f:${r.path}`, r.id);
    for (const r of found.named) this.mapped.set(`n:${r.name}`, r.id);
    // The names new objects may take: only those of jobs and datasets not known yet.
    const candidates = (list: LineageName[], known: (key: string) => boolean) =>
      list.filter((n) => !known(olKey(n.namespace, n.name))).flatMap((n) => nameChoices(n.namespace, n.name, olKey(n.namespace, n.name)));
    this.taken.automation = await this.repo.namesTaken('automation', candidates(jobs, (key) => this.jobs.has(key)));
    this.taken.datasource = await this.repo.namesTaken('datasource', candidates(datasets, (key) => this.datasets.has(key)));
    for (const job of this.jobs.values()) this.io.set(job.id, []);
    for (const row of await this.repo.ioOf([...this.jobs.values()].map((j) => j.id))) this.io.get(row.automation_id)!.push(row);
  }

  /**
   * A name no other object of the table has: the OpenLineage name, else with its namespace, else
   * with a piece of its key. Names are unique per table and shown everywhere; the identity is the key.
   */
  private freeName(table: 'datasource' | 'automation', namespace: string, name: string, key: string): string {
    const taken = this.taken[table];
    // Past the three names anyone can work out, a random one: nobody can take all of a dataset's names ahead of it.
    const chosen = nameChoices(namespace, name, key).find((n) => !taken.has(n)) ?? withSuffix(name, randomUUID().slice(0, 8));
    taken.add(chosen);
    return chosen;
  }

  /**
   * The datasource of a dataset: the mapped Tributary one (left as it is), or the EXTERNAL one of
   * that namespace and name, made on first sight and given the latest schema facet's columns.
   */
  dataset(dataset: OlDataset, producer: string): string {
    const target = datasetTarget(dataset, this.naming);
    const mapped = target ? this.mapped.get(targetKey(target)) : undefined;
    if (mapped) return mapped;
    const key = olKey(dataset.namespace, dataset.name);
    const columns = schemaColumns(dataset.facets?.schema);
    const json = columns ? canonicalJson(columns) : null;
    const existing = this.datasets.get(key);
    if (existing) {
      const newColumns = json !== null && json !== existing.columns;
      if (existing.producer !== producer || newColumns) {
        existing.producer = producer;
        if (newColumns) existing.columns = json;
        if (!this.created.has(existing.id)) this.changedDatasets.set(existing.id, { producer, columns: newColumns ? json : (this.changedDatasets.get(existing.id)?.columns ?? null) });
        this.changes.add(ChangedEntity.DATASOURCE, existing.id);
      }
      return existing.id;
    }
    const created: NewDataset = {
      id: randomUUID(),
      name: this.freeName('datasource', dataset.namespace, dataset.name, key),
      description: documentation(dataset.facets?.documentation),
      columns: json ?? '[]',
      ol_namespace: dataset.namespace,
      ol_name: dataset.name,
      ol_key: key,
      producer,
    };
    this.newDatasets.push(created);
    this.created.add(created.id);
    this.datasets.set(key, created);
    this.changes.add(ChangedEntity.DATASOURCE, created.id);
    return created.id;
  }

  /** The external job of a namespace and name, made on first sight; its producer and description follow the latest event. */
  job(job: OlJob, producer: string): JobRow {
    const key = olKey(job.namespace, job.name);
    const description = documentation(job.facets?.documentation);
    const existing = this.jobs.get(key);
    if (existing) {
      if (existing.producer !== producer || (description && description !== existing.description)) {
        existing.producer = producer;
        if (description) existing.description = description;
        if (!this.created.has(existing.id)) this.changedJobs.set(existing.id, { producer, description: existing.description });
        this.changes.add(ChangedEntity.AUTOMATION, existing.id);
      }
      return existing;
    }
    const created: NewJob = { id: randomUUID(), name: this.freeName('automation', job.namespace, job.name, key), description, ol_namespace: job.namespace, ol_name: job.name, ol_key: key, producer };
    this.newJobs.push(created);
    this.created.add(created.id);
    this.jobs.set(key, created);
    this.io.set(created.id, []);
    this.changes.add(ChangedEntity.AUTOMATION, created.id);
    return created;
  }

  /** Sets what an external job reads and writes (`replace`), or adds to it; logged for the graph only when it changes. */
  setIo(jobId: string, inputs: string[], outputs: string[], replace: boolean): void {
    const current = this.io.get(jobId) ?? [];
    const have = new Set(current.map((io) => ioKey(io.datasource_id, io.direction)));
    const wanted = new Map<string, [string, IoDirection]>();
    for (const id of inputs) wanted.set(ioKey(id, IoDirection.INPUT), [id, IoDirection.INPUT]);
    for (const id of outputs) wanted.set(ioKey(id, IoDirection.OUTPUT), [id, IoDirection.OUTPUT]);
    const missing = [...wanted.values()].filter(([id, direction]) => !have.has(ioKey(id, direction)));
    const extra = replace ? current.filter((io) => !wanted.has(ioKey(io.datasource_id, io.direction))) : [];
    if (missing.length === 0 && extra.length === 0) return;
    for (const io of extra) if (io.id !== undefined) this.ioRemoved.push(io.id);
    const kept = current.filter((io) => !extra.includes(io));
    let position = kept.reduce((max, io) => Math.max(max, io.position + 1), 0);
    for (const [id, direction] of missing) kept.push({ automation_id: jobId, datasource_id: id, direction, position: position++ });
    this.io.set(jobId, kept);
    this.ioChanged.add(jobId);
    this.changes.add(ChangedEntity.AUTOMATION, jobId);
  }

  /** Writes what the group changed: new jobs and datasets first (runs and declarations refer to them). */
  async save(now: Date): Promise<void> {
    await this.repo.insertJobs(this.newJobs.map(({ id, name, description, ol_namespace, ol_name, ol_key, producer }) => ({ id, name, description, ol_namespace, ol_name, ol_key, producer: producer! })), now);
    await this.repo.insertDatasets(
      this.newDatasets.map(({ id, name, description, columns, ol_namespace, ol_name, ol_key, producer }) => ({ id, name, description, columns, ol_namespace, ol_name, ol_key, producer: producer! })),
      now,
    );
    for (const [id, { producer, description }] of this.changedJobs) await this.repo.updateJob(id, producer, description, now);
    for (const [id, { producer, columns }] of this.changedDatasets) await this.repo.updateDataset(id, producer, columns, now);
    const added = [...this.ioChanged].flatMap((job) => (this.io.get(job) ?? []).filter((io) => io.id === undefined));
    await this.repo.replaceIo(this.ioRemoved, added);
  }
}
