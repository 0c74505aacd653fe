import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { Row } from './warehouse.js';

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

export interface ReadFileOptions {
  batchSize?: number;
  signal?: AbortSignal;
}

/** Streams a CSV or JSON-lines file as batches of row objects, never holding the whole file. */
export async function* readFileRows(path: string, options: ReadFileOptions = {}): AsyncGenerator<Row[]> {
  const batchSize = options.batchSize ?? 1_000;
  await access(path, constants.R_OK); // a missing or unreadable file fails here, with its errno code
  const source = fileFormat(path) === 'csv' ? csvRows(path, options.signal) : jsonLines(path, options.signal);
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
async function* csvRows(path: string, signal?: AbortSignal): AsyncGenerator<Row> {
  const input = createReadStream(path, { signal });
  const parser = input.pipe(parse({ bom: true, skip_empty_lines: true }));
  input.on('error', (error) => parser.destroy(error)); // pipe() does not forward read errors
  let header: string[] | null = null;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (header === null) {
        header = record;
        continue;
      }
      if (record.length !== header.length) throw new FileRowError(parser.info.lines, `has ${record.length} fields, the header has ${header.length}`);
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

async function* jsonLines(path: string, signal?: AbortSignal): AsyncGenerator<Row> {
  const input = createReadStream(path, { signal });
  let readError: Error | null = null;
  input.on('error', (error) => (readError = error));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) {
      number += 1;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new FileRowError(number, `not valid JSON (${(error as Error).message})`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new FileRowError(number, 'each line must be a JSON object');
      yield value as Row;
    }
  } finally {
    lines.close();
    input.destroy(); // a reader that stops early must not leave the file open
  }
  if (readError) throw readError; // readline ends quietly when its input fails
}
