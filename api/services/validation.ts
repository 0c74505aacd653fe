import { BadUserInputError } from '../errors/index.js';

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
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** A name: 1–200 characters, no control characters, no leading/trailing whitespace. */
export function checkName(value: string | null | undefined, field = 'name'): string {
  if (value === null || value === undefined) throw new BadUserInputError(field, `${field} is required`);
  if (value.length === 0) throw new BadUserInputError(field, `${field} must not be empty`);
  if (value.length > LIMITS.name) {
    throw new BadUserInputError(field, `${field} is ${value.length} characters long; the limit is ${LIMITS.name}`);
  }
  if (value.trim() !== value) throw new BadUserInputError(field, `${field} must not start or end with whitespace`);
  if (CONTROL_CHARS.test(value)) throw new BadUserInputError(field, `${field} must not contain control characters`);
  return value;
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

export function checkTags(tags: string[] | null | undefined, field = 'tags'): string[] {
  if (!tags) return [];
  if (tags.length > LIMITS.tags) throw new BadUserInputError(field, `at most ${LIMITS.tags} tags are allowed, got ${tags.length}`);
  const seen = new Set<string>();
  for (const [i, tag] of tags.entries()) {
    checkRequiredText(tag, `${field}[${i}]`, LIMITS.tag);
    seen.add(tag.trim());
  }
  return [...seen];
}

/** A JSON object (not an array or scalar) whose serialized size is within the JSON limit. */
export function checkJsonObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new BadUserInputError(field, `${field} must be a JSON object`);
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > LIMITS.jsonBytes) {
    throw new BadUserInputError(field, `${field} is ${bytes} bytes of JSON; the limit is ${LIMITS.jsonBytes}`);
  }
  return value as Record<string, unknown>;
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
