import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationKind, ChangedEntity, Datasource, DatasourceKind, ParameterSet } from '../../../core/db/entities/index.js';
import { DomainError } from '../../../core/errors.js';
import { writeTransaction } from '../../../core/db/transaction.js';
import type { SecretBox } from '../../../core/secrets.js';
import type { FileRoots } from '../../../jobs/warehouse/file-roots.js';
import type { SqlChecker } from '../../../jobs/transform/sql-check.js';
import { AutomationService } from '../automation.service.js';
import { DatasourceService } from '../datasource.service.js';
import { ParameterSetService } from '../parameter-sets/parameter-set.service.js';
import type { LineageStore } from '../../lineage/store.js';
import { readSettings } from '../versions/settings.js';
import { insertCreated } from './import-write.js';
import { dependencyOrder } from './order.js';
import { PARAMETERIZED_FIELDS } from '../parameter-sets/attach.js';
import { buildAutomation, buildDatasource, idFor, type BuiltAutomation, type Lookups, type Target } from './import-build.js';
import { replaceAutomation, replaceDatasource } from './import-replace.js';
import type { ExportArchive } from './read.js';
import { mapStrings, substitute } from '../../../core/parameters/references.js';
import { ParameterValues } from '../../../core/parameters/values.js';
import type { ExportedAutomation, ExportedDatasource, ExportedObject, ExportedParameterSet, ExportedType } from './format.js';
import { importedConnection } from './connections.js';
import { sealSecret } from '../connections/connection.service.js';

export type ConflictMode = 'SKIP' | 'REPLACE' | 'RENAME';
export const CONFLICT_MODES: ConflictMode[] = ['SKIP', 'REPLACE', 'RENAME'];

export interface ObjectReport {
  type: ExportedType;
  name: string;
  outcome: 'CREATED' | 'REPLACED' | 'RENAMED' | 'SKIPPED' | 'REFUSED';
  /** RENAMED: the name it got. */
  as?: string;
  /** Its id here (none when refused). */
  id?: string;
  /** Approval is required: it came in as a draft to review, not in force. */
  draft?: boolean;
  /** REFUSED: why, and the field of its file. */
  reason?: string;
  field?: string;
  /** Not refused, but worth knowing (credentials left out of the export). */
  note?: string;
}

export interface ImportReport {
  dryRun: boolean;
  /** True when it was written; a dry run, or an import with a refused object, writes nothing. */
  committed: boolean;
  conflict: ConflictMode;
  objects: ObjectReport[];
}

export interface ImportDeps {
  secrets: SecretBox;
  files: FileRoots;
  warehouse: SqlChecker;
  lineage: LineageStore;
  actorId: string | null;
}

/** Thrown to roll the transaction back (a dry run, or a refused object) with the report made so far. */
class RolledBack extends Error {
  constructor(readonly report: ImportReport) {
    super('import rolled back');
  }
}

const ORDER: ExportedType[] = ['PARAMETER_SET', 'DATASOURCE', 'AUTOMATION'];

/**
 * Imports an export in one transaction: every object is CREATED (under its own id when that is
 * free), or, when its name is taken here, SKIPPED (references then lead to what is here),
 * REPLACED (the object here takes the imported definition through its service, so an automation
 * under review gets it as its draft) or RENAMED (created under a free name; references inside the
 * import follow). References are resolved by name, first within the import, then here. New
 * objects are checked as their create mutations check them and written in bulk (insertMany per
 * table). One refused object rolls the whole import back; a dry run rolls back after the same work.
 */
