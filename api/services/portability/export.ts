import type { EntityManager } from '@mikro-orm/knex';
import { zipSync, strToU8 } from 'fflate';
import { Automation, AutomationKind, AutomationParameterSet, AutomationVersion, Connection, Datasource, DatasourceKind, ParameterSet } from '../../../core/db/entities/index.js';
import { BadUserInputError } from '../../../core/errors.js';
import type { SecretBox } from '../../../core/secrets.js';
import { exportedConnection } from './connections.js';
import { declaredDatasourceIds, type Definition } from '../../../core/versions/definition.js';
import { referencesIn } from '../../../core/parameters/references.js';
import {
  EXPORT_FORMAT,
  FORMAT_VERSION,
  fileNames,
  type ExportedAutomation,
  type ExportedDatasource,
  type ExportedObject,
  type ExportedParameterSet,
  type Manifest,
  type ManifestEntry,
} from './format.js';

export interface ExportRequest {
  /** None of the three lists: the whole workspace. */
  automationIds?: string[];
  datasourceIds?: string[];
  /** Versions to export instead of the live ones (one per automation; it is exported too). */
  versionIds?: string[];
  /** With what they use: declared datasources (and a join's sources), chain steps, parameter sets. */
  dependencies: boolean;
  /** SFTP passwords and keys in the clear (ADMIN only, decided by the caller). */
  withPlainTextCredentials: boolean;
  source: { version: string; url: string | null };
}

export interface ExportResult {
  zip: Uint8Array;
  manifest: Manifest;
  /** The object files by path, as written into the ZIP. */
  files: Map<string, ExportedObject>;
}

/** Builds the export ZIP of the chosen objects (see format.ts), reading one consistent state. */
export async function exportWorkspace(em: EntityManager, secrets: SecretBox, request: ExportRequest): Promise<ExportResult> {
  const chosen = await em.find(AutomationVersion, { id: { $in: request.versionIds ?? [] } });
  for (const id of request.versionIds ?? []) if (!chosen.some((v) => v.id === id)) throw new BadUserInputError('versionIds', `version ${JSON.stringify(id)} does not exist`);
  const everything = !request.automationIds?.length && !request.datasourceIds?.length && !request.versionIds?.length;

  // External jobs and datasets are left out: they come from OpenLineage events, which send them again.
  const [datasources, automations, sets, connections] = await Promise.all([
    em.find(Datasource, { kind: { $ne: DatasourceKind.EXTERNAL } }),
    em.find(Automation, { kind: { $ne: AutomationKind.EXTERNAL_JOB } }),
    em.find(ParameterSet, {}),
    em.find(Connection, {}),
  ]);
  const connectionById = new Map(connections.map((c) => [c.id, c]));
  const datasourceById = new Map(datasources.map((d) => [d.id, d]));
  const automationById = new Map(automations.map((a) => [a.id, a]));
  const setById = new Map(sets.map((s) => [s.id, s]));
  const setByName = new Map(sets.map((s) => [s.name, s]));
  const known = (ids: string[] | undefined, map: Map<string, unknown>, field: string) =>
    (ids ?? []).forEach((id) => {
      if (!map.has(id)) throw new BadUserInputError(field, `${field === 'automationIds' ? 'automation' : 'datasource'} ${JSON.stringify(id)} does not exist`);
    });
  known(request.automationIds, automationById, 'automationIds');
  known(request.datasourceIds, datasourceById, 'datasourceIds');

  const definitions = await definitionsOf(em, everything ? automations : [...new Set([...(request.automationIds ?? []), ...chosen.map((v) => v.automation.id)])].map((id) => automationById.get(id)!), chosen);
  const datasourceIds = new Set(everything ? datasources.map((d) => d.id) : (request.datasourceIds ?? []));
  const setIds = new Set(everything ? sets.map((s) => s.id) : []);

  if (request.dependencies) {
    // What the exported automations use, and what that uses in turn, until nothing new comes.
    for (let pending = [...definitions.keys()]; pending.length > 0; ) {
      const steps: Automation[] = [];
      for (const id of pending) {
        const d = definitions.get(id)!;
        declaredDatasourceIds(d).forEach((ds) => datasourceIds.add(ds));
        (d.parameterSetIds ?? []).forEach((s) => setIds.add(s));
        for (const step of (d.stepIds as string[] | undefined) ?? []) if (!definitions.has(step) && automationById.has(step)) steps.push(automationById.get(step)!);
      }
      const added = await definitionsOf(em, steps, chosen);
      added.forEach((d, id) => definitions.set(id, d));
      pending = [...added.keys()];
    }
    for (const id of [...datasourceIds]) addJoinSources(datasourceById, id, datasourceIds);
    for (const id of datasourceIds) {
      for (const ref of referencesIn(datasourceById.get(id)?.path ?? '')) if (setByName.has(ref.set)) setIds.add(setByName.get(ref.set)!.id);
    }
  }

  const name = (map: Map<string, { name: string }>, id: string) => map.get(id)?.name ?? id;
  const objects: ExportedObject[] = [
    ...[...datasourceIds].map((id) => datasourceFile(datasourceById.get(id)!, datasourceById)),
    ...[...setIds].map((id) => setFile(setById.get(id)!)),
    ...[...definitions].map(([id, d]) => automationFile(automationById.get(id)!, d, (dsId) => name(datasourceById, dsId), (aId) => name(automationById, aId), (sId) => name(setById, sId), (cId) => (cId ? connectionById.get(cId) : undefined), request.withPlainTextCredentials ? secrets : null)),
  ];
  return pack(objects, definitions, request);
}

