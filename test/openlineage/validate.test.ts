/**
 * parseOpenLineageEvent: events written from the spec pass and come back typed; each kind of bad event is
 * refused with BadUserInputError naming the field, and crafted values neither slow it down nor crash it.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../core/errors.js';
import { OL_LIMITS } from '../../api/openlineage/event-schema.js';
import { parseOpenLineageEvent } from '../../api/openlineage/validate.js';
import { datasetEvent, facet, facetSchema, fullDatasetEvent, fullJobEvent, fullRunEvent, jobEvent, nestedFields, runEvent } from './fixtures.js';

/** What the endpoint sees: the event sent as JSON and parsed again (so `undefined` overrides drop the key). */
const sent = (event: unknown): unknown => JSON.parse(JSON.stringify(event));

function refusal(value: unknown, prefix?: string): BadUserInputError {
  try {
    parseOpenLineageEvent(value, prefix);
  } catch (error) {
    expect(error).toBeInstanceOf(BadUserInputError);
    return error as BadUserInputError;
  }
  throw new Error('the event was accepted');
}

function expectRefused(value: unknown, field: string, message: string, prefix?: string): void {
  const { field: actualField, message: actualMessage } = refusal(value, prefix);
  expect({ field: actualField, message: actualMessage }).toEqual({ field, message: expect.stringContaining(message) });
}

const orders = { namespace: 'postgres://db:5432', name: 'shop.public.orders' };
const withInputFacets = (facets: Record<string, unknown>) => runEvent({ inputs: [{ ...orders, facets }] });
const withRunFacets = (facets: Record<string, unknown>) => runEvent({ run: { runId: randomUUID(), facets } });

