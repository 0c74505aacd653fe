import { BadUserInputError } from '../../core/errors.js';

/**
 * An invalid transform. `path` is the JSON path of the problem, prefixed by `transform`
 * (e.g. `transform.steps[2].where`); it becomes `extensions.field` of the GraphQL error.
 */
export class TransformError extends BadUserInputError {
  constructor(path: string, message: string) {
    super(path, message);
  }
}

/** Quotes an SQLite identifier: always double-quoted, inner `"` doubled, so any name is safe. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Lower-cases ASCII letters only, the way SQLite compares identifiers. */
export function foldCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** JSON path of `key` under `base`: `base.key`, or `base["odd key"]` when it is not identifier-like. */
export function keyPath(base: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

/** Lists names for an error message: at most 20, then a count of the rest. */
export function listNames(names: readonly string[]): string {
  if (names.length === 0) return '(none)';
  const shown = names.slice(0, 20).map((n) => JSON.stringify(n)).join(', ');
  return names.length > 20 ? `${shown} and ${names.length - 20} more` : shown;
}

/** The candidate closest to `name` (case-insensitive edit distance ≤ 2), for "did you mean" hints. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const a = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const b = candidate.toLowerCase();
    if (Math.abs(a.length - b.length) >= bestDistance) continue;
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) {
        row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      prev = row;
    }
    if (prev[b.length] < bestDistance) [best, bestDistance] = [candidate, prev[b.length]];
  }
  return best;
}

/** "unknown column …" (with a suggestion) and the advice that follows it (hint, available columns). */
export function unknownColumnParts(name: string, columns: readonly string[], hint?: string): [string, string] {
  const suggestion = closest(name, columns);
  const didYouMean = suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`;
  return [`unknown column ${JSON.stringify(name)}${didYouMean}`, `${hint ? `${hint}; ` : ''}available columns: ${listNames(columns)}`];
}

export type TokenKind = 'number' | 'string' | 'word' | 'quoted' | 'op' | 'end';

/** One lexical token of an expression; `pos` is its 0-based UTF-16 index in the text. */
export interface Token {
  kind: TokenKind;
  /** number value; unescaped string or identifier; the word or operator as written. */
  value: string | number;
  /** The token as written in the expression. */
  text: string;
  pos: number;
}

/** 1-based character (code point) position of UTF-16 index `index`. */
export function charPosition(text: string, index: number): number {
  return Array.from(text.slice(0, index)).length + 1;
}

/** An expression error: "<message> at position N in "<expression>"[; <hint>]". */
export function expressionError(path: string, text: string, index: number, message: string, hint?: string): TransformError {
  const position = charPosition(text, index);
  const chars = Array.from(text.replace(/[\r\n\t]/g, ' '));
  // Long expressions are shown as a window around the problem.
  const shown =
    chars.length <= 120
      ? chars.join('')
      : `${position > 61 ? '…' : ''}${chars.slice(Math.max(0, position - 61), position + 60).join('')}${position + 60 < chars.length ? '…' : ''}`;
  return new TransformError(path, `${message} at position ${position} in "${shown}"${hint ? `; ${hint}` : ''}`);
}

const OPERATORS = ['==', '!=', '<>', '<=', '>=', '||', '(', ')', ',', '=', '<', '>', '+', '-', '*', '/', '%'];

/** Splits an expression into tokens, ending with an `end` token placed just after the last one. */
export function tokenize(text: string, path: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i));
      if (!m || /[A-Za-z0-9_.]/.test(text[i + m[0].length] ?? '')) {
        const bad = /^[A-Za-z0-9_.]+/.exec(text.slice(i))?.[0] ?? c;
        throw expressionError(path, text, start, `invalid number ${JSON.stringify(bad)}`);
      }
      const value = Number(m[0]);
      if (!Number.isFinite(value)) throw expressionError(path, text, start, `number ${m[0]} is too large`);
      i += m[0].length;
      tokens.push({ kind: 'number', value, text: m[0], pos: start });
    } else if (/[A-Za-z_]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))![0];
      i += word.length;
      tokens.push({ kind: 'word', value: word, text: word, pos: start });
    } else if (c === "'" || c === '"' || c === '`') {
      // Quoted string or identifier; the quote character is escaped by doubling it.
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) {
          const what = c === "'" ? 'string' : 'quoted column name';
          throw expressionError(path, text, start, `unterminated ${what}`, `add the closing ${c} (write ${c}${c} for a ${c} inside)`);
        }
        if (text[i] === c) {
          if (text[i + 1] !== c) break;
          i++;
        }
        value += text[i++];
      }
      i++;
      tokens.push({ kind: c === "'" ? 'string' : 'quoted', value, text: text.slice(start, i), pos: start });
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op === undefined) {
        const ch = String.fromCodePoint(text.codePointAt(i)!);
        throw expressionError(path, text, start, `unexpected character ${JSON.stringify(ch)}`);
      }
      i += op.length;
      tokens.push({ kind: 'op', value: op, text: op, pos: start });
    }
  }
  const last = tokens.at(-1);
  tokens.push({ kind: 'end', value: '', text: '', pos: last ? last.pos + last.text.length : 0 });
  return tokens;
}

/** Index of the first character at or after `i` that is not whitespace or an SQL comment. */
export function skipSqlSpace(sql: string, i: number): number {
  for (;;) {
    if (i < sql.length && /\s/.test(sql[i])) i++;
    else if (sql.startsWith('--', i)) i = sql.indexOf('\n', i) === -1 ? sql.length : sql.indexOf('\n', i) + 1;
    else if (sql.startsWith('/*', i)) i = sql.indexOf('*/', i + 2) === -1 ? sql.length : sql.indexOf('*/', i + 2) + 2;
    else return i;
  }
}

/** Where the significant SQL starts and ends, and whether anything follows the first top-level `;`. */
export interface SqlShape {
  /** First significant character, -1 when the text is only whitespace and comments. */
  start: number;
  /** Just after the last significant character before the first top-level `;`. */
  end: number;
  /** First significant character after the first top-level `;`, or -1. */
  extra: number;
}

/** Scans SQL skipping comments and quoted runs ('…', "…", `…`, […]) to find statement boundaries. */
export function scanSql(sql: string): SqlShape {
  const shape: SqlShape = { start: -1, end: 0, extra: -1 };
  let afterSemicolon = false;
  let i = skipSqlSpace(sql, 0);
  while (i < sql.length) {
    const c = sql[i];
    let next = i + 1;
    if (c === ';') {
      afterSemicolon = true;
    } else {
      const close = c === '[' ? ']' : c === "'" || c === '"' || c === '`' ? c : undefined;
      if (close !== undefined) {
        next = sql.indexOf(close, i + 1);
        while (next !== -1 && close !== ']' && sql[next + 1] === close) next = sql.indexOf(close, next + 2);
        next = next === -1 ? sql.length : next + 1;
      }
      if (afterSemicolon) {
        shape.extra = i;
        return shape;
      }
      if (shape.start === -1) shape.start = i;
      shape.end = next;
    }
    i = skipSqlSpace(sql, next);
  }
  return shape;
}
