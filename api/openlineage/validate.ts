/**
 * Checks OpenLineage events (spec 2-0-2) as `POST /api/v1/lineage` receives them, against our schema in
 * event-schema.ts, and turns the first problem into a BadUserInputError naming the field, as every input does.
 */
import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { BadUserInputError } from '../../core/errors.js';
import { OL_EVENT_TYPES, OL_LIMITS, OL_SCHEMA_ID, openLineageEventSchema } from './event-schema.js';

export type OlEventType = (typeof OL_EVENT_TYPES)[number];
/** A facet: BaseFacet's two fields, `_deleted` on job and dataset facets, and the facet's own fields. */
export interface OlFacet {
  _producer: string;
  _schemaURL: string;
  _deleted?: boolean;
  [key: string]: unknown;
}
export type OlFacets = Record<string, OlFacet>;
export interface OlDataset {
  namespace: string;
  name: string;
  facets?: OlFacets;
  inputFacets?: OlFacets;
  outputFacets?: OlFacets;
}
export interface OlJob {
  namespace: string;
  name: string;
  facets?: OlFacets;
}
/** A run's state change (START, COMPLETE…) with the job it runs and the datasets it reads and writes. */
export interface OlRunEvent {
  kind: 'RUN';
  eventType?: OlEventType;
  eventTime: string;
  producer: string;
  schemaURL: string;
  run: { runId: string; facets?: OlFacets };
  job: OlJob;
  inputs?: OlDataset[];
  outputs?: OlDataset[];
}
/** A job's static metadata, without a run. */
export interface OlJobEvent {
  kind: 'JOB';
  eventTime: string;
  producer: string;
  schemaURL: string;
  job: OlJob;
  inputs?: OlDataset[];
  outputs?: OlDataset[];
}
/** A dataset's static metadata, without a job or run. */
export interface OlDatasetEvent {
  kind: 'DATASET';
  eventTime: string;
  producer: string;
  schemaURL: string;
  dataset: OlDataset;
}
export type OlEvent = OlRunEvent | OlJobEvent | OlDatasetEvent;
type OlKind = OlEvent['kind'];

/** Longest path segment repeated in a message: a facet or column name can be megabytes long. */
const MAX_SEGMENT = 100;

// `verbose` puts the offending value in each error (for "is 2049 characters long").
const ajv = new Ajv2020.default({ allErrors: false, strict: true, verbose: true });
addFormats.default(ajv, ['uri', 'uuid', 'date-time']);
ajv.addSchema(openLineageEventSchema);
const validators: Record<OlKind, ValidateFunction> = { RUN: compiled('RunEvent'), JOB: compiled('JobEvent'), DATASET: compiled('DatasetEvent') };

/** The validator of one event type, compiled once when this module loads. */
function compiled(type: string): ValidateFunction {
  const validate = ajv.getSchema(`${OL_SCHEMA_ID}#/$defs/${type}`);
  if (!validate) throw new Error(`the OpenLineage schema has no ${type}`);
  return validate;
}

/**
 * Checks one parsed JSON value against the schema; returns the typed event with `kind` added (the input
 * object is not mutated), or throws BadUserInputError(field, message). The event's type comes from its keys
 * (`dataset`, else `run`, else `job`) so that errors speak of that type only. `field` locates the event in
 * a batch (`events.3`) and prefixes every error's field; problems with the event as a whole name `field`, or
 * `event` without it.
 */
export function parseOpenLineageEvent(value: unknown, field?: string): OlEvent {
  const root = field ?? 'event';
  const subject = field ?? 'the event';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BadUserInputError(root, `${subject} must be a JSON object, not ${describe(value)}`);
  // Own keys only: an inherited `run` is not something the sender sent.
  const has = (key: string) => Object.hasOwn(value, key);
  const kind: OlKind | undefined = has('dataset') ? 'DATASET' : has('run') ? 'RUN' : has('job') ? 'JOB' : undefined;
  if (!kind) throw new BadUserInputError(root, `${subject} is neither a RunEvent (run and job), a JobEvent (job) nor a DatasetEvent (dataset)`);
  const validate = validators[kind];
  let valid: boolean;
  try {
    valid = validate(value) as boolean;
  } catch {
    // Only a value that is not plain JSON (a throwing getter, a proxy) gets here.
    throw new BadUserInputError(root, `${subject} is not plain JSON and cannot be checked`);
  }
  if (!valid) throw toInputError(validate.errors![0]!, field, kind);
  // RFC 3339 allows a leap second (23:59:60) that JavaScript's dates cannot hold.
  const time = (value as { eventTime: string }).eventTime;
  if (!Number.isFinite(Date.parse(time))) throw new BadUserInputError(field ? `${field}.eventTime` : 'eventTime', `eventTime ${JSON.stringify(time.slice(0, 64))} is not a time Tributary can keep (a leap second?)`);
  // `kind` last, so that a `kind` key in the event cannot replace it.
  return { ...value, kind } as OlEvent;
}

/** What a non-object is, in words. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Ajv's first error as our error: the field as a dotted path, and a sentence that says what is wrong there. */
function toInputError(error: ErrorObject, prefix: string | undefined, kind: OlKind): BadUserInputError {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const join = (parts: string[]) =>
    [prefix, ...parts.map((p) => (p.length > MAX_SEGMENT ? `${p.slice(0, MAX_SEGMENT)}…` : p))].filter((p) => p !== undefined && p !== '').join('.') || prefix || 'event';
  const where = join(segments);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const field = join([...segments, missing]);
      if (missing === '_producer' || missing === '_schemaURL') return new BadUserInputError(field, `facet ${where} needs _producer and _schemaURL`);
      return new BadUserInputError(field, `${field} is required`);
    }
    case 'type': {
      const type = String(params.type);
      return new BadUserInputError(where, `${where} must be ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`);
    }
    case 'format': {
      const formats: Record<string, string> = { uuid: 'a UUID', uri: 'a URI with a scheme (e.g. https://…)', 'date-time': 'a date-time with a time zone (RFC 3339, e.g. 2024-05-01T12:00:00.000Z)' };
      return new BadUserInputError(where, `${where} must be ${formats[String(params.format)] ?? String(params.format)}`);
    }
    case 'enum':
      return new BadUserInputError(where, `${where} must be one of ${(params.allowedValues as unknown[]).join(', ')}`);
    case 'maxLength':
      return new BadUserInputError(where, `${where} is ${codePoints(error.data as string)} characters long; the limit is ${String(params.limit)}`);
    case 'maxItems':
      return new BadUserInputError(where, `${where} has ${(error.data as unknown[]).length} items; the limit is ${String(params.limit)}`);
    case 'minimum':
      return new BadUserInputError(where, `${where} must be ${String(params.limit)} or more`);
    case 'false schema':
      // Two places refuse a key outright: job and run in a DatasetEvent, and `fields` below the deepest allowed level.
      if (kind === 'DATASET' && segments.length === 1) return new BadUserInputError(where, `${where} is not allowed in a DatasetEvent: it has neither job nor run`);
      return new BadUserInputError(where, `${where} nests schema fields more than ${OL_LIMITS.schemaDepth} levels deep`);
    default:
      return new BadUserInputError(where, `${where} ${error.message ?? 'is not valid'}`);
  }
}

/** A string's length as ajv's maxLength counts it: in code points, so an emoji is one character. */
function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}
