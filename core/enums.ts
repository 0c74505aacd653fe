
export enum DatasourceKind {
  STORAGE = 'STORAGE',
  FILE = 'FILE',
  JOIN = 'JOIN',
  /** A dataset known from OpenLineage events that maps to no Tributary datasource. */
  EXTERNAL = 'EXTERNAL',
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
  DATABASE_TABLE = 'DATABASE_TABLE',
  /** A job known from OpenLineage events: drawn and followed, never run here. */
  EXTERNAL_JOB = 'EXTERNAL_JOB',
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
  /** A run of an external job, reported by OpenLineage events. */
  EXTERNAL = 'EXTERNAL',
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
  DATABASE_TABLE = 'DATABASE_TABLE',
  EXTERNAL_JOB = 'EXTERNAL_JOB',
  /** A dataset known from OpenLineage events only (DatasourceKind.EXTERNAL). */
  EXTERNAL_DATASOURCE = 'EXTERNAL_DATASOURCE',
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

/** What a person or a machine may do: each role may do all the roles before it may. */
export enum Role {
  VIEWER = 'VIEWER',
  EDITOR = 'EDITOR',
  ADMIN = 'ADMIN',
}

/** Where a version of an automation is in its review (see AutomationVersion). */
export enum VersionStatus {
  DRAFT = 'DRAFT',
  AWAITING_APPROVAL = 'AWAITING_APPROVAL',
  APPROVED = 'APPROVED',
  REJECTED = 'REJECTED',
  LIVE = 'LIVE',
  RETIRED = 'RETIRED',
}

/** What a connection (a stored credential) reaches. */
export enum ConnectionType {
  SFTP = 'SFTP',
  POSTGRES = 'POSTGRES',
  /** MySQL or MariaDB. */
  MYSQL = 'MYSQL',
}

/** Where a connector is in its life (seed 002): CONFIGURING while its wizard runs. */
export enum ConnectorStatus {
  INSTALLED = 'INSTALLED',
  CONFIGURING = 'CONFIGURING',
  STARTED = 'STARTED',
  PAUSED = 'PAUSED',
  ERROR = 'ERROR',
}

/** The wizard step a CONFIGURING connector has reached: each step done moves it one on. */
export enum ConnectorConfigurationStatus {
  PREREQUISITES = 'PREREQUISITES',
  CONNECTOR_CONFIGURED = 'CONNECTOR_CONFIGURED',
  CONNECTION_CONFIGURED = 'CONNECTION_CONFIGURED',
  FINALIZED = 'FINALIZED',
}

/** What an API token may do beyond (or instead of) its role: LINEAGE_WRITER tokens only send OpenLineage events. */
export enum TokenScope {
  LINEAGE_WRITER = 'LINEAGE_WRITER',
}
