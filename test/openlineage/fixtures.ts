/**
 * OpenLineage events (spec 2-0-2) as producers send them, written from the spec: minimal builders with
 * overrides, and one event of each type that carries every well-known facet we check plus a custom one.
 */
import { randomUUID } from 'node:crypto';
import type { OlDatasetEvent, OlJobEvent, OlRunEvent } from '../../api/openlineage/validate.js';

/** An event as it arrives, before parseOpenLineageEvent adds `kind`. */
type Sent<T> = Omit<T, 'kind'>;
/** The builder's event with `overrides` laid over it (an `undefined` override disappears once sent as JSON). */
type Overridden<T, O> = Omit<Sent<T>, keyof O> & O;

export const PRODUCER = 'https://github.com/OpenLineage/OpenLineage/tree/1.40.0/client/python';
const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const EVENT_TIME = '2024-05-01T12:00:00.000Z';

/** The `_schemaURL` of a well-known facet, e.g. `facetSchema('1-2-0', 'SchemaDatasetFacet')`. */
export const facetSchema = (version: string, name: string) => `https://openlineage.io/spec/facets/${version}/${name}.json#/$defs/${name}`;

/** A facet: `extra` with BaseFacet's `_producer` and `_schemaURL` (a custom facet's URL unless given). */
export function facet<T extends object>(extra: T, schemaURL = 'https://example.com/schemas/TributaryCustomFacet.json'): T & { _producer: string; _schemaURL: string } {
  return { _producer: PRODUCER, _schemaURL: schemaURL, ...extra };
}

/** A RunEvent: a COMPLETE run of `etl.daily_orders` with a fresh run id and one input and output. */
export function runEvent<O extends object = {}>(overrides: O = {} as O): Overridden<OlRunEvent, O> {
  const event: Sent<OlRunEvent> = {
    eventType: 'COMPLETE',
    eventTime: EVENT_TIME,
    producer: PRODUCER,
    schemaURL: `${SPEC}#/$defs/RunEvent`,
    run: { runId: randomUUID() },
    job: { namespace: 'airflow', name: 'etl.daily_orders' },
    inputs: [{ namespace: 'postgres://db:5432', name: 'shop.public.orders' }],
    outputs: [{ namespace: 's3://warehouse', name: 'daily_orders' }],
  };
  return { ...event, ...overrides };
}

/** A JobEvent: a job's static metadata with one input and output. */
export function jobEvent<O extends object = {}>(overrides: O = {} as O): Overridden<OlJobEvent, O> {
  const event: Sent<OlJobEvent> = {
    eventTime: EVENT_TIME,
    producer: PRODUCER,
    schemaURL: `${SPEC}#/$defs/JobEvent`,
    job: { namespace: 'airflow', name: 'etl.daily_orders' },
    inputs: [{ namespace: 'postgres://db:5432', name: 'shop.public.orders' }],
    outputs: [{ namespace: 's3://warehouse', name: 'daily_orders' }],
  };
  return { ...event, ...overrides };
}

/** A DatasetEvent: a dataset's static metadata. */
export function datasetEvent<O extends object = {}>(overrides: O = {} as O): Overridden<OlDatasetEvent, O> {
  const event: Sent<OlDatasetEvent> = { eventTime: EVENT_TIME, producer: PRODUCER, schemaURL: `${SPEC}#/$defs/DatasetEvent`, dataset: { namespace: 's3://warehouse', name: 'daily_orders' } };
  return { ...event, ...overrides };
}

/** Schema fields nested `depth` levels deep (the top-level array is level 1). */
export function nestedFields(depth: number): Record<string, unknown>[] {
  return [{ name: `level${depth}`, type: depth > 1 ? 'STRUCT' : 'INT', ...(depth > 1 ? { fields: nestedFields(depth - 1) } : {}) }];
}

const customFacet = () => facet({ team: 'data-platform', tags: ['orders', 'daily'], nested: { level: { deeper: [1, 2, 3] } } });

