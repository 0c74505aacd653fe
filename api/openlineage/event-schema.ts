/**
 * Our JSON Schema (2020-12) for OpenLineage events of spec 2-0-2: RunEvent, JobEvent and DatasetEvent, written
 * from the spec's OpenLineage.json and its facet schemas (spec/facets/*.json), with bounds of our own on top.
 * Open where the spec is open: unknown properties and custom facets pass as long as every facet carries
 * BaseFacet's `_producer` and `_schemaURL`. validate.ts compiles it once and picks the event's type itself.
 */
import type { SchemaObject } from 'ajv/dist/2020.js';

/** Bounds the spec leaves open, so that one event stays cheap to check and to store. */
export const OL_LIMITS = {
  namespace: 1024,
  name: 2048,
  /** Long enough for any producer or JDBC URL; bounds the work of the `uri` format regex. */
  uri: 8192,
  /** RFC 3339 needs 35 characters at most with nanoseconds; bounds the `date-time` format's split. */
  dateTime: 64,
  /** Items in `inputs`, and again in `outputs`. */
  datasets: 1000,
  /** Items in each `fields` array of a schema facet. */
  schemaFields: 10_000,
  /** Levels of nested `fields` in a schema facet, the top-level array being the first. */
  schemaDepth: 10,
} as const;

/** The run states of RunEvent.eventType, in the spec's order. */
export const OL_EVENT_TYPES = ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER'] as const;

/** Our schema's `$id`: ajv finds each event type's validator at `${OL_SCHEMA_ID}#/$defs/<Type>`. */
export const OL_SCHEMA_ID = 'https://tributary.invalid/schemas/openlineage-2-0-2.json';

const string = { type: 'string' } as const;
const integer = { type: 'integer' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const uri = { type: 'string', maxLength: OL_LIMITS.uri, format: 'uri' } as const;
const dateTime = { type: 'string', maxLength: OL_LIMITS.dateTime, format: 'date-time' } as const;
const uuid = { type: 'string', format: 'uuid' } as const;
const namespace = { type: 'string', maxLength: OL_LIMITS.namespace } as const;
const name = { type: 'string', maxLength: OL_LIMITS.name } as const;
const ref = (def: string) => ({ $ref: `#/$defs/${def}` }) as const;

/** A facet: BaseFacet's `_producer` and `_schemaURL` first (so their absence is the error reported), `_deleted` on job and dataset facets, then its own fields. */
function facet(deletable: boolean, properties: Record<string, SchemaObject | boolean> = {}, required: string[] = []): SchemaObject {
  return {
    type: 'object',
    properties: { _producer: uri, _schemaURL: uri, ...(deletable ? { _deleted: { type: 'boolean' } } : {}), ...properties },
    required: ['_producer', '_schemaURL', ...required],
  };
}

/** A facets map: well-known facets by their own shape, any other name as a custom facet. */
function facets(deletable: boolean, wellKnown: Record<string, SchemaObject> = {}): SchemaObject {
  return { type: 'object', properties: wellKnown, additionalProperties: facet(deletable) };
}

/**
 * SchemaDatasetFacetFields, unrolled `levels` deep instead of the spec's recursive `$ref`: ajv then never
 * recurses deeper than this schema whatever the event holds, and the last level refuses a further `fields`.
 */
function schemaFields(levels: number): SchemaObject {
  const fields = levels > 1 ? schemaFields(levels - 1) : false;
  return {
    type: 'array',
    maxItems: OL_LIMITS.schemaFields,
    items: { type: 'object', properties: { name: string, type: string, description: string, ordinal_position: integer, fields }, required: ['name'] },
  };
}

/** ColumnLineageDatasetFacet's InputField: where a column's values come from. */
const inputField = {
  type: 'object',
  properties: {
    namespace: string,
    name: string,
    field: string,
    transformations: { type: 'array', items: { type: 'object', properties: { type: string, subtype: string, description: string, masking: { type: 'boolean' } }, required: ['type'] } },
  },
  required: ['namespace', 'name', 'field'],
} as const;

const runRef = (facetsDef: string) => ({ type: 'object', properties: { runId: uuid, facets: ref(facetsDef) }, required: ['runId'] }) as const;
const jobRef = (facetsDef: string) => ({ type: 'object', properties: { namespace, name, facets: ref(facetsDef) }, required: ['namespace', 'name'] }) as const;
const documentation = facet(true, { description: string, contentType: string }, ['description']);

const runFacets = facets(false, {
  parent: facet(
    false,
    { run: runRef('BaseRunFacets'), job: jobRef('BaseJobFacets'), root: { type: 'object', properties: { run: runRef('BaseRunFacets'), job: jobRef('BaseJobFacets') }, required: ['run', 'job'] } },
    ['run', 'job'],
  ),
  nominalTime: facet(false, { nominalStartTime: dateTime, nominalEndTime: dateTime }, ['nominalStartTime']),
  errorMessage: facet(false, { message: string, programmingLanguage: string, stackTrace: string }, ['message', 'programmingLanguage']),
});

const jobFacets = facets(true, {
  sql: facet(true, { query: string, dialect: string }, ['query']),
  jobType: facet(true, { processingType: string, integration: string, jobType: string }, ['processingType', 'integration']),
  documentation,
  sourceCodeLocation: facet(true, { type: string, url: uri, repoUrl: string, path: string, version: string, tag: string, branch: string }, ['type', 'url']),
});

const datasetFacets = facets(true, {
  schema: facet(true, { fields: schemaFields(OL_LIMITS.schemaDepth) }),
  dataSource: facet(true, { name: string, uri }),
  documentation,
  symlinks: facet(true, { identifiers: { type: 'array', items: { type: 'object', properties: { namespace, name, type: string }, required: ['namespace', 'name', 'type'] } } }),
  lifecycleStateChange: facet(
    true,
    {
      lifecycleStateChange: { type: 'string', enum: ['ALTER', 'CREATE', 'DROP', 'OVERWRITE', 'RENAME', 'TRUNCATE'] },
      previousIdentifier: { type: 'object', properties: { name, namespace }, required: ['name', 'namespace'] },
    },
    ['lifecycleStateChange'],
  ),
  columnLineage: facet(
    true,
    {
      fields: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          properties: { inputFields: { type: 'array', items: inputField }, transformationDescription: string, transformationType: string },
          required: ['inputFields'],
        },
      },
      dataset: { type: 'array', items: inputField },
    },
    ['fields'],
  ),
});

