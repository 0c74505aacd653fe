import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationIo, IoDirection, Run, RunStatus, type Datasource } from '../../core/db/entities/index.js';
import { datasetName, jobName, type NamingContext } from './naming.js';

// The OpenLineage RunEvents (spec 2-0-2) of Tributary's own runs: a START when a run starts and
// COMPLETE, FAIL or ABORT when it ends, with the datasets it declares and their columns.

const SPEC = 'https://openlineage.io/spec/2-0-2/OpenLineage.json';
const FACETS = 'https://openlineage.io/spec/facets';

/** What the events name as their producer: Tributary and its version. */
export const producerUri = (version: string): string => `urn:tributary:${version}`;

const TERMINAL: Partial<Record<RunStatus, 'COMPLETE' | 'FAIL' | 'ABORT'>> = {
  [RunStatus.SUCCESS]: 'COMPLETE',
  [RunStatus.FAILED]: 'FAIL',
  [RunStatus.CANCELLED]: 'ABORT',
};

/** The run's event of `phase` (null when the run is gone or, at the end, not finished). */
export async function runEvent(em: EntityManager, runId: string, phase: 'start' | 'end', naming: NamingContext, producer: string): Promise<Record<string, unknown> | null> {
  const run = await em.findOne(Run, { id: runId });
  if (!run) return null;
  const eventType = phase === 'start' ? 'START' : TERMINAL[run.status as RunStatus];
  if (!eventType) return null;
  const automation = await em.findOneOrFail(Automation, { id: run.automation.id });
  const io = await em.find(AutomationIo, { automation: automation.id, direction: { $in: [IoDirection.INPUT, IoDirection.OUTPUT] } }, { populate: ['datasource'], orderBy: { position: 'asc' } });
  const facet = (name: string, version: string, fields: Record<string, unknown>) => ({ _producer: producer, _schemaURL: `${FACETS}/${version}/${name}.json#/$defs/${name}`, ...fields });
  const dataset = (ds: Datasource) => ({
    ...datasetName(ds, naming),
    facets: ds.columns.length > 0 ? { schema: facet('SchemaDatasetFacet', '1-1-1', { fields: ds.columns.map((c) => ({ name: c.name, type: c.type })) }) } : {},
  });
  const inputs = io.filter((i) => i.direction === IoDirection.INPUT).map((i) => dataset(i.datasource.getEntity()));
  const outputs = io.filter((i) => i.direction === IoDirection.OUTPUT).map((i) => dataset(i.datasource.getEntity()));
  // Rows written are the run's: with one output they are that output's.
  if (eventType === 'COMPLETE' && outputs.length === 1 && run.rowsWritten != null) {
    Object.assign(outputs[0]!, { outputFacets: { outputStatistics: facet('OutputStatisticsOutputDatasetFacet', '1-0-2', { rowCount: run.rowsWritten }) } });
  }
  const runFacets: Record<string, unknown> = {};
  if (run.parentRun) {
    const parent = await em.findOne(Run, { id: run.parentRun.id }, { populate: ['automation'] });
    if (parent) runFacets.parent = facet('ParentRunFacet', '1-1-0', { run: { runId: parent.id }, job: jobName(parent.automation.getEntity(), naming) });
  }
  if (eventType !== 'COMPLETE' && phase === 'end' && run.error) runFacets.errorMessage = facet('ErrorMessageRunFacet', '1-0-1', { message: run.error, programmingLanguage: 'JavaScript' });
  const at = phase === 'start' ? (run.startedAt ?? run.queuedAt) : (run.finishedAt ?? new Date());
  return {
    eventType,
    eventTime: at.toISOString(),
    producer,
    schemaURL: `${SPEC}#/$defs/RunEvent`,
    run: { runId: run.id, facets: runFacets },
    job: { ...jobName(automation, naming), facets: { jobType: facet('JobTypeJobFacet', '2-0-3', { processingType: 'BATCH', integration: 'TRIBUTARY', jobType: automation.kind }) } },
    inputs,
    outputs,
  };
}