export async function importArchive(em: EntityManager, deps: ImportDeps, archive: ExportArchive, options: { conflict: ConflictMode; dryRun: boolean }): Promise<ImportReport> {
  try {
    return await writeTransaction(em, 'an import', async (tx, changes) => {
      const report = await new Import(tx, deps, options.conflict).run(archive.objects, changes);
      if (options.dryRun || report.objects.some((o) => o.outcome === 'REFUSED')) throw new RolledBack({ ...report, dryRun: options.dryRun, committed: false });
      return report;
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.report;
    throw error;
  }
}

class Import {
  private readonly report: ObjectReport[] = [];
  private readonly names = { DATASOURCE: new Map<string, Target>(), AUTOMATION: new Map<string, Target>(), PARAMETER_SET: new Map<string, Target>() };
  /** Names given to imported objects so far, the archive's own names, and the next suffix to try per name (RENAME). */
  private readonly used = { DATASOURCE: new Set<string>(), AUTOMATION: new Set<string>(), PARAMETER_SET: new Set<string>() };
  private readonly archiveNames = { DATASOURCE: new Set<string>(), AUTOMATION: new Set<string>(), PARAMETER_SET: new Set<string>() };
  private readonly suffixes = new Map<string, number>();

  constructor(
    private readonly em: EntityManager,
    private readonly deps: ImportDeps,
    private readonly conflict: ConflictMode,
  ) {}

  async run(objects: ExportedObject[], changes: { add(entity: ChangedEntity, id: string): void }): Promise<ImportReport> {
    const { em } = this;
    const [datasources, automations, sets] = await Promise.all([
      em.find(Datasource, {}, { fields: ['id', 'name', 'kind', 'columns'] }),
      em.find(Automation, {}, { fields: ['id', 'name', 'kind', 'draftOnly'] }),
      em.find(ParameterSet, {}),
    ]);
    const here = {
      DATASOURCE: new Map<string, Target>(datasources.map((d) => [d.name, { id: d.id, name: d.name, kind: d.kind, columns: d.columns }])),
      AUTOMATION: new Map<string, Target>(automations.map((a) => [a.name, { id: a.id, name: a.name, kind: a.kind, draftOnly: a.draftOnly }])),
      PARAMETER_SET: new Map<string, Target>(sets.map((s) => [s.name, { id: s.id, name: s.name, kind: 'PARAMETER_SET' }])),
    };
    const takenIds = new Set([...datasources, ...automations, ...sets].map((o) => o.id));
    for (const o of objects) this.archiveNames[o.type].add(o.name);
    const approval = (await readSettings(em)).approvalRequired;
    const setData = new Map(sets.map((s) => [s.name, { id: s.id, name: s.name, parameters: s.parameters }]));
    const renamed = new Map<string, string>();
    const madeConnections = new Map<string, string>();

    // Parameter sets: few, through their service (its checks, nested in this transaction).
    const setService = new ParameterSetService(em);
    for (const file of objects.filter((o): o is ExportedParameterSet => o.type === 'PARAMETER_SET')) {
      await this.each(file, async () => {
        const existing = here.PARAMETER_SET.get(file.name);
        const decided = this.decide(file, existing, here.PARAMETER_SET, takenIds);
        if (decided.outcome === 'SKIPPED') return { ...decided, target: existing! };
        const input = { name: decided.name, description: file.description, parameters: file.parameters };
        const set = decided.outcome === 'REPLACED' ? await setService.update(existing!.id, input) : await setService.create(input, decided.id);
        // Objects of the import name the set as the export did: that name leads to it, whatever it is called here.
        setData.set(file.name, { id: set.id, name: set.name, parameters: set.parameters });
        if (set.name !== file.name) renamed.set(file.name, set.name);
        this.names.PARAMETER_SET.set(file.name, { id: set.id, name: set.name, kind: 'PARAMETER_SET' });
        return { ...decided, target: { id: set.id, name: set.name, kind: 'PARAMETER_SET' } };
      });
    }

    const lookups: Lookups = {
      datasource: (name) => this.names.DATASOURCE.get(name) ?? here.DATASOURCE.get(name),
      automation: (name) => this.names.AUTOMATION.get(name) ?? here.AUTOMATION.get(name),
      sets: setData,
      anySet: ParameterValues.of([...setData.values()]),
      setNames: new Set([...setData.values()].map((d) => d.name)),
      files: this.deps.files,
      warehouse: this.deps.warehouse,
      seal: (value) => (value === null || value === '' ? null : this.deps.secrets.seal(value)),
      connection: (settings, type, owner) => importedConnection(em, settings, type, owner, (value, field) => sealSecret(this.deps.secrets, value, field), madeConnections),
    };
    // `${set__param}` of a set imported under another name follows it.
    if (renamed.size > 0) objects = objects.map((o) => withSetsRenamed(o, renamed));
    // Names first, so that references between imported objects resolve whatever their order.
    const decisions = new Map<ExportedObject, ReturnType<Import['decide']>>();
    for (const type of ['DATASOURCE', 'AUTOMATION'] as const) {
      for (const file of objects.filter((o) => o.type === type)) {
        const existing = here[type].get(file.name);
        const decided = this.decide(file, existing, here[type], takenIds);
        decisions.set(file, decided);
        const target: Target =
          decided.outcome === 'SKIPPED' || decided.outcome === 'REPLACED'
            ? { ...existing!, ...(file.type === 'DATASOURCE' && decided.outcome === 'REPLACED' ? { columns: file.columns } : {}) }
            : { id: decided.id, name: decided.name, kind: (file as ExportedDatasource | ExportedAutomation).kind, imported: true, draftOnly: approval, ...(file.type === 'DATASOURCE' ? { columns: file.columns } : {}) };
        this.names[type].set(file.name, target);
      }
    }

    const newDatasources: Datasource[] = [];
    const newAutomations: BuiltAutomation[] = [];
    const replacements: (() => Promise<void>)[] = [];
    const datasourceService = new DatasourceService(em, this.deps.lineage, this.deps.files);
    const automationService = new AutomationService(em, this.deps.secrets, this.deps.lineage, undefined, this.deps.warehouse, this.deps.actorId);
    for (const type of ['DATASOURCE', 'AUTOMATION'] as const) {
      for (const file of objects.filter((o) => o.type === type)) {
        const decided = decisions.get(file)!;
        await this.each(file, async () => {
          const target = this.names[type].get(file.name)!;
          if (decided.outcome === 'SKIPPED') return { ...decided, target };
          if (decided.outcome === 'REPLACED') {
            // After every new object is written: a replacement may name them.
            replacements.push(() =>
              this.each(file, async () => {
                if (file.type === 'DATASOURCE') await replaceDatasource(datasourceService, target, file, lookups);
                else await replaceAutomation(automationService, target, file as ExportedAutomation, lookups);
                return { ...decided, target, draft: file.type === 'AUTOMATION' && approval };
              }),
            );
            return null;
          }
          if (file.type === 'DATASOURCE') newDatasources.push(await buildDatasource(file as ExportedDatasource, decided.id, decided.name, lookups));
          else newAutomations.push(await buildAutomation(file as ExportedAutomation, decided.id, decided.name, lookups));
          return { ...decided, target, draft: file.type === 'AUTOMATION' && approval, note: credentialsNote(file) };
        });
      }
    }
    if (!this.report.some((o) => o.outcome === 'REFUSED')) {
      const cycle = joinOrChainCycle(newDatasources, newAutomations);
      if (cycle) this.report.push({ type: cycle.type, name: cycle.name, outcome: 'REFUSED', reason: cycle.reason });
    }
    if (this.report.some((o) => o.outcome === 'REFUSED')) return this.finish();
    await insertCreated(em, { datasources: newDatasources, automations: newAutomations, approval, actorId: this.deps.actorId });
    newDatasources.forEach((d) => changes.add(ChangedEntity.DATASOURCE, d.id));
    newAutomations.forEach((a) => changes.add(ChangedEntity.AUTOMATION, a.automation.id));
    for (const replace of replacements) await replace();
    return this.finish();
  }

  private finish(): ImportReport {
    const rank = (o: ObjectReport) => ORDER.indexOf(o.type);
    return { dryRun: false, committed: !this.report.some((o) => o.outcome === 'REFUSED'), conflict: this.conflict, objects: [...this.report].sort((a, b) => rank(a) - rank(b)) };
  }

  /** What happens to an object: by its name here and the conflict mode; a new id when its own is taken. */
  private decide(file: ExportedObject, existing: Target | undefined, here: Map<string, Target>, takenIds: Set<string>): { outcome: ObjectReport['outcome']; id: string; name: string } {
    if (existing && this.conflict === 'SKIP') return { outcome: 'SKIPPED', id: existing.id, name: existing.name };
    if (existing && this.conflict === 'REPLACE') return { outcome: 'REPLACED', id: existing.id, name: existing.name };
    let name = file.name;
    if (existing) {
      // A free name: not here, not given to another imported object, not one the archive itself holds.
      const taken = (candidate: string) => here.has(candidate) || this.used[file.type].has(candidate) || this.archiveNames[file.type].has(candidate);
      let n = this.suffixes.get(`${file.type} ${file.name}`) ?? 2;
      for (; taken(name); n += 1) name = file.type === 'PARAMETER_SET' ? `${file.name}_${n}` : `${file.name} (${n})`;
      this.suffixes.set(`${file.type} ${file.name}`, n);
    }
    this.used[file.type].add(name);
    const id = idFor(file.id, (candidate) => takenIds.has(candidate));
    takenIds.add(id);
    return { outcome: existing ? 'RENAMED' : 'CREATED', id, name };
  }


  /** Runs one object's work; a coded refusal becomes its REFUSED line (nested writes roll back to before it). */
  private async each(file: ExportedObject, work: () => Promise<({ outcome: ObjectReport['outcome']; name: string; target: Target; draft?: boolean; note?: string }) | null>): Promise<void> {
    try {
      const done = await work();
      if (!done) return;
      this.report.push({
        type: file.type,
        name: file.name,
        outcome: done.outcome,
        id: done.target.id,
        ...(done.outcome === 'RENAMED' ? { as: done.name } : {}),
        ...(done.draft ? { draft: true } : {}),
        ...(done.note ? { note: done.note } : {}),
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      const field = typeof error.details.field === 'string' ? error.details.field : undefined;
      this.report.push({ type: file.type, name: file.name, outcome: 'REFUSED', reason: error.message, ...(field ? { field } : {}) });
    }
  }
}

function withSetsRenamed(object: ExportedObject, renamed: Map<string, string>): ExportedObject {
  const rename = (text: string) => substitute(text, (r) => (renamed.has(r.set) ? `\${${renamed.get(r.set)}__${r.param}}` : r.text));
  if (object.type === 'DATASOURCE') return object.path ? { ...object, path: rename(object.path) } : object;
  if (object.type === 'AUTOMATION') {
    // Only where references are filled in (not code, passwords or step names).
    const fields = PARAMETERIZED_FIELDS[object.kind] ?? [];
    return { ...object, settings: Object.fromEntries(Object.entries(object.settings).map(([k, v]) => [k, fields.includes(k) ? mapStrings(v, rename) : v])) };
  }
  return object;
}

function credentialsNote(file: ExportedObject): string | undefined {
  if (file.type !== 'AUTOMATION' || (file.kind !== AutomationKind.SFTP_IMPORT && file.kind !== AutomationKind.DATABASE_TABLE)) return undefined;
  return file.settings.password || file.settings.privateKey ? undefined : 'no credentials came with it: if this import made its connection, an admin sets the connection\'s password or key before it runs';
}

/** A join built on itself or a chain triggering itself, through the objects this import creates. */
function joinOrChainCycle(datasources: Datasource[], automations: BuiltAutomation[]): { type: ExportedType; name: string; reason: string } | null {
  const joins = new Map(datasources.filter((d) => d.kind === DatasourceKind.JOIN).map((d) => [d.id, [d.joinLeft as unknown as string, d.joinRight as unknown as string]]));
  const chains = new Map(automations.filter((a) => a.automation.kind === AutomationKind.CHAIN_TASK).map((a) => [a.automation.id, a.stepIds]));
  const find = (edges: Map<string, string[]>): string | null => {
    const left = dependencyOrder(edges);
    return left.cyclic[0] ?? null;
  };
  const join = find(joins);
  if (join) return { type: 'DATASOURCE', name: datasources.find((d) => d.id === join)!.name, reason: 'its join sources lead back to itself: a join cannot depend on itself' };
  const chain = find(chains);
  if (chain) return { type: 'AUTOMATION', name: automations.find((a) => a.automation.id === chain)!.automation.name, reason: 'its steps lead back to itself: a chain cannot contain itself' };
  return null;
}
