import { diffLines } from 'diff';
import { canonicalJson, SECRET_KEYS, type Definition } from '../../../core/versions/definition.js';

/** One field that differs: its path in the definition, and its value in each version (null: absent). */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export type DiffLineKind = 'SAME' | 'ADDED' | 'REMOVED';

/** A line of a text's diff (the text at `path`), with its number in each version (null where it is not in that one). */
export interface DiffLine {
  path: string;
  kind: DiffLineKind;
  text: string;
  beforeLine: number | null;
  afterLine: number | null;
}

export interface DefinitionDiff {
  changes: FieldChange[];
  /** The line diffs of the texts that changed (a script's code, an SQL transform, a pipeline transform as JSON), one text after another. */
  lines: DiffLine[];
}

/** Keys whose ids are datasources, automations or connections: shown with their names (`name (id)`). */
const ID_KEYS = new Set(['inputIds', 'outputIds', 'errorDatasourceId', 'stepIds', 'connectionId']);

/**
 * What changed from `before` to `after`: every field that differs (objects field by field, lists
 * whole), and a line diff for the texts people review line by line. Sealed secrets are compared
 * and never shown. `names` turns the ids of datasources and steps into names.
 */
export function diffDefinitions(before: Definition, after: Definition, names: ReadonlyMap<string, string>): DefinitionDiff {
  const changes: FieldChange[] = [];
  const shown = (key: string, value: unknown): unknown => {
    if (!ID_KEYS.has(key) || value == null) return value ?? null;
    const name = (id: string) => (names.has(id) ? `${names.get(id)} (${id})` : id);
    return Array.isArray(value) ? value.map((id) => name(String(id))) : name(String(value));
  };
  const walk = (path: string, a: unknown, b: unknown, key: string) => {
    if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return;
    if (isObject(a) && isObject(b)) {
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) walk(path ? `${path}.${k}` : k, a[k], b[k], k);
      return;
    }
    if ((SECRET_KEYS as readonly string[]).includes(key)) {
      changes.push({ path: path.replace(/Sealed$/, ''), before: a == null ? null : '(set)', after: b == null ? null : '(changed)' });
      return;
    }
    changes.push({ path, before: shown(key, a), after: shown(key, b) });
  };
  walk('', before, after, '');

  const lines: DiffLine[] = [];
  const text = (path: string, a: string | null, b: string | null) => {
    if ((a ?? '') !== (b ?? '')) lines.push(...lineDiff(path, a ?? '', b ?? ''));
  };
  if (before.code !== undefined || after.code !== undefined) text('code', str(before.code), str(after.code));
  const [ta, tb] = [before.transform, after.transform].map((t) => (isObject(t) ? t : null));
  if (ta || tb) {
    const sqlOrNone = (t: Record<string, unknown> | null) => t === null || typeof t.sql === 'string';
    // SQL on both sides reads best as SQL; a change of kind (SQL ↔ pipeline) as the whole transform.
    if (sqlOrNone(ta) && sqlOrNone(tb)) text('transform.sql', str(ta?.sql), str(tb?.sql));
    else text('transform', ta ? JSON.stringify(ta, null, 2) : null, tb ? JSON.stringify(tb, null, 2) : null);
  }
  return { changes, lines };
}

/** The lines of `a` and `b` (the text at `path`) in order: unchanged, removed from `a`, added in `b`. */
export function lineDiff(path: string, a: string, b: string): DiffLine[] {
  const lines: DiffLine[] = [];
  let [before, after] = [1, 1];
  for (const part of diffLines(a, b)) {
    for (const text of part.value.replace(/\n$/, '').split('\n')) {
      if (part.added) lines.push({ path, kind: 'ADDED', text, beforeLine: null, afterLine: after++ });
      else if (part.removed) lines.push({ path, kind: 'REMOVED', text, beforeLine: before++, afterLine: null });
      else lines.push({ path, kind: 'SAME', text, beforeLine: before++, afterLine: after++ });
    }
  }
  return lines;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : value == null ? null : JSON.stringify(value);
}