function pack(objects: ExportedObject[], definitions: Map<string, Definition & { versionNumber?: number }>, request: ExportRequest): ExportResult {
  const entries: ManifestEntry[] = [];
  const files = new Map<string, ExportedObject>();
  for (const type of ['DATASOURCE', 'PARAMETER_SET', 'AUTOMATION'] as const) {
    const ofType = objects.filter((o) => o.type === type);
    const paths = fileNames(type, ofType.map((o) => o.name));
    for (const object of ofType.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const file = paths.get(object.name)!;
      files.set(file, object);
      const version = object.type === 'AUTOMATION' ? definitions.get(object.id)?.versionNumber : undefined;
      entries.push({ type, name: object.name, file, ...(version !== undefined ? { version } : {}) });
    }
  }
  const manifest: Manifest = {
    format: EXPORT_FORMAT,
    formatVersion: FORMAT_VERSION,
    source: { product: 'tributary', version: request.source.version, url: request.source.url },
    exportedAt: new Date().toISOString(),
    withPlainTextCredentials: request.withPlainTextCredentials,
    objects: entries,
  };
  const content: Record<string, Uint8Array> = { 'manifest.json': strToU8(`${JSON.stringify(manifest, null, 2)}\n`) };
  for (const [path, object] of files) content[path] = strToU8(`${JSON.stringify(object, null, 2)}\n`);
  return { zip: zipSync(content, { level: 6, mtime: new Date('2000-01-01T00:00:00Z') }), manifest, files };
}

/** The definition each automation exports: a chosen version, the live one, or for one never live its newest. */
async function definitionsOf(em: EntityManager, automations: Automation[], chosen: AutomationVersion[]): Promise<Map<string, Definition & { versionNumber?: number }>> {
  const result = new Map<string, Definition & { versionNumber?: number }>();
  if (automations.length === 0) return result;
  const wanted = new Map(automations.map((a) => [a.id, chosen.find((v) => v.automation.id === a.id)?.id ?? a.liveVersionId ?? null]));
  const byId = await em.find(AutomationVersion, { id: { $in: [...wanted.values()].filter((v): v is string => v !== null) } });
  const newest = await em.find(AutomationVersion, { automation: { $in: [...wanted].filter(([, v]) => v === null).map(([a]) => a) } }, { orderBy: { number: 'desc' } });
  for (const a of automations) {
    const version = byId.find((v) => v.id === wanted.get(a.id)) ?? newest.find((v) => v.automation.id === a.id);
    if (version) result.set(a.id, { ...(version.definition as Definition), versionNumber: version.number });
  }
  return result;
}

function addJoinSources(byId: Map<string, Datasource>, id: string, into: Set<string>): void {
  // A stack, not recursion: joins may nest deeper than the call stack.
  for (const stack = [id]; stack.length > 0; ) {
    const ds = byId.get(stack.pop()!);
    for (const source of [ds?.joinLeft?.id, ds?.joinRight?.id]) {
      if (source && !into.has(source)) {
        into.add(source);
        stack.push(source);
      }
    }
  }
}

function datasourceFile(d: Datasource, byId: Map<string, Datasource>): ExportedDatasource {
  const join =
    d.joinLeft && d.joinRight
      ? { left: byId.get(d.joinLeft.id)!.name, right: byId.get(d.joinRight.id)!.name, leftKey: d.joinLeftKey!, rightKey: d.joinRightKey!, type: d.joinType! }
      : null;
  return { type: 'DATASOURCE', id: d.id, name: d.name, kind: d.kind, description: d.description ?? null, tags: d.tags, path: d.path ?? null, columns: d.columns, join };
}

function setFile(s: ParameterSet): ExportedParameterSet {
  return { type: 'PARAMETER_SET', id: s.id, name: s.name, description: s.description ?? null, parameters: s.parameters };
}

function automationFile(
  a: Automation,
  d: Definition & { versionNumber?: number },
  datasource: (id: string) => string,
  automation: (id: string) => string,
  set: (id: string) => string,
  connection: (id: string | null) => Connection | undefined,
  secrets: SecretBox | null,
): ExportedAutomation {
  const { kind, name: _n, description, schedule, writeMode, writeKeys, errorPolicy, errorRecordFormat, errorDatasourceId, inputIds, outputIds, parameterSetIds, versionNumber: _v, ...own } = d;
  const settings: Record<string, unknown> = { ...own };
  if (kind === AutomationKind.CHAIN_TASK) {
    settings.steps = ((own.stepIds as string[] | undefined) ?? []).map(automation);
    delete settings.stepIds;
  }
  if ('connectionId' in settings) {
    delete settings.connectionId;
    Object.assign(settings, exportedConnection(connection(own.connectionId as string | null), secrets));
  }
  return {
    type: 'AUTOMATION',
    id: a.id,
    name: a.name,
    kind,
    description,
    schedule,
    writeMode,
    writeKeys,
    errorPolicy,
    errorRecordFormat,
    errorDatasource: errorDatasourceId ? datasource(errorDatasourceId) : null,
    inputs: inputIds.map(datasource),
    outputs: outputIds.map(datasource),
    parameterSets: (parameterSetIds ?? []).map(set),
    settings,
  };
}
