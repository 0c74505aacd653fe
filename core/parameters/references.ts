/**
 * Parameter references: `${set__param}` names the parameter `param` of the parameter set `set`
 * (double underscore between the two). Names are letters, digits and single underscores, starting
 * with a letter, so the first `__` always splits a reference. Any other `${…}` (a shell variable,
 * a JavaScript template) is left as it is. Substitution is one pass: a value is never read again for
 * references, so values cannot expand each other.
 */

/** A set or parameter name: a letter, then letters, digits or single underscores, not ending in one. */
export const PARAMETER_NAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/;
export const PARAMETER_NAME_MAX = 100;
export const PARAMETER_VALUE_MAX_BYTES = 4_096;
export const PARAMETERS_PER_SET_MAX = 200;
/** A text after substitution may not grow past this (a million references to a long value). */
export const RESOLVED_TEXT_MAX_BYTES = 1_048_576;

// Names cannot hold `__`, so each group is unambiguous and a failed match costs one scan (no backtracking blow-up).
const REFERENCE = /\$\{([A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)__([A-Za-z0-9]+(?:_[A-Za-z0-9]+)*)\}/g;

export interface ParameterReference {
  /** As written: `${set__param}`. */
  text: string;
  set: string;
  param: string;
}

export function isParameterName(name: string): boolean {
  return name.length <= PARAMETER_NAME_MAX && PARAMETER_NAME.test(name) && !name.endsWith('_');
}

/** Whether a value (a text, or any JSON) may hold a reference: when not, nothing needs the parameter sets. */
export function mentionsParameters(value: unknown): boolean {
  return value !== null && value !== undefined && (typeof value === 'string' ? value : JSON.stringify(value)).includes('${');
}

/** The references a text holds, each once, in order of appearance. */
export function referencesIn(text: string): ParameterReference[] {
  const seen = new Map<string, ParameterReference>();
  for (const match of text.matchAll(REFERENCE)) {
    if (!seen.has(match[0])) seen.set(match[0], { text: match[0], set: match[1]!, param: match[2]! });
  }
  return [...seen.values()];
}

/** The text with every reference replaced by `valueOf` (one pass). */
export function substitute(text: string, valueOf: (reference: ParameterReference) => string): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (whole, set: string, param: string) => valueOf({ text: whole, set, param }));
}

/** Every string inside a JSON value (object values and list items, not keys), with its path (`steps[0].value`). */
export function stringsIn(value: unknown, path = ''): { path: string; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringsIn(v, path ? `${path}.${k}` : k));
  return [];
}

/** A copy of a JSON value with `map` applied to every string in it (object values and list items). */
export function mapStrings<T>(value: T, map: (text: string, path: string) => string, path = ''): T {
  if (typeof value === 'string') return map(value, path) as T;
  if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, map, `${path}[${i}]`)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, map, path ? `${path}.${k}` : k)])) as T;
  }
  return value;
}
