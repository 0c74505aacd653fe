import { registerEnumType } from 'type-graphql';

export enum DatasourceKind {
  STORAGE = 'STORAGE',
  FILE = 'FILE',
  JOIN = 'JOIN',
}
export enum JoinType {
  INNER = 'INNER',
  LEFT = 'LEFT',
}
export enum AutomationKind {
  ETL_STEP = 'ETL_STEP',
  SFTP_IMPORT = 'SFTP_IMPORT',
  SCRIPT = 'SCRIPT',
  CHAIN_TASK = 'CHAIN_TASK',
}
export enum ScriptLanguage {
  JAVASCRIPT = 'JAVASCRIPT',
  PYTHON = 'PYTHON',
}
export enum RunStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCESS = 'SUCCESS',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
/** What started a run. */
export enum RunTrigger {
  SCHEDULE = 'SCHEDULE',
  MANUAL = 'MANUAL',
  CHAIN = 'CHAIN',
}
export enum AutomationState {
  ACTIVE = 'ACTIVE',
  PAUSED = 'PAUSED',
  STOPPED = 'STOPPED',
  DEACTIVATED = 'DEACTIVATED',
}
export enum LineageNodeType {
  DATASOURCE = 'DATASOURCE',
  JOIN_DATASOURCE = 'JOIN_DATASOURCE',
  ETL_STEP = 'ETL_STEP',
  SFTP_IMPORT = 'SFTP_IMPORT',
  SCRIPT = 'SCRIPT',
  CHAIN_TASK = 'CHAIN_TASK',
}
/** How an automation's rows land in its output datasource. */
export enum WriteMode {
  REPLACE = 'REPLACE',
  APPEND = 'APPEND',
  UPSERT = 'UPSERT',
}
/** What an SFTP import does with a remote file once its rows are written. */
export enum AfterImport {
  KEEP = 'KEEP',
  DELETE = 'DELETE',
  MOVE = 'MOVE',
}
/** Which side of an automation a declared datasource is on. */
export enum IoDirection {
  INPUT = 'INPUT',
  OUTPUT = 'OUTPUT',
  /** The datasource an automation writes its error records to (error policy TO_DATASOURCE). */
  ERRORS = 'ERRORS',
}

/** What a run does with rows it cannot read (malformed CSV lines, invalid JSON lines). */
export enum ErrorPolicy {
  FAIL_RUN = 'FAIL_RUN',
  DISCARD = 'DISCARD',
  TO_DATASOURCE = 'TO_DATASOURCE',
}

/** How a rejected row is written to the error datasource. */
export enum ErrorRecordFormat {
  /** The record as it was in the source: the raw line. */
  ORIGINAL_RECORD = 'ORIGINAL_RECORD',
  /** The record as far as it was parsed: its fields by column name. */
  STAGE_RECORD = 'STAGE_RECORD',
}

registerEnumType(DatasourceKind, { name: 'DatasourceKind' });
registerEnumType(JoinType, { name: 'JoinType' });
registerEnumType(AutomationKind, { name: 'AutomationKind' });
registerEnumType(ScriptLanguage, { name: 'ScriptLanguage' });
registerEnumType(RunStatus, { name: 'RunStatus' });
registerEnumType(AutomationState, {
  name: 'AutomationState',
  valuesConfig: {
    ACTIVE: { description: 'Runs on its schedule and when triggered' },
    PAUSED: { description: 'No new runs; a run in flight finishes' },
    STOPPED: { description: 'No new runs; a run in flight is cancelled' },
    DEACTIVATED: { description: 'Switched off until started again' },
  },
});
registerEnumType(LineageNodeType, { name: 'LineageNodeType' });
registerEnumType(WriteMode, {
  name: 'WriteMode',
  valuesConfig: {
    REPLACE: { description: 'The output becomes exactly the new rows, swapped in when the run succeeds' },
    APPEND: { description: 'New rows are added to the output' },
    UPSERT: { description: 'Rows matching on writeKeys are updated, others inserted' },
  },
});
registerEnumType(AfterImport, {
  name: 'AfterImport',
  valuesConfig: {
    KEEP: { description: 'Leave the file; it is remembered (name, size, mtime) and not imported again' },
    DELETE: { description: 'Delete the file from the server' },
    MOVE: { description: 'Move the file to moveToDir on the server' },
  },
});
registerEnumType(ErrorPolicy, {
  name: 'ErrorPolicy',
  valuesConfig: {
    FAIL_RUN: { description: 'The first bad row fails the run (default)' },
    DISCARD: { description: 'Bad rows are skipped and counted' },
    TO_DATASOURCE: { description: 'Bad rows are written to errorDatasource' },
  },
});
registerEnumType(ErrorRecordFormat, { name: 'ErrorRecordFormat' });
