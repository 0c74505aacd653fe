import type { AutomationKind, WriteMode } from '../../api/entities/index.js';
import type { DataStats, DatasourceSpec } from '../warehouse/warehouse.js';

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
