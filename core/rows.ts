/** One row of data, by column name. */
export type Row = Record<string, unknown>;

/** A record that could not be read: where, why, the raw text and the fields parsed so far. */
export interface BadRecord {
  line: number;
  message: string;
  raw: string;
  fields: Row | null;
}
