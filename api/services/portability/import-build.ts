import { randomUUID } from 'node:crypto';
import { ref } from '@mikro-orm/core';
import { withoutConnection } from './connections.js';
import { applyDatabaseSettings } from '../ingestions/database-settings.js';
import {
  AutomationKind,
  DatasourceKind,
  ErrorPolicy,
  ErrorRecordFormat,
  JoinType,
  ScriptLanguage,
  WriteMode,
  Datasource,
  type Automation,
  type ChainTask,
  type EtlStep,
  type Script,
  type SftpImport,
  type DatabaseIngestion,
  Connection,
  ConnectionType,
} from '../../../core/db/entities/index.js';
import { BadUserInputError } from '../../../core/errors.js';
import { ParameterValues } from '../../../core/parameters/values.js';
import { LIMITS, checkJsonObject, checkName, checkRequiredText, checkTags, checkText } from '../../../core/validation.js';
import type { FileRoots } from '../../../jobs/warehouse/file-roots.js';
import { checkTransform, type SqlChecker } from '../../../jobs/transform/sql-check.js';
import { KIND_CLASS, applySchedule, applyScriptLimits, applySftpSettings, applyWriteMode, checkCode, checkVariables } from '../automation.service.js';
import { checkColumns, checkKeyColumn, checkedFilePath } from '../datasource.service.js';
import { parameterizedSettings } from '../parameter-sets/attach.js';
import type { ExportedAutomation, ExportedDatasource } from './format.js';

/** An object of the workspace, or one this import creates, as references see it. */
export interface Target {
  id: string;
  name: string;
  kind: string;
  columns?: { name: string; type: string }[];
  /** An automation that is not in force (a draft): a chain may only trigger it when it comes in this import. */
  draftOnly?: boolean;
  imported?: boolean;
}

/** How an import finds what an object names. */
export interface Lookups {
  datasource(name: string): Target | undefined;
  automation(name: string): Target | undefined;
  /** Parameter sets by name, with their parameters (as they will be after the import). */
  sets: Map<string, { id: string; name: string; parameters: { name: string; value: string }[] }>;
  /** Every set's values (FILE paths may use any), and every set's name: made once per import. */
  anySet: ParameterValues;
  setNames: Set<string>;
  files: FileRoots;
  warehouse: SqlChecker;
  seal(value: string | null, field: string): string | null;
  /** The id of the connection an automation's settings name (made when it is neither here nor made yet). */
  connection(settings: Record<string, unknown>, type: ConnectionType, owner: string): Promise<string>;
}

