import type { AutomationKind, DatasourceKind, JoinType } from '../../../core/enums.js';
import type { Column, Parameter } from '../../../core/db/entities/index.js';

/**
 * The export format (version 1): a ZIP holding `manifest.json` and one JSON file per object under
 * `datasources/`, `automations/` and `parameter-sets/`. Objects refer to one another by name, so
 * an import links them to what it finds there; each also keeps its id, which an import reuses
 * when it is free (a script's code may name a datasource by id). Secrets are left out unless the
 * export was made withPlainTextCredentials. A reader refuses a formatVersion it does not know.
 */
export const EXPORT_FORMAT = 'tributary-export';
export const FORMAT_VERSION = 1;

export type ExportedType = 'DATASOURCE' | 'AUTOMATION' | 'PARAMETER_SET';

export interface ManifestEntry {
  type: ExportedType;
  name: string;
  /** The file in the ZIP. */
  file: string;
  /** Automations: the number of the version exported. */
  version?: number;
}

export interface Manifest {
  format: typeof EXPORT_FORMAT;
  formatVersion: number;
  source: { product: 'tributary'; version: string; url: string | null };
  exportedAt: string;
  withPlainTextCredentials: boolean;
  objects: ManifestEntry[];
}

export interface ExportedDatasource {
  type: 'DATASOURCE';
  id: string;
  name: string;
  kind: DatasourceKind;
  description: string | null;
  tags: string[];
  path: string | null;
  columns: Column[];
  /** JOIN: its sources by name. */
  join: { left: string; right: string; leftKey: string; rightKey: string; type: JoinType } | null;
}

export interface ExportedParameterSet {
  type: 'PARAMETER_SET';
  id: string;
  name: string;
  description: string | null;
  parameters: Parameter[];
}

/** An automation's definition with datasources, chain steps and parameter sets named, not numbered. */
export interface ExportedAutomation {
  type: 'AUTOMATION';
  id: string;
  name: string;
  kind: AutomationKind;
  description: string | null;
  schedule: { cron: string; timezone: string } | null;
  writeMode: string;
  writeKeys: string[];
  errorPolicy: string;
  errorRecordFormat: string;
  errorDatasource: string | null;
  inputs: string[];
  outputs: string[];
  parameterSets: string[];
  /** The kind's own settings (transform; host, port, …; language, code, …; steps by name, continueOnFailure). */
  settings: Record<string, unknown>;
}

export type ExportedObject = ExportedDatasource | ExportedParameterSet | ExportedAutomation;

export const FOLDER: Record<ExportedType, string> = { DATASOURCE: 'datasources', AUTOMATION: 'automations', PARAMETER_SET: 'parameter-sets' };

/**
 * File names for objects of one type, from their names: characters a file system may refuse
 * become `_`, and a name that then clashes gets `~2`, `~3`… in name order, so the same objects
 * always get the same files.
 */
export function fileNames(type: ExportedType, names: string[]): Map<string, string> {
  const taken = new Set<string>();
  const files = new Map<string, string>();
  for (const name of [...names].sort()) {
    const base = name.replace(/[^A-Za-z0-9 ._()-]/g, '_').replace(/^\.+/, '_').slice(0, 120) || '_';
    let file = base;
    for (let n = 2; taken.has(file.toLowerCase()); n += 1) file = `${base}~${n}`;
    taken.add(file.toLowerCase());
    files.set(name, `${FOLDER[type]}/${file}.json`);
  }
  return files;
}
