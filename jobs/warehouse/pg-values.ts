import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { quoteIdent } from '../../core/db/sql.js';
import type { Row } from '../../core/rows.js';

/**
 * Values between JavaScript and the PostgreSQL warehouse: how rows are typed and sent with COPY,
 * and how results are parsed, so that what comes back matches what the SQLite warehouse answers
 * (booleans as 1/0, big sums as numbers, dates as ISO text).
 */

/** The hidden column every warehouse table and staging table keeps its row order in (SQLite's rowid). */
export const ROW_ID = '__rowid';

/** Column types of rows written from JavaScript: whole numbers, other numbers, everything else. */
export type ValueType = 'bigint' | 'double precision' | 'text';

const NUMERIC_RANK: Record<string, number> = { smallint: 1, integer: 2, bigint: 3, numeric: 4, real: 5, 'double precision': 6 };

/** The type a JavaScript value is stored as (null for null: it fits any type). */
export function typeOfValue(value: unknown): ValueType | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return 'bigint';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'bigint' : 'double precision';
  return 'text';
}

/** A type holding the values of both: numbers widen (whole → numeric → floating point), anything else mixed becomes text. */
export function unifyTypes(a: string, b: string): string {
  if (a === b) return a;
  const [ra, rb] = [NUMERIC_RANK[a], NUMERIC_RANK[b]];
  if (ra === undefined || rb === undefined) return 'text';
  if ((a === 'numeric' && rb > 4) || (b === 'numeric' && ra > 4)) return 'double precision';
  return ra >= rb ? a : b;
}

/** A column definition's type: text compares byte by byte (COLLATE "C"), as SQLite's does. */
export function columnType(type: string): string {
  return type === 'text' ? 'text collate "C"' : type;
}

/** The value as COPY's CSV text: booleans as 1/0, objects as JSON, dates as ISO text, null as an unquoted empty field. */
function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') return String(value); // NaN and ±Infinity are valid double precision text
  if (typeof value === 'bigint') return String(value);
  const text = value instanceof Date ? value.toISOString() : Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return `"${text.replaceAll('"', '""')}"`;
}

/** Sends rows into `relation` (its columns `columns`) with one COPY … FROM STDIN, streamed in chunks. */
export async function copyRows(client: pg.PoolClient, relation: string, columns: string[], rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${relation} (${columns.map(quoteIdent).join(', ')}) FROM STDIN (FORMAT csv)`));
  function* chunks(): Generator<string> {
    let chunk = '';
    for (const row of rows) {
      chunk += columns.map((c) => csvField(row[c])).join(',') + '\n';
      if (chunk.length > 256 * 1024) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(Readable.from(chunks()), stream);
}

/** int8 and numeric as numbers when they hold one exactly enough, text otherwise (never silently rounded). */
function parseNumber(text: string): number | string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  if (/^-?\d+$/.test(text) && !Number.isSafeInteger(value)) return text;
  return value;
}

const TEXT = (text: string) => text;

/**
 * How results are parsed: numbers as numbers, booleans as 1/0 (as SQLite stores them), dates and
 * timestamps as the text PostgreSQL gives (no time zone shifts); everything else as pg does.
 */
export function resultTypes(types: typeof pg.types): pg.CustomTypesConfig {
  return {
    getTypeParser: ((oid: number, format?: string) => {
      if (format === 'binary') return types.getTypeParser(oid, 'binary');
      if (oid === 20 || oid === 1700) return parseNumber;
      if (oid === 16) return (text: string) => (text === 't' ? 1 : 0);
      if (oid === 1082 || oid === 1114 || oid === 1184) return TEXT;
      return types.getTypeParser(oid, 'text');
    }) as typeof pg.types.getTypeParser,
  };
}

/** SQLite's name (as `typeof` gives it) for a column of this PostgreSQL type OID. */
export function sqliteTypeName(oid: number): string {
  if ([20, 21, 23, 16].includes(oid)) return 'integer';
  if ([700, 701, 1700].includes(oid)) return 'real';
  if (oid === 17) return 'blob';
  return 'text';
}

/** A value as a typed SQL literal (for parameters inlined into a confined query's function body). */
export function sqlLiteral(value: unknown): string {
  if (value === undefined || value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return `CAST('${value}' AS numeric)`;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? `CAST(${value} AS bigint)` : `CAST('${value}' AS double precision)`;
  if (Buffer.isBuffer(value)) return `CAST('\\x${value.toString('hex')}' AS bytea)`;
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return `CAST('${text.replaceAll("'", "''")}' AS text)`;
}

/**
 * `sql` with its `$n` parameters replaced by literals. Quoted strings, quoted names, dollar-quoted
 * strings and comments are skipped, so only real placeholders are replaced.
 */
export function inlineParams(sql: string, params: unknown[]): string {
  if (params.length === 0) return sql;
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    let end = i + 1;
    if (c === "'" || c === '"') {
      end = sql.indexOf(c, i + 1);
      while (end !== -1 && sql[end + 1] === c) end = sql.indexOf(c, end + 2);
      end = end === -1 ? sql.length : end + 1;
    } else if (sql.startsWith('--', i)) {
      end = sql.indexOf('\n', i);
      end = end === -1 ? sql.length : end + 1;
    } else if (sql.startsWith('/*', i)) {
      end = sql.indexOf('*/', i + 2);
      end = end === -1 ? sql.length : end + 2;
    } else if (c === '$') {
      const param = /^\$(\d+)/.exec(sql.slice(i));
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (param && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? '')) {
        const n = Number(param[1]);
        if (n < 1 || n > params.length) throw new Error(`the query uses $${n}, but has ${params.length} parameter(s)`);
        out += sqlLiteral(params[n - 1]);
        i += param[0].length;
        continue;
      }
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        end = close === -1 ? sql.length : close + tag[0].length;
      }
    }
    out += sql.slice(i, end);
    i = end;
  }
  return out;
}
