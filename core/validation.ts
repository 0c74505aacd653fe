import { BadUserInputError } from './errors.js';

/** Size limits on user input; anything larger is refused with BAD_USER_INPUT. */
export const LIMITS = {
  name: 200,
  description: 10_000,
  tags: 50,
  tag: 100,
  columns: 2_000,
  columnName: 200,
  columnType: 100,
  path: 4_096,
  joinKey: 200,
  codeBytes: 1_048_576,
  jsonBytes: 262_144,
  secretBytes: 65_536,
  idList: 500,
  host: 255,
  username: 200,
  filePattern: 500,
  search: 200,
  pageSize: 500,
} as const;

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * What a name, tag or column name may not hold: C0 and C1 controls, format characters (bidi
 * embeddings, overrides and isolates, zero-width spaces and joiners, the BOM, the soft hyphen),
 * line and paragraph separators, spaces other than U+0020, lone surrogates, private-use and
 * unassigned code points. Each of them can make two different names look the same, or make a
 * name read differently than it sorts (`invoice\u202Efdp.exe` shows as "invoiceexe.pdf").
 */
const INVISIBLE_CHARS = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;

/** Deepest nesting of arrays and objects a JSON input may have. */
export const MAX_JSON_DEPTH = 32;

/** Refuses a character that is invisible, a control or a direction override, naming it by code point. */
function checkVisible(value: string, field: string): void {
  const found = INVISIBLE_CHARS.exec(value);
  if (!found) return;
  const code = `U+${found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const kind = CONTROL_CHARS.test(found[0]) ? 'a control character' : 'an invisible, direction-changing or unusual space character';
  throw new BadUserInputError(field, `${field} must not contain control, invisible or direction-changing characters: it holds ${code} (${kind}) at position ${found.index}`);
}

/**
 * A name: 1–200 characters after Unicode NFC normalisation (so "é" typed either way is one name),
 * no leading/trailing whitespace, nothing invisible or direction-changing. Returns the NFC form.
 */
export function checkName(value: string | null | undefined, field = 'name'): string {
  if (value === null || value === undefined) throw new BadUserInputError(field, `${field} is required`);
  const name = normalizeName(value);
  if (name.length === 0) throw new BadUserInputError(field, `${field} must not be empty`);
  if (name.length > LIMITS.name) {
    throw new BadUserInputError(field, `${field} is ${name.length} characters long; the limit is ${LIMITS.name}`);
  }
  if (name.trim() !== name) throw new BadUserInputError(field, `${field} must not start or end with whitespace`);
  checkVisible(name, field);
  return name;
}

/** The form names (and tags and column names) are stored in, and looked up in: Unicode NFC. */
/** An email as an account's login name: trimmed, Unicode NFC, lowercased (two spellings of one address are one account). */
export function normalizeEmail(value: unknown): string {
  return String(value ?? '').trim().normalize('NFC').toLowerCase();
}

export function normalizeName(value: string): string {
  return value.normalize('NFC');
}

/** Optional free text of at most `max` characters; empty becomes null. */
export function checkText(value: string | null | undefined, field: string, max: number): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value.length > max) throw new BadUserInputError(field, `${field} is ${value.length} characters long; the limit is ${max}`);
  return value;
}

/** Required single-line text of 1..max characters. */
export function checkRequiredText(value: string | null | undefined, field: string, max: number): string {
  if (value === null || value === undefined || value.trim() === '') throw new BadUserInputError(field, `${field} is required`);
  if (value.length > max) throw new BadUserInputError(field, `${field} is ${value.length} characters long; the limit is ${max}`);
  if (CONTROL_CHARS.test(value)) throw new BadUserInputError(field, `${field} must not contain control characters`);
  return value;
}

/** A tag or column name: required text of 1..max characters in NFC, nothing invisible or direction-changing. */
export function checkLabel(value: string | null | undefined, field: string, max: number): string {
  const text = checkRequiredText(value === null || value === undefined ? value : normalizeName(value), field, max);
  checkVisible(text, field);
  return text;
}

export function checkTags(tags: string[] | null | undefined, field = 'tags'): string[] {
  if (!tags) return [];
  if (tags.length > LIMITS.tags) throw new BadUserInputError(field, `at most ${LIMITS.tags} tags are allowed, got ${tags.length}`);
  const seen = new Set<string>();
  for (const [i, tag] of tags.entries()) seen.add(checkLabel(tag, `${field}[${i}]`, LIMITS.tag).trim());
  return [...seen];
}

/** A JSON object (not an array or scalar) whose serialized size is within the JSON limit. */
export function checkJsonObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadUserInputError(field, `${field} must be a JSON object`);
  }
  checkJsonDepth(value, field);
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > LIMITS.jsonBytes) {
    throw new BadUserInputError(field, `${field} is ${bytes} bytes of JSON; the limit is ${LIMITS.jsonBytes}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Refuses JSON nested deeper than {@link MAX_JSON_DEPTH}, walking without recursion: the checks
 * that follow (and JSON.stringify) recurse, and 5,000 levels would overflow the stack.
 */
export function checkJsonDepth(value: unknown, field: string, max = MAX_JSON_DEPTH): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) throw new BadUserInputError(field, `${field} is nested more than ${max} levels deep`);
    for (const child of Object.values(node)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
}

/** A list of ids with no duplicate and at most the id-list limit. */
export function checkIdList(ids: string[] | null | undefined, field: string): string[] {
  if (!ids) return [];
  if (ids.length > LIMITS.idList) throw new BadUserInputError(field, `${field} holds ${ids.length} ids; the limit is ${LIMITS.idList}`);
  const seen = new Set<string>();
  for (const [i, id] of ids.entries()) {
    if (seen.has(id)) throw new BadUserInputError(`${field}[${i}]`, `${field} lists ${JSON.stringify(id)} twice`);
    seen.add(id);
  }
  return ids;
}

/** Rejects an explicit null for a field that may be omitted but never cleared. */
export function notNull<T>(value: T | null | undefined, field: string): T | undefined {
  if (value === null) throw new BadUserInputError(field, `${field} cannot be null`);
  return value;
}