const oneOf = <T extends string>(values: Record<string, T>, value: unknown, field: string): T => {
  if (!Object.values(values).includes(value as T)) throw new BadUserInputError(field, `${field} must be one of ${Object.values(values).join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
};

/** A datasource to create from its file, checked as createDatasource checks one (see DatasourceService.create). */
export async function buildDatasource(file: ExportedDatasource, id: string, name: string, lookups: Lookups): Promise<Datasource> {
  const d = new Datasource();
  d.id = id;
  d.kind = oneOf(DatasourceKind, file.kind, 'kind');
  d.name = checkName(name);
  d.description = checkText(file.description, 'description', LIMITS.description);
  d.tags = checkTags(file.tags);
  d.columns = checkColumns(file.columns);
  if (d.kind === DatasourceKind.FILE) {
    d.path = await checkedFilePath(lookups.files, checkRequiredText(file.path, 'path', LIMITS.path), lookups.anySet);
  } else if (file.path !== null) {
    throw new BadUserInputError('path', `path applies to FILE datasources only, not ${d.kind}`);
  }
  if (d.kind === DatasourceKind.JOIN) {
    if (!file.join) throw new BadUserInputError('join', 'a JOIN datasource needs join: { left right leftKey rightKey type }');
    const source = (side: 'left' | 'right') => {
      const found = lookups.datasource(file.join![side]);
      if (!found) throw new BadUserInputError(`join.${side}`, `datasource ${JSON.stringify(file.join![side])} is neither in the import nor in this workspace`);
      if (found.id === id) throw new BadUserInputError(`join.${side}`, 'a join cannot use itself as a source');
      return found;
    };
    const [left, right] = [source('left'), source('right')];
    const leftKey = checkRequiredText(file.join.leftKey, 'join.leftKey', LIMITS.joinKey);
    const rightKey = checkRequiredText(file.join.rightKey, 'join.rightKey', LIMITS.joinKey);
    checkKeyColumn({ name: left.name, columns: left.columns ?? [] }, leftKey, 'join.leftKey');
    checkKeyColumn({ name: right.name, columns: right.columns ?? [] }, rightKey, 'join.rightKey');
    // Ids, not references: the row goes to insertMany as it is.
    Object.assign(d, { joinLeft: left.id, joinRight: right.id, joinLeftKey: leftKey, joinRightKey: rightKey, joinType: oneOf(JoinType, file.join.type, 'join.type') });
  } else if (file.join) {
    throw new BadUserInputError('join', `join applies to JOIN datasources only, not ${d.kind}`);
  }
  return d;
}

/** What an automation refers to, resolved to ids. */
export interface BuiltAutomation {
  automation: Automation;
  inputIds: string[];
  outputIds: string[];
  errorDatasourceId: string | null;
  stepIds: string[];
  parameterSetIds: string[];
}

/**
 * An automation to create from its file, checked as its create… mutation checks it: names of
 * datasources, steps and sets resolved through `lookups`; its transform, code, variables, schedule,
 * write mode, error policy and parameter references as the service checks them.
 */
export async function buildAutomation(file: ExportedAutomation, id: string, name: string, lookups: Lookups): Promise<BuiltAutomation> {
  const kind = oneOf(AutomationKind, file.kind, 'kind');
  const a = new KIND_CLASS[kind]();
  a.id = id;
  a.kind = kind;
  a.name = checkName(name);
  a.description = checkText(file.description, 'description', LIMITS.description);
  if (file.schedule) applySchedule(a, file.schedule, 'schedule.');
  const s = file.settings;
  const datasources = (names: string[], field: string, writable: boolean) =>
    names.map((n, i) => {
      const found = lookups.datasource(n);
      if (!found) throw new BadUserInputError(`${field}[${i}]`, `datasource ${JSON.stringify(n)} is neither in the import nor in this workspace`);
      if (writable && found.kind === DatasourceKind.JOIN) throw new BadUserInputError(`${field}[${i}]`, `${JSON.stringify(n)} is a JOIN datasource; joins are computed from their sources and cannot be written`);
      return found;
    });
  const inputs = datasources(file.inputs, 'inputs', false);
  const outputs = datasources(file.outputs, 'outputs', true);
  let stepIds: string[] = [];

  switch (kind) {
    case AutomationKind.ETL_STEP: {
      if (inputs.length !== 1 || outputs.length !== 1) throw new BadUserInputError('inputs', 'an ETL step reads one input and writes one output');
      if (inputs[0]!.id === outputs[0]!.id) throw new BadUserInputError('outputs', 'an ETL step must write to a different datasource than it reads');
      (a as EtlStep).transform = checkJsonObject(s.transform ?? {}, 'transform');
      break;
    }
    case AutomationKind.SFTP_IMPORT:
      if (inputs.length !== 0 || outputs.length !== 1) throw new BadUserInputError('outputs', 'an SFTP import writes one output and reads no datasource');
      applySftpSettings(a as SftpImport, withoutConnection(s) as never);
      a.connection = ref(Connection, await lookups.connection(s, ConnectionType.SFTP, a.name));
      break;
    case AutomationKind.DATABASE_TABLE: {
      if (inputs.length !== 0 || outputs.length !== 1) throw new BadUserInputError('outputs', 'a database ingestion writes one output and reads no datasource');
      a.writeMode = oneOf(WriteMode, file.writeMode, 'writeMode');
      applyDatabaseSettings(a as DatabaseIngestion, { table: s.table as string | null, query: s.query as string | null, cursorColumn: s.cursorColumn as string | null });
      a.connection = ref(Connection, await lookups.connection(s, s.connectionType === ConnectionType.MYSQL ? ConnectionType.MYSQL : ConnectionType.POSTGRES, a.name));
      break;
    }
    case AutomationKind.SCRIPT: {
      const script = a as Script;
      script.language = oneOf(ScriptLanguage, s.language, 'language');
      script.code = checkCode(typeof s.code === 'string' ? s.code : '');
      script.variables = checkVariables(s.variables as Record<string, unknown> | null);
      applyScriptLimits(script, s as { timeoutSeconds?: number; memoryMb?: number });
      break;
    }
    case AutomationKind.CHAIN_TASK: {
      if (inputs.length + outputs.length > 0) throw new BadUserInputError('inputs', 'a chain task declares no datasources: its steps do');
      const steps = Array.isArray(s.steps) ? (s.steps as unknown[]) : [];
      stepIds = steps.map((n, i) => {
        const found = typeof n === 'string' ? lookups.automation(n) : undefined;
        if (!found) throw new BadUserInputError(`steps[${i}]`, `automation ${JSON.stringify(n)} is neither in the import nor in this workspace`);
        if (found.id === id) throw new BadUserInputError(`steps[${i}]`, 'a chain task cannot trigger itself');
        if (found.draftOnly && !found.imported) throw new BadUserInputError(`steps[${i}]`, `${JSON.stringify(found.name)} has never been live: make its draft live before a chain triggers it`);
        return found.id;
      });
      if (new Set(stepIds).size !== stepIds.length) throw new BadUserInputError('steps', 'a step is listed twice');
      (a as ChainTask).continueOnFailure = s.continueOnFailure === true;
      break;
    }
  }
  if (kind !== AutomationKind.CHAIN_TASK) applyWriteMode(a, { writeMode: oneOf(WriteMode, file.writeMode, 'writeMode'), writeKeys: file.writeKeys });
  a.errorPolicy = oneOf(ErrorPolicy, file.errorPolicy, 'errorPolicy');
  a.errorRecordFormat = oneOf(ErrorRecordFormat, file.errorRecordFormat, 'errorRecordFormat');
  let errorDatasourceId: string | null = null;
  if (a.errorPolicy === ErrorPolicy.TO_DATASOURCE) {
    if (!file.errorDatasource) throw new BadUserInputError('errorDatasource', 'the error policy TO_DATASOURCE needs an error datasource: a STORAGE datasource for the rejected rows');
    const [target] = datasources([file.errorDatasource], 'errorDatasource', true);
    if ([...inputs, ...outputs].some((d) => d.id === target!.id)) throw new BadUserInputError('errorDatasource', 'the error datasource must be another datasource than the automation reads or writes');
    errorDatasourceId = target!.id;
  } else if (file.errorDatasource) {
    throw new BadUserInputError('errorDatasource', 'an error datasource applies to the error policy TO_DATASOURCE only');
  }

  const sets = file.parameterSets.map((n, i) => {
    const set = lookups.sets.get(n);
    if (!set) throw new BadUserInputError(`parameterSets[${i}]`, `parameter set ${JSON.stringify(n)} is neither in the import nor in this workspace`);
    return set;
  });
  const values = ParameterValues.of(sets, { known: lookups.setNames });
  for (const { field, value } of parameterizedSettings(a)) if (value !== null) values.resolveJson(value, field);
  if (kind === AutomationKind.ETL_STEP) await checkTransform(values.resolveJson((a as EtlStep).transform, 'transform'), inputs[0]!.columns ?? [], lookups.warehouse);
  return { automation: a, inputIds: inputs.map((d) => d.id), outputIds: outputs.map((d) => d.id), errorDatasourceId, stepIds, parameterSetIds: sets.map((x) => x.id) };
}

/** An id for an imported object: the one it had, when it looks like an id and is free here. */
export function idFor(exported: string, taken: (id: string) => boolean): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(exported) && !taken(exported) ? exported : randomUUID();
}
