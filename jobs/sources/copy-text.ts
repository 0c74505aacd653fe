import { StringDecoder } from 'node:string_decoder';
import { SourceReadError } from './source.js';

/**
 * PostgreSQL's COPY text format, read: one row a line, fields split by tabs, `\N` for null, and
 * backslash escapes for a backslash, tab, newline, carriage return and the other control
 * characters (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format"). Rows come in
 * groups as the bytes arrive; each field is text (or null) as the server printed it.
 */
export async function* copyTextRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<(string | null)[][]> {
  const decoder = new StringDecoder('utf8');
  // The row begun in earlier chunks, in pieces (joined once its end comes: long rows cost no more than short ones).
  const parts: string[] = [];
  let partsLength = 0;
  for await (const bytes of chunks) {
    const chunk = decoder.write(bytes);
    const firstNewline = chunk.indexOf('\n');
    if (firstNewline === -1) {
      parts.push(chunk);
      partsLength += chunk.length;
      if (partsLength > MAX_ROW_CHARS) throw new SourceReadError(`a row of the source is longer than ${MAX_ROW_CHARS / 1024 / 1024} M characters`);
      continue;
    }
    const text = parts.length > 0 ? parts.join('') + chunk : chunk;
    const rows: (string | null)[][] = [];
    let start = 0;
    for (let newline = partsLength + firstNewline; newline !== -1; newline = text.indexOf('\n', start)) {
      rows.push(copyTextFields(text.slice(start, newline)));
      start = newline + 1;
    }
    parts.length = 0;
    partsLength = 0;
    if (start < text.length) {
      parts.push(text.slice(start));
      partsLength = text.length - start;
    }
    if (rows.length > 0) yield rows;
  }
  const rest = parts.join('') + decoder.end();
  if (rest !== '') yield [copyTextFields(rest)];
}

/** Longest row read (characters): a source cannot fill the server's memory with one row. */
export const MAX_ROW_CHARS = 64 * 1024 * 1024;

const ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** One line's fields. */
export function copyTextFields(line: string): (string | null)[] {
  const fields: (string | null)[] = line.split('\t');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field === '\\N') fields[i] = null;
    else if (field.includes('\\')) fields[i] = unescape(field);
  }
  return fields;
}

function unescape(field: string): string {
  return field.replace(/\\(x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|.)/g, (_, code: string) => {
    if (code[0] === 'x') return String.fromCharCode(parseInt(code.slice(1), 16));
    if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
    return ESCAPES[code] ?? code;
  });
}
