import type { AfterImport, DatasourceKind, ErrorPolicy, ErrorRecordFormat, JoinType, ScriptLanguage, WriteMode } from '../../core/enums.js';

// What the services take to create and change objects: plain shapes, free of any transport.
// The GraphQL input types (api/resolvers/types/*.input.ts) implement them.

/** Fields every automation kind shares. */
export interface CommonAutomationInput {
  name?: string | null;
  description?: string | null;
  schedule?: ScheduleInput | null;
  /** Data automations only (not chain tasks). */
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
  /** The parameter sets whose `${set__param}` its settings may use (replaces the attached ones). */
  parameterSetIds?: string[] | null;
}

export interface ColumnInput {
  name: string;
  type: string;
}

export interface JoinInput {
  leftId: string;
  rightId: string;
  leftKey: string;
  rightKey: string;
  type: JoinType;
}

export interface CreateDatasourceInput {
  name: string;
  kind: DatasourceKind;
  description?: string | null;
  tags?: string[] | null;
  path?: string | null;
  columns?: ColumnInput[] | null;
  join?: JoinInput | null;
}

export interface UpdateDatasourceInput {
  name?: string | null;
  description?: string | null;
  tags?: string[] | null;
  path?: string | null;
  columns?: ColumnInput[] | null;
  join?: JoinInput | null;
}

export interface ScheduleInput {
  cron: string;
  timezone?: string | null;
}

export interface CreateEtlStepInput extends CommonAutomationInput {
  name: string;
  description?: string | null;
  inputId: string;
  outputId: string;
  transform?: Record<string, unknown> | null;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface UpdateEtlStepInput extends CommonAutomationInput {
  name?: string | null;
  description?: string | null;
  inputId?: string | null;
  outputId?: string | null;
  transform?: Record<string, unknown> | null;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface CreateSftpImportInput extends CommonAutomationInput {
  name: string;
  description?: string | null;
  /** The SFTP connection to use; or the settings below, which make a connection for this import. */
  connectionId?: string | null;
  host?: string | null;
  port?: number | null;
  username?: string | null;
  password?: string | null;
  privateKey?: string | null;
  remoteDir?: string | null;
  filePattern?: string | null;
  outputId: string;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  hostKeyFingerprint?: string | null;
  afterImport?: AfterImport | null;
  moveToDir?: string | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface UpdateSftpImportInput extends CommonAutomationInput {
  name?: string | null;
  description?: string | null;
  connectionId?: string | null;
  host?: string | null;
  port?: number | null;
  username?: string | null;
  password?: string | null;
  privateKey?: string | null;
  remoteDir?: string | null;
  filePattern?: string | null;
  outputId?: string | null;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  hostKeyFingerprint?: string | null;
  afterImport?: AfterImport | null;
  moveToDir?: string | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface CreateDatabaseIngestionInput extends CommonAutomationInput {
  name: string;
  description?: string | null;
  connectionId: string;
  table?: string | null;
  query?: string | null;
  cursorColumn?: string | null;
  outputId: string;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface UpdateDatabaseIngestionInput extends CommonAutomationInput {
  name?: string | null;
  description?: string | null;
  connectionId?: string | null;
  table?: string | null;
  query?: string | null;
  cursorColumn?: string | null;
  outputId?: string | null;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface CreateScriptInput extends CommonAutomationInput {
  name: string;
  description?: string | null;
  language: ScriptLanguage;
  code: string;
  inputIds?: string[] | null;
  outputIds?: string[] | null;
  variables?: Record<string, unknown> | null;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  timeoutSeconds?: number | null;
  memoryMb?: number | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface UpdateScriptInput extends CommonAutomationInput {
  name?: string | null;
  description?: string | null;
  language?: ScriptLanguage | null;
  code?: string | null;
  inputIds?: string[] | null;
  outputIds?: string[] | null;
  variables?: Record<string, unknown> | null;
  schedule?: ScheduleInput | null;
  writeMode?: WriteMode | null;
  writeKeys?: string[] | null;
  timeoutSeconds?: number | null;
  memoryMb?: number | null;
  errorPolicy?: ErrorPolicy | null;
  errorDatasourceId?: string | null;
  errorRecordFormat?: ErrorRecordFormat | null;
}

export interface CreateChainTaskInput extends CommonAutomationInput {
  name: string;
  description?: string | null;
  stepIds: string[];
  continueOnFailure?: boolean | null;
  schedule?: ScheduleInput | null;
}

export interface UpdateChainTaskInput extends CommonAutomationInput {
  name?: string | null;
  description?: string | null;
  stepIds?: string[] | null;
  continueOnFailure?: boolean | null;
  schedule?: ScheduleInput | null;
}
