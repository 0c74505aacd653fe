/** One row of data, by column name. */
export type Row = Record<string, unknown>;

/** A record that could not be read: where, why, the raw text and the fields parsed so far. */
export interface BadRecord {
  line: number;
  message: string;
  raw: string;
  fields: Row | null;
}

/**
 * Rows in column order: `values[i][j]` is row i's value of `columns[j]`. A row may be shorter than
 * `columns`, or hold undefined, where it has no such value.
 */
export interface ValueBatch {
  columns: string[];
  values: unknown[][];
}