const statistics = (value: SchemaObject) => ({ rowCount: value, size: value, fileCount: value });
const datasetProperties = { namespace, name, facets: ref('DatasetFacets') } as const;
const datasetRequired = ['namespace', 'name'] as const;
const baseEventProperties = { eventTime: dateTime, producer: uri, schemaURL: uri } as const;
const baseEventRequired = ['eventTime', 'producer', 'schemaURL'] as const;
const datasets = (def: string) => ({ type: 'array', maxItems: OL_LIMITS.datasets, items: ref(def) }) as const;

/** The schema: one `$defs` entry per event type (validated separately, see validate.ts), and the spec's `oneOf` at the root. */
export const openLineageEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: OL_SCHEMA_ID,
  $defs: {
    RunEvent: {
      type: 'object',
      properties: {
        ...baseEventProperties,
        eventType: { type: 'string', enum: OL_EVENT_TYPES },
        run: ref('Run'),
        job: ref('Job'),
        inputs: datasets('InputDataset'),
        outputs: datasets('OutputDataset'),
      },
      required: [...baseEventRequired, 'run', 'job'],
    },
    JobEvent: {
      type: 'object',
      properties: { ...baseEventProperties, job: ref('Job'), inputs: datasets('InputDataset'), outputs: datasets('OutputDataset') },
      required: [...baseEventRequired, 'job'],
    },
    // A DatasetEvent describes a dataset alone: a job or run in it means the sender meant another type.
    DatasetEvent: { type: 'object', properties: { ...baseEventProperties, dataset: ref('StaticDataset'), job: false, run: false }, required: [...baseEventRequired, 'dataset'] },
    Run: runRef('RunFacets'),
    Job: jobRef('JobFacets'),
    InputDataset: { type: 'object', properties: { ...datasetProperties, inputFacets: ref('InputDatasetFacets') }, required: datasetRequired },
    OutputDataset: { type: 'object', properties: { ...datasetProperties, outputFacets: ref('OutputDatasetFacets') }, required: datasetRequired },
    StaticDataset: { type: 'object', properties: datasetProperties, required: datasetRequired },
    RunFacets: runFacets,
    JobFacets: jobFacets,
    DatasetFacets: datasetFacets,
    InputDatasetFacets: facets(false, { inputStatistics: facet(false, statistics(integer)) }),
    OutputDatasetFacets: facets(false, { outputStatistics: facet(false, statistics(count)) }),
    // The parent facet's own run and job facets are checked as plain facets, as in ParentRunFacet.json.
    BaseRunFacets: facets(false),
    BaseJobFacets: facets(true),
  },
  oneOf: [ref('RunEvent'), ref('DatasetEvent'), ref('JobEvent')],
} as const satisfies SchemaObject;
