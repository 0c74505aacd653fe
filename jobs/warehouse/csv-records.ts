import { Readable } from 'node:stream';
import { parse, type Options } from 'csv-parse';
import type { BadRecord, Row } from '../../core/rows.js';

/** Longest CSV record or JSON line read (bytes): a file without line breaks fails here instead of filling memory. */
export const MAX_RECORD_BYTES = 32 * 1024 * 1024;

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

/** A number written the canonical way becomes a number; "007" or "1,5" stay text, an empty field is null. */
export function castCsvValue(value: string): string | number | null {
  if (value === '') return null;
  const first = value.charCodeAt(0);
  if (first !== 45 && (first < 48 || first > 57)) return value; // neither '-' nor a digit: text, without the regex
  if (/^-?(0|[1-9]\d{0,15})(\.\d+)?([eE][+-]?\d{1,3})?$/.test(value)) return Number(value);
  return value;
}

/** The file's text (UTF-8) in chunks from its first byte; each call starts again. */
export type OpenText = () => AsyncIterable<string>;

/** Characters of a line the fast path splits itself: surely fewer bytes than csv-parse allows (a UTF-16 unit is at most 3 UTF-8 bytes). */
const LINE_LIMIT = Math.floor(MAX_RECORD_BYTES / 3);

/** csv-parse's settings for every CSV file: a BOM dropped, empty lines skipped, records bounded. */
const BASE: Options = { bom: true, skip_empty_lines: true, max_record_size: MAX_RECORD_BYTES };

/**
 * The records of a CSV file, strictly (RFC 4180 as csv-parse reads it: a BOM dropped, empty lines
 * skipped, every record as wide as the header, the first unreadable one a FileRowError), in groups;
 * the header is the first record. Lines without quotes or stray carriage returns, as wide as the
 * header, in a file of LF or CRLF lines (what most exports are) are split where they are, several
 * times faster than a general parser. From the first line that is anything else, csv-parse reads
 * the file again from its start and the records already given are skipped: every rule, message and
 * line number is csv-parse's own.
 */
export async function* strictCsvRecords(open: OpenText): AsyncGenerator<string[][]> {
  let given = 0; // records given so far, the header included
  let plain = true;
  let crlf = false;
  let width = -1; // the header's, once read
  let first = true;
  // One line (without its terminator, `end` excluded): its record, null for an empty line, or false when it is not plain.
  const split = (text: string, start: number, end: number, terminated: boolean): string[] | null | false => {
    if (width < 0) {
      if (end === start) return false; // an empty first line: csv-parse decides what the delimiter is
      crlf = terminated && text.charCodeAt(end - 1) === 13;
    }
    if (crlf && terminated) {
      if (end === start || text.charCodeAt(end - 1) !== 13) return false;
      end -= 1;
    }
    if (end === start) return null;
    if (end - start > LINE_LIMIT) return false; // csv-parse says how long a record may be
    const line = text.slice(start, end);
    if (line.includes('"') || line.includes('\r')) return false;
    const record = line.split(',');
    if (width < 0) width = record.length;
    else if (record.length !== width) return false;
    return record;
  };
  // The line begun in earlier chunks, in pieces (joined once its end comes: long lines cost no more than short ones).
  const parts: string[] = [];
  let partsLength = 0;
  for await (let chunk of open()) {
    if (first && chunk.length > 0) {
      first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    const firstNewline = chunk.indexOf('\n');
    if (firstNewline === -1) {
      parts.push(chunk);
      partsLength += chunk.length;
      if (partsLength > LINE_LIMIT) {
        plain = false; // csv-parse says how long a record may be
        break;
      }
      continue;
    }
    const text = parts.length > 0 ? parts.join('') + chunk : chunk;
    const records: string[][] = [];
    let start = 0;
    for (let newline = partsLength + firstNewline; newline !== -1; newline = text.indexOf('\n', start)) {
      const record = split(text, start, newline, true);
      if (record === false) {
        plain = false;
        break;
      }
      if (record !== null) records.push(record);
      start = newline + 1;
    }
    parts.length = 0;
    partsLength = 0;
    if (records.length > 0) {
      given += records.length;
      yield records;
    }
    if (!plain) break;
    if (start < text.length) {
      parts.push(text.slice(start));
      partsLength = text.length - start;
    }
  }
  const carry = parts.join('');
  if (plain && carry !== '') {
    const record = split(carry, 0, carry.length, false);
    if (record === false) plain = false;
    else if (record !== null) {
      given += 1;
      yield [record];
    }
  }
  if (!plain) yield* parsedRecords(open, given);
}

/** csv-parse over the whole file, strictly, leaving out the first `skip` records. */
function parsedRecords(open: OpenText, skip: number): AsyncGenerator<string[][]> {
  let seen = 0;
  return csvParse<string[]>(open, BASE, (record) => (seen++ < skip ? null : record));
}

/**
 * The records of a CSV file, tolerantly: a record that cannot be read, or is not as wide as the
 * header, is reported to `onBad` (its line, the reason, its raw text and the fields read) and
 * skipped. Lines keep their number and raw text, which costs csv-parse its fast path.
 */
export function tolerantCsvRecords(open: OpenText, onBad: (bad: BadRecord) => void): AsyncGenerator<string[][]> {
  const options: Options = {
    ...BASE,
    relax_column_count: true,
    info: true,
    raw: true,
    skip_records_with_error: true,
    on_skip: (error: { lines?: number; message: string } | undefined, raw: string | undefined) =>
      void onBad({ line: error?.lines ?? 0, message: `line ${error?.lines ?? 0}: ${error?.message ?? 'unreadable record'}`, raw: (raw ?? '').replace(/\r?\n$/, ''), fields: null }),
  };
  let header: string[] | null = null;
  return csvParse<{ record: string[]; raw: string; info: { lines: number } }>(open, options, ({ record, raw, info }) => {
    if (header === null) header = record;
    else if (record.length !== header.length) {
      const fields: Row = {};
      record.forEach((value, i) => (fields[header![i] ?? `field_${i + 1}`] = castCsvValue(value)));
      onBad({ line: info.lines, message: `line ${info.lines}: has ${record.length} fields, the header has ${header.length}`, raw: raw.replace(/\r?\n$/, ''), fields });
      return null;
    }
    return record;
  });
}

/**
 * csv-parse over the whole file with `options`; `take` makes each of its items a record to give,
 * or null to leave it out. Records come in groups; an error that names its line is a FileRowError.
 */
async function* csvParse<T>(open: OpenText, options: Options, take: (item: T) => string[] | null): AsyncGenerator<string[][]> {
  const input = Readable.from(open());
  const parser = input.pipe(parse(options));
  input.on('error', (error) => parser.destroy(error)); // pipe() does not forward read errors
  let records: string[][] = [];
  try {
    for await (const item of parser as AsyncIterable<T>) {
      const record = take(item);
      if (record === null) continue;
      records.push(record);
      if (records.length >= 1_000) {
        yield records;
        records = [];
      }
    }
    if (records.length > 0) yield records;
  } catch (error) {
    const info = error as { lines?: number; message: string };
    if (info.lines !== undefined) throw new FileRowError(info.lines, info.message);
    throw error;
  } finally {
    input.destroy(); // a reader that stops early must not leave the file open
  }
}