/** Every well-known dataset facet in its spec shape, plus a custom one. */
export function allDatasetFacets() {
  return {
    schema: facet(
      {
        fields: [
          { name: 'order_id', type: 'BIGINT', description: 'the order', ordinal_position: 1 },
          {
            name: 'customer',
            type: 'STRUCT',
            ordinal_position: 2,
            fields: [
              { name: 'id', type: 'BIGINT' },
              { name: 'address', type: 'STRUCT', fields: [{ name: 'city', type: 'VARCHAR' }] },
            ],
          },
        ],
      },
      facetSchema('1-2-0', 'SchemaDatasetFacet'),
    ),
    dataSource: facet({ name: 'warehouse', uri: 's3://warehouse' }, facetSchema('1-0-1', 'DatasourceDatasetFacet')),
    documentation: facet({ description: 'Orders per day', contentType: 'text/markdown' }, facetSchema('1-1-0', 'DocumentationDatasetFacet')),
    symlinks: facet({ identifiers: [{ namespace: 'hive://metastore:9083', name: 'warehouse.daily_orders', type: 'TABLE' }] }, facetSchema('1-0-1', 'SymlinksDatasetFacet')),
    lifecycleStateChange: facet(
      { lifecycleStateChange: 'RENAME', previousIdentifier: { namespace: 's3://warehouse', name: 'orders_by_day' } },
      facetSchema('1-0-1', 'LifecycleStateChangeDatasetFacet'),
    ),
    columnLineage: facet(
      {
        fields: {
          order_id: {
            inputFields: [{ namespace: 'postgres://db:5432', name: 'shop.public.orders', field: 'id', transformations: [{ type: 'DIRECT', subtype: 'IDENTITY', description: '', masking: false }] }],
          },
        },
        dataset: [{ namespace: 'postgres://db:5432', name: 'shop.public.orders', field: 'created_at', transformations: [{ type: 'INDIRECT', subtype: 'FILTER' }] }],
      },
      facetSchema('1-2-0', 'ColumnLineageDatasetFacet'),
    ),
    tributary_owner: customFacet(),
  };
}

/** Every well-known job facet in its spec shape, plus a custom one. */
export function allJobFacets() {
  return {
    sql: facet({ query: 'INSERT INTO daily_orders SELECT date(created_at), count(*) FROM orders GROUP BY 1', dialect: 'postgres' }, facetSchema('1-1-0', 'SQLJobFacet')),
    jobType: facet({ processingType: 'BATCH', integration: 'AIRFLOW', jobType: 'TASK' }, facetSchema('2-0-4', 'JobTypeJobFacet')),
    documentation: facet({ description: 'Counts orders per day' }, facetSchema('1-1-0', 'DocumentationJobFacet')),
    sourceCodeLocation: facet(
      {
        type: 'git',
        url: 'https://github.com/example/etl/blob/main/dags/daily_orders.py',
        repoUrl: 'https://github.com/example/etl.git',
        path: 'dags/daily_orders.py',
        version: 'a1b2c3d',
        branch: 'main',
      },
      facetSchema('1-1-0', 'SourceCodeLocationJobFacet'),
    ),
    tributary_owner: customFacet(),
  };
}

/** Datasets carrying every dataset facet, and the input or output statistics facet. */
function fullDatasets() {
  return {
    inputs: [
      {
        namespace: 'postgres://db:5432',
        name: 'shop.public.orders',
        facets: allDatasetFacets(),
        inputFacets: { inputStatistics: facet({ rowCount: 1200, size: 65536, fileCount: 1 }, facetSchema('1-0-0', 'InputStatisticsInputDatasetFacet')), tributary_owner: customFacet() },
      },
    ],
    outputs: [
      {
        namespace: 's3://warehouse',
        name: 'daily_orders',
        facets: allDatasetFacets(),
        outputFacets: { outputStatistics: facet({ rowCount: 31, size: 2048, fileCount: 1 }, facetSchema('1-0-2', 'OutputStatisticsOutputDatasetFacet')), tributary_owner: customFacet() },
      },
    ],
  };
}

/** A FAIL RunEvent with every well-known run, job and dataset facet. */
export function fullRunEvent() {
  const parent = facet(
    {
      run: { runId: randomUUID() },
      job: { namespace: 'airflow', name: 'etl' },
      root: { run: { runId: randomUUID() }, job: { namespace: 'airflow', name: 'nightly', facets: { tributary_owner: customFacet() } } },
    },
    facetSchema('1-2-0', 'ParentRunFacet'),
  );
  const run = {
    runId: randomUUID(),
    facets: {
      parent,
      nominalTime: facet({ nominalStartTime: '2024-05-01T00:00:00Z', nominalEndTime: '2024-05-02T00:00:00+02:00' }, facetSchema('1-0-1', 'NominalTimeRunFacet')),
      errorMessage: facet(
        { message: 'relation "orders" does not exist', programmingLanguage: 'PYTHON', stackTrace: 'Traceback (most recent call last):\n  ...' },
        facetSchema('1-0-1', 'ErrorMessageRunFacet'),
      ),
      tributary_owner: customFacet(),
    },
  };
  return runEvent({ eventType: 'FAIL' as const, run, job: { namespace: 'airflow', name: 'etl.daily_orders', facets: allJobFacets() }, ...fullDatasets() });
}

/** A JobEvent with every well-known job and dataset facet. */
export function fullJobEvent() {
  return jobEvent({ job: { namespace: 'airflow', name: 'etl.daily_orders', facets: allJobFacets() }, ...fullDatasets() });
}

/** A DatasetEvent with every well-known dataset facet, one of them marked deleted. */
export function fullDatasetEvent() {
  const facets = { ...allDatasetFacets(), dataSource: facet({ name: 'warehouse', uri: 's3://warehouse', _deleted: true }, facetSchema('1-0-1', 'DatasourceDatasetFacet')) };
  return datasetEvent({ dataset: { namespace: 's3://warehouse', name: 'daily_orders', facets } });
}
