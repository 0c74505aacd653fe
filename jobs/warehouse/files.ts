import { constants, createReadStream, type ReadStream } from 'node:fs';
import { access, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse } from 'csv-parse';
import type { BadRecord, Row } from '../../core/rows.js';

export type { BadRecord };

export type FileFormat = 'csv' | 'jsonl';

/** JSON lines for .jsonl, .ndjson and .json; CSV (with a header row) otherwise. */
export function fileFormat(path: string): FileFormat {
  return ['.jsonl', '.ndjson', '.json'].includes(extname(path).toLowerCase()) ? 'jsonl' : 'csv';
}

/** A number written the canonical way becomes a number; "007" or "1,5" stay text, an empty field is null. */
export function castCsvValue(value: string): string | number | null {
  if (value === '') return null;
  if (/^-?(0|[1-9]\d{0,15})(\.\d+)?([eE][+-]?\d{1,3})?$/.test(value)) return Number(value);
  return value;
}

/** Thrown for a line that cannot be read; `line` is 1-based in the file. */
export class FileRowError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'FileRowError';
  }
}


/** Longest CSV record or JSON line read (bytes): a file without line breaks fails here instead of filling memory. */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

export interface ReadFileOptions {
  batchSize?: number;
  signal?: AbortSignal;
  /** An already opened (and checked) file to read instead of opening `path`; `path` still gives the format. It is closed when reading ends. */
  handle?: FileHandle;
  /** When given, bad records are reported here and skipped; otherwise the first one throws FileRowError. */
  onBadRecord?: (bad: BadRecord) => void;
}

/** Streams a CSV or JSON-lines file as batches of row objects, never holding the whole file. */
export async function* readFileRows(path: string, options: ReadFileOptions = {}): AsyncGenerator<Row[]> {
  const batchSize = options.batchSize ?? 1_000;
  if (!options.handle) await access(path, constants.R_OK); // a missing or unreadable file fails here, with its errno code
  const open = (): ReadStream => (options.handle ? createReadStream('', { fd: options.handle, signal: options.signal }) : createReadStream(path, { signal: options.signal }));
  const source = fileFormat(path) === 'csv' ? csvRows(open, options.onBadRecord) : jsonLines(open, options.onBadRecord);
  let batch: Row[] = [];
  for await (const row of source) {
    batch.push(row);
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Records come as arrays (csv-parse's fast path) and are cast here: its own cast hook costs ~10x. */
async function* csvRows(open: () => ReadStream, onBad?: (bad: BadRecord) => void): AsyncGenerator<Row> {
  const input = open();
  // Without a handler csv-parse checks field counts itself (fast path, arrays). With one, lines keep
  // their number, raw text and fields (slower) so rejected rows can be reported and staged.
  const tolerant = onBad
    ? {
        relax_column_count: true,
        info: true,
        raw: true,
        skip_records_with_error: true,
        on_skip: (error: { lines?: number; message: string } | undefined, raw: string | undefined) =>
          void onBad({ line: error?.lines ?? 0, message: `line ${error?.lines ?? 0}: ${error?.message ?? 'unreadable record'}`, raw: (raw ?? '').replace(/\r?\n$/, ''), fields: null }),
      }
    : {};
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true, max_record_size: MAX_RECORD_BYTES, ...tolerant }));
  input.on('error', (error) => parser.destroy(error)); // pipe() does not forward read errors
  let header: string[] | null = null;
  try {
    for await (const item of parser as AsyncIterable<string[] | { record: string[]; raw: string; info: { lines: number } }>) {
      const record = Array.isArray(item) ? item : item.record;
      if (header === null) {
        header = record;
        continue;
      }
      if (!Array.isArray(item) && record.length !== header.length) {
        const line = item.info.lines;
        const fields: Row = {};
        record.forEach((value, i) => (fields[header![i] ?? `field_${i + 1}`] = castCsvValue(value)));
        onBad!({ line, message: `line ${line}: has ${record.length} fields, the header has ${header.length}`, raw: item.raw.replace(/\r?\n$/, ''), fields });
        continue;
      }
      const row: Row = {};
      for (let i = 0; i < header.length; i++) row[header[i]!] = castCsvValue(record[i]!);
      yield row;
    }
  } catch (error) {
    const info = error as { lines?: number; message: string };
    if (!(error instanceof FileRowError) && info.lines !== undefined) throw new FileRowError(info.lines, info.message);
    throw error;
  } finally {
    input.destroy(); // a reader that stops early must not leave the file open
  }
}

async function* jsonLines(open: () => ReadStream, onBad?: (bad: BadRecord) => void): AsyncGenerator<Row> {
  const input = open();
  let number = 0;
  try {
    for await (const line of splitLines(input, MAX_RECORD_BYTES, () => number + 1)) {
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
  } finally {
    input.destroy(); // a reader that stops early must not leave the file open
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