describe('parseOpenLineageEvent', () => {
  it.each([
    ['RunEvent', runEvent, 'RUN'],
    ['JobEvent', jobEvent, 'JOB'],
    ['DatasetEvent', datasetEvent, 'DATASET'],
    ['RunEvent with every facet', fullRunEvent, 'RUN'],
    ['JobEvent with every facet', fullJobEvent, 'JOB'],
    ['DatasetEvent with every facet', fullDatasetEvent, 'DATASET'],
  ] as const)('accepts a %s and types it', (_name, build, kind) => {
    const input = sent(build()) as Record<string, unknown>;
    const before = structuredClone(input);
    const event = parseOpenLineageEvent(input);
    expect(event).toEqual({ ...before, kind });
    expect(input).toEqual(before);
  });

  it('accepts every eventType, and none', () => {
    for (const eventType of ['START', 'RUNNING', 'COMPLETE', 'ABORT', 'FAIL', 'OTHER', undefined]) expect(parseOpenLineageEvent(sent(runEvent({ eventType }))).kind).toBe('RUN');
  });

  it('keeps its own kind over a `kind` key in the event', () => {
    expect(parseOpenLineageEvent(sent(jobEvent({ kind: 'RUN' }))).kind).toBe('JOB');
  });

  it.each([
    ['a missing runId', runEvent({ run: {} }), 'run.runId', 'run.runId is required'],
    ['a runId that is not a UUID', runEvent({ run: { runId: '42' } }), 'run.runId', 'run.runId must be a UUID'],
    ['a bad eventType', runEvent({ eventType: 'DONE' }), 'eventType', 'eventType must be one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER'],
    ['a missing eventTime', runEvent({ eventTime: undefined }), 'eventTime', 'eventTime is required'],
    ['an eventTime without a time zone', runEvent({ eventTime: '2024-05-01T12:00:00' }), 'eventTime', 'eventTime must be a date-time'],
    ['an eventTime on a day that does not exist', jobEvent({ eventTime: '2024-02-30T12:00:00Z' }), 'eventTime', 'eventTime must be a date-time'],
    ['a producer that is not a URI', jobEvent({ producer: 'openlineage-python' }), 'producer', 'producer must be a URI'],
    ['a missing schemaURL', datasetEvent({ schemaURL: undefined }), 'schemaURL', 'schemaURL is required'],
    ['a job without a name', jobEvent({ job: { namespace: 'airflow' } }), 'job.name', 'job.name is required'],
    ['a job name that is not a string', runEvent({ job: { namespace: 'airflow', name: 7 } }), 'job.name', 'job.name must be a string'],
    ['a dataset without a namespace', datasetEvent({ dataset: { name: 'orders' } }), 'dataset.namespace', 'dataset.namespace is required'],
    ['an input without a namespace', runEvent({ inputs: [{ name: 'orders' }] }), 'inputs.0.namespace', 'inputs.0.namespace is required'],
    [
      'a facet without _producer',
      withInputFacets({ schema: { _schemaURL: facetSchema('1-2-0', 'SchemaDatasetFacet'), fields: [] } }),
      'inputs.0.facets.schema._producer',
      'facet inputs.0.facets.schema needs _producer and _schemaURL',
    ],
    [
      'a custom facet without _schemaURL',
      jobEvent({ job: { namespace: 'airflow', name: 'etl', facets: { owner: { _producer: 'https://example.com' } } } }),
      'job.facets.owner._schemaURL',
      'facet job.facets.owner needs _producer and _schemaURL',
    ],
    ['a facet that is not an object', withInputFacets({ schema: 'id INT' }), 'inputs.0.facets.schema', 'inputs.0.facets.schema must be an object'],
    ['schema.fields that is not an array', withInputFacets({ schema: facet({ fields: 'id INT' }) }), 'inputs.0.facets.schema.fields', 'inputs.0.facets.schema.fields must be an array'],
    [
      'a schema field without a name',
      withInputFacets({ schema: facet({ fields: [{ name: 'id' }, { type: 'INT' }] }) }),
      'inputs.0.facets.schema.fields.1.name',
      'inputs.0.facets.schema.fields.1.name is required',
    ],
    [
      'an outputStatistics.rowCount string',
      runEvent({ outputs: [{ ...orders, outputFacets: { outputStatistics: facet({ rowCount: '31' }) } }] }),
      'outputs.0.outputFacets.outputStatistics.rowCount',
      'must be an integer',
    ],
    [
      'a negative outputStatistics.size',
      jobEvent({ outputs: [{ ...orders, outputFacets: { outputStatistics: facet({ size: -1 }) } }] }),
      'outputs.0.outputFacets.outputStatistics.size',
      'must be 0 or more',
    ],
    ['an errorMessage without message', withRunFacets({ errorMessage: facet({ programmingLanguage: 'PYTHON' }) }), 'run.facets.errorMessage.message', 'run.facets.errorMessage.message is required'],
    [
      'a parent.run.runId that is not a UUID',
      withRunFacets({ parent: facet({ run: { runId: 'run-7' }, job: { namespace: 'airflow', name: 'etl' } }) }),
      'run.facets.parent.run.runId',
      'run.facets.parent.run.runId must be a UUID',
    ],
    ['a nominalTime without nominalStartTime', withRunFacets({ nominalTime: facet({ nominalEndTime: '2024-05-02T00:00:00Z' }) }), 'run.facets.nominalTime.nominalStartTime', 'is required'],
    [
      'a _deleted that is not a boolean',
      jobEvent({ job: { namespace: 'airflow', name: 'etl', facets: { sql: facet({ query: 'select 1', _deleted: 'yes' }) } } }),
      'job.facets.sql._deleted',
      'must be a boolean',
    ],
    [
      'an unknown lifecycleStateChange',
      datasetEvent({ dataset: { ...orders, facets: { lifecycleStateChange: facet({ lifecycleStateChange: 'MOVE' }) } } }),
      'dataset.facets.lifecycleStateChange.lifecycleStateChange',
      'must be one of ALTER, CREATE, DROP, OVERWRITE, RENAME, TRUNCATE',
    ],
    [
      'a sourceCodeLocation url that is not a URI',
      jobEvent({ job: { namespace: 'a', name: 'b', facets: { sourceCodeLocation: facet({ type: 'git', url: 'dags/etl.py' }) } } }),
      'job.facets.sourceCodeLocation.url',
      'must be a URI',
    ],
    ['too many inputs', runEvent({ inputs: Array.from({ length: OL_LIMITS.datasets + 1 }, () => orders) }), 'inputs', 'inputs has 1001 items; the limit is 1000'],
    ['too many outputs', jobEvent({ outputs: Array.from({ length: OL_LIMITS.datasets + 1 }, () => orders) }), 'outputs', 'outputs has 1001 items; the limit is 1000'],
    ['a too-long job name', runEvent({ job: { namespace: 'airflow', name: 'x'.repeat(2049) } }), 'job.name', 'job.name is 2049 characters long; the limit is 2048'],
    [
      'a too-long job name counted in characters, not UTF-16 units',
      runEvent({ job: { namespace: 'airflow', name: '😀'.repeat(2049) } }),
      'job.name',
      'job.name is 2049 characters long; the limit is 2048',
    ],
    ['a too-long dataset namespace', datasetEvent({ dataset: { namespace: 'x'.repeat(1025), name: 'orders' } }), 'dataset.namespace', 'dataset.namespace is 1025 characters long; the limit is 1024'],
    ['a DatasetEvent that also has a job', datasetEvent({ job: { namespace: 'airflow', name: 'etl' } }), 'job', 'job is not allowed in a DatasetEvent'],
    ['a DatasetEvent that also has a run', datasetEvent({ run: { runId: randomUUID() } }), 'run', 'run is not allowed in a DatasetEvent'],
  ])('refuses %s', (_name, event, field, message) => {
    expectRefused(sent(event), field, message);
  });

  it('accepts schema fields nested 10 levels deep and refuses 11', () => {
    expect(parseOpenLineageEvent(sent(withInputFacets({ schema: facet({ fields: nestedFields(OL_LIMITS.schemaDepth) }) }))).kind).toBe('RUN');
    const field = `inputs.0.facets.schema.fields${'.0.fields'.repeat(OL_LIMITS.schemaDepth)}`;
    expectRefused(sent(withInputFacets({ schema: facet({ fields: nestedFields(OL_LIMITS.schemaDepth + 1) }) })), field, `${field} nests schema fields more than 10 levels deep`);
  });

  it.each([
    ['a JSON array', [runEvent()], 'an array'],
    ['a string', JSON.stringify(runEvent()), 'a string'],
    ['null', null, 'null'],
    ['a number', 42, 'a number'],
  ])('refuses %s instead of an object', (_name, value, what) => {
    expectRefused(value, 'event', `the event must be a JSON object, not ${what}`);
  });

  it('refuses an object that is no event type', () => {
    expectRefused(
      sent({ eventTime: '2024-05-01T12:00:00Z', producer: 'https://example.com', schemaURL: 'https://example.com' }),
      'event',
      'the event is neither a RunEvent (run and job), a JobEvent (job) nor a DatasetEvent (dataset)',
    );
  });

  it('prefixes every field with the event’s place in a batch', () => {
    expectRefused(sent(runEvent({ run: { runId: 'x' } })), 'events.3.run.runId', 'events.3.run.runId must be a UUID', 'events.3');
    expectRefused(null, 'events.3', 'events.3 must be a JSON object, not null', 'events.3');
    expectRefused({}, 'events.3', 'events.3 is neither a RunEvent', 'events.3');
  });

  it('treats __proto__ keys as plain data', () => {
    // A computed key makes an own `__proto__` property, as JSON.parse does.
    const crafted = (owner: object) => jobEvent({ ['__proto__']: { polluted: true }, job: { namespace: 'a', name: 'b', facets: { ['__proto__']: owner } } });
    const text = JSON.stringify(crafted(facet({})));
    expect(text).toContain('"facets":{"__proto__":{"_producer"');
    const event = parseOpenLineageEvent(JSON.parse(text));
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(Object.hasOwn(event, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expectRefused(sent(crafted({ team: 'data' })), 'job.facets.__proto__._producer', 'facet job.facets.__proto__ needs _producer and _schemaURL');
  });

  it('refuses megabyte strings by their length before any format check', () => {
    expectRefused(sent(runEvent({ eventTime: '2'.repeat(3_000_000) })), 'eventTime', 'eventTime is 3000000 characters long; the limit is 64');
    expectRefused(sent(runEvent({ producer: `https://${'a'.repeat(1_000_000)}` })), 'producer', 'the limit is 8192');
  });

  it('shortens a huge facet name in the error', () => {
    const name = 'f'.repeat(1_000_000);
    const { field, message } = refusal(sent(withRunFacets({ [name]: {} })));
    expect(field).toBe(`run.facets.${'f'.repeat(100)}…._producer`);
    expect(message.length).toBeLessThan(300);
  });

  it('does not walk into deeply nested custom facets', () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 100_000; i++) deep = { deep };
    expect(parseOpenLineageEvent(withRunFacets({ custom: facet({ deep }) })).kind).toBe('RUN');
  });

  it('refuses a value that is not plain JSON with BadUserInputError', () => {
    const event = runEvent();
    Object.defineProperty(event, 'eventTime', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    expectRefused(event, 'event', 'the event is not plain JSON');
  });
});
