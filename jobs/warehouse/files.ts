import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { BadRecord, Row, ValueBatch } from '../../core/rows.js';
import { FileRowError, MAX_RECORD_BYTES, castCsvValue, strictCsvRecords, tolerantCsvRecords } from './csv-records.js';

export type { BadRecord };
export { FileRowError, MAX_RECORD_BYTES, castCsvValue };

export type FileFormat = 'csv' | 'jsonl';

/** JSON lines for .jsonl, .ndjson and .json; CSV (with a header row) otherwise. */
export function fileFormat(path: string): FileFormat {
  return ['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase()) ? 'jsonl' : 'csv';
}

export interface ReadFileOptions {
  batchSize?: number;
  signal?: AbortSignal;
  /** An already opened (and checked) file to read instead of opening `path`; `path` still gives the format. It is closed when reading ends. */
  handle?: FileHandle;
  /** When given, bad records are reported here and skipped; otherwise the first one throws FileRowError. */
  onBadRecord?: (bad: BadRecord) => void;
}

export type { ValueBatch };

/** Bytes read from a file at a time. */
const CHUNK_BYTES = 256 * 1024;

/**
 * Streams a CSV or JSON-lines file as batches of rows in column order, never holding the whole
 * file: what the warehouses load, without making an object of every row. For JSON lines the
 * columns only grow, and a row has no value where its line has no such key.
 */
export async function* readFileValues(path: string, options: ReadFileOptions = {}): AsyncGenerator<ValueBatch> {
  const batchSize = options.batchSize ?? 1_000;
  const file = options.handle ?? (await open(path, 'r')); // a missing or unreadable file fails here, with its errno code
  try {
    if (fileFormat(path) === 'csv') yield* csvValues(() => textChunks(file, options.signal), batchSize, options.onBadRecord);
    else yield* jsonValues(() => byteChunks(file, options.signal), batchSize, options.onBadRecord);
  } finally {
    await file.close().catch(() => undefined);
  }
}

/** The file's bytes from its first one, in chunks (positional reads: each call starts again); `signal` stops it. */
async function* byteChunks(file: FileHandle, signal?: AbortSignal): AsyncGenerator<Buffer> {
  for (let position = 0; ;) {
    signal?.throwIfAborted();
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await file.read(buffer, 0, CHUNK_BYTES, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** byteChunks decoded as UTF-8 (a character split between chunks kept whole). */
async function* textChunks(file: FileHandle, signal?: AbortSignal): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const bytes of byteChunks(file, signal)) yield decoder.write(bytes);
  const rest = decoder.end();
  if (rest) yield rest;
}

/** readFileValues as row objects (a key only where the row has a value). */
export async function* readFileRows(path: string, options: ReadFileOptions = {}): AsyncGenerator<Row[]> {
  for await (const { columns, values } of readFileValues(path, options)) yield rowObjects(columns, values);
}

/** A ValueBatch's rows as objects (a key only where the row has a value). */
export function rowObjects(columns: string[], values: unknown[][]): Row[] {
  return values.map((value) => {
    const row: Row = {};
    for (let i = 0; i < value.length; i++) if (value[i] !== undefined) row[columns[i]!] = value[i];
    return row;
  });
}

/**
 * Streams a file's batches into `store` (see pipeValueBatches). `limit`: only that many rows (a
 * preview's sample), the rest of the file never read. Returns the rows given.
 */
export function pipeFileValues(path: string, options: ReadFileOptions & { limit?: number }, store: (columns: string[], values: unknown[][]) => Promise<void>): Promise<number> {
  const left = options.limit ?? Infinity;
  return pipeValueBatches(readFileValues(path, { ...options, batchSize: Math.min(options.batchSize ?? 1_000, Math.max(1, left)) }), store, left);
}

/**
 * Streams batches into `store`, which takes a batch at once and stores it after the ones before
 * (WarehouseWrite.writeValues): the next batch is read while the last one is stored. At most
 * `limit` rows are given, and reading stops there. Returns the rows given; the first failure of
 * either side is thrown, once both have stopped.
 */
export async function pipeValueBatches(batches: AsyncIterable<ValueBatch>, store: (columns: string[], values: unknown[][]) => Promise<void>, limit = Infinity): Promise<number> {
  let pending: Promise<void> = Promise.resolve();
  let left = limit;
  let given = 0;
  try {
    for await (const { columns, values } of batches) {
      const taken = values.length > left ? values.slice(0, left) : values;
      const stored = store(columns, taken);
      stored.catch(() => undefined); // awaited below; until then a failure must not count as unhandled
      await pending;
      pending = stored;
      given += taken.length;
      left -= taken.length;
      if (left <= 0) break;
    }
  } finally {
    await pending.catch(() => undefined);
  }
  await pending;
  return given;
}

async function* csvValues(open: () => AsyncIterable<string>, batchSize: number, onBad?: (bad: BadRecord) => void): AsyncGenerator<ValueBatch> {
  let columns: string[] | null = null;
  // A header naming a column twice: the last one counts, as when the row is an object.
  let picks: number[] | null = null;
  let values: unknown[][] = [];
  for await (const records of onBad ? tolerantCsvRecords(open, onBad) : strictCsvRecords(open)) {
    for (const record of records) {
      if (columns === null) {
        const last = new Map(record.map((name, i) => [name, i]));
        columns = [...last.keys()];
        if (last.size !== record.length) picks = [...last.values()];
        continue;
      }
      const value: unknown[] = picks ? picks.map((i) => record[i]) : record;
      for (let i = 0; i < value.length; i++) value[i] = castCsvValue(value[i] as string);
      values.push(value);
      if (values.length >= batchSize) {
        yield { columns, values };
        values = [];
      }
    }
  }
  if (columns !== null && values.length > 0) yield { columns, values };
}

async function* jsonValues(open: () => AsyncIterable<Buffer>, batchSize: number, onBad?: (bad: BadRecord) => void): AsyncGenerator<ValueBatch> {
  const columns: string[] = [];
  const index = new Map<string, number>();
  let values: unknown[][] = [];
  for await (const row of jsonLines(open, onBad)) {
    const value: unknown[] = [];
    for (const key in row) {
      let at = index.get(key);
      if (at === undefined) {
        at = columns.push(key) - 1;
        index.set(key, at);
      }
      value[at] = row[key];
    }
    values.push(value);
    if (values.length >= batchSize) {
      yield { columns: [...columns], values };
      values = [];
    }
  }
  if (values.length > 0) yield { columns: [...columns], values };
}

async function* jsonLines(open: () => AsyncIterable<Buffer>, onBad?: (bad: BadRecord) => void): AsyncGenerator<Row> {
  let number = 0;
  for await (const line of splitLines(open(), MAX_RECORD_BYTES, () => number + 1)) {
    number += 1;
    if (line.trim() === '') continue;
    let value: unknown;
    let problem: string | null = null;
    try {
      value = JSON.parse(line);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) problem = 'each line must be a JSON object';
    } catch (error) {
      problem = `not valid JSON (${(error as Error).message})`;
    }
    if (problem === null) {
      yield value as Row;
      continue;
    }
    if (!onBad) throw new FileRowError(number, problem);
    onBad({ line: number, message: `line ${number}: ${problem}`, raw: line, fields: value === undefined ? null : { value: value as unknown } });
  }
}

/**
 * The lines of a byte stream (split at \n, a \r before it dropped), each decoded as UTF-8. A line
 * longer than `max` bytes fails with a FileRowError rather than growing without end.
 */
async function* splitLines(input: AsyncIterable<Buffer>, max: number, lineNumber: () => number): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let size = 0;
  const take = (last: Buffer): string => {
    const bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    parts = [];
    size = 0;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.length - 1 : bytes.length;
    return bytes.toString('utf8', 0, end);
  };
  for await (const chunk of input) {
    let start = 0;
    for (let newline = chunk.indexOf(10, start); newline !== -1; newline = chunk.indexOf(10, start)) {
      if (size + newline - start > max) throw new FileRowError(lineNumber(), `the line is longer than ${max} bytes`);
      yield take(chunk.subarray(start, newline));
      start = newline + 1;
    }
    if (start < chunk.length) {
      size += chunk.length - start;
      if (size > max) throw new FileRowError(lineNumber(), `the line is longer than ${max} bytes`);
      parts.push(chunk.subarray(start));
    }
  }
  if (size > 0) yield take(Buffer.alloc(0));
}
