import type { AutomationKind, ErrorPolicy, ErrorRecordFormat, ScriptLanguage, WriteMode } from '../../core/enums.js';
import type { DataStats, DatasourceSpec } from '../warehouse/warehouse.js';
import type { DatabaseEndpoint } from '../sources/source.js';

/** Everything a runner needs about an automation, resolved from the metadata database beforehand. */
export interface AutomationPlan {
  id: string;
  name: string;
  kind: AutomationKind;
  inputs: DatasourceSpec[];
  outputs: DatasourceSpec[];
  writeMode: WriteMode;
  writeKeys: string[];
  /** ETL steps: the stored transform JSON. */
  transform?: Record<string, unknown>;
  /** SFTP imports: connection and file selection (secrets already unsealed). */
  sftp?: SftpSettings;
  /** Database ingestions: the source (password already unsealed) and what to read. */
  database?: DatabaseSettings;
  /** Scripts: code, runtime variables and limits. */
  script?: ScriptSettings;
  /** Names of the declared datasources (id → name), for code that refers to them by name. */
  datasourceNames?: Record<string, string>;
  /** What to do with rows that cannot be read; absent means FAIL_RUN. */
  errors?: ErrorHandling;
}

export interface ErrorHandling {
  policy: ErrorPolicy;
  format: ErrorRecordFormat;
  /** TO_DATASOURCE: where rejected rows go (appended). */
  datasource: DatasourceSpec | null;
}

export type AfterImport = 'KEEP' | 'DELETE' | 'MOVE';

export interface SftpSettings {
  host: string;
  port: number;
  username: string;
  password: string | null;
  privateKey: string | null;
  remoteDir: string;
  /** Glob matched against file names in remoteDir. */
  filePattern: string;
  /** Pinned host key fingerprint ("SHA256:…" as ssh-keygen prints it); null: trust on first use. */
  hostKeyFingerprint: string | null;
  afterImport: AfterImport;
  /** MOVE: remote directory the imported files go to. */
  moveToDir: string | null;
}

export interface DatabaseSettings {
  endpoint: DatabaseEndpoint;
  table: string | null;
  query: string | null;
  cursorColumn: string | null;
}

export interface ScriptSettings {
  language: ScriptLanguage;
  code: string;
  /** JSON object with optional args (list), kwargs and job_config (objects). */
  variables: Record<string, unknown> | null;
  timeoutSeconds: number;
  memoryMb: number;
}

export interface RunContext {
  /** Aborted when the run is cancelled: the runner stops, rolls back its write and ends with RunCancelledError. */
  signal: AbortSignal;
  log(line: string): void;
  progress(rowsDone: number): void;
}

export interface RunResult {
  rowsRead: number;
  rowsWritten: number;
  /** Rows that failed and were handled by the error policy. */
  errorRecords: number;
  /** The first few error messages. */
  errorSamples: string[];
  /** Each written output with its new columns and row count, for the metadata database. */
  outputs: { datasourceId: string; stats: DataStats }[];
  /** The inputs it really read, when that may be fewer than the declared ones (scripts); otherwise all of them. */
  read?: string[];
}

/** A run that failed: the message is for the user (the run log and the run's error). */
export class RunFailedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunFailedError';
  }
}

export class RunCancelledError extends Error {
  constructor() {
    super('the run was cancelled');
    this.name = 'RunCancelledError';
  }
}

/** One runner per automation kind. */
export interface Runner {
  run(plan: AutomationPlan, ctx: RunContext): Promise<RunResult>;
}

/** A warehouse error a user can act on (a refused value, a key problem) as a RunFailedError; null for anything else. */
export function warehouseRefusal(error: unknown): RunFailedError | null {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'SQLITE_ERROR' || code === 'SQLITE_CONSTRAINT' || code === 'SQLITE_MISMATCH') return new RunFailedError(`the warehouse refused the rows: ${(error as Error).message}`, { cause: error });
  if (error instanceof Error && /duplicate keys|no key column|UPSERT/.test(error.message)) return new RunFailedError(error.message, { cause: error });
  return null;
}
