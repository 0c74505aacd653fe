import { describe, expect, it } from 'vitest';
import { producerName } from '../../web/src/dataflow/lineage.js';
import { nodeLabel } from '../../web/src/dataflow/toElements.js';

describe('producerName', () => {
  it('names the integration, the project or the host that reported a node', () => {
    expect(producerName('https://github.com/OpenLineage/OpenLineage/tree/1.40.0/integration/spark')).toBe('spark');
    expect(producerName('https://github.com/OpenLineage/OpenLineage/tree/1.40.0/client/python')).toBe('python');
    expect(producerName('https://github.com/apache/airflow/tree/providers-openlineage/2.3.0/providers/openlineage')).toBe('airflow');
    expect(producerName('https://tributary.example.com/openlineage')).toBe('tributary.example.com');
    expect(producerName('urn:tributary:0.1.0')).toBe('tributary');
    expect(producerName('not a uri')).toBe('not a uri');
    expect(producerName(null)).toBeNull();
  });

  it('puts the producer under an external node’s name, and nothing under Tributary’s own', () => {
    const base = { id: '1', type: 'EXTERNAL_JOB' as const, name: 'dag.task', scheduled: true, lastRunStatus: null, language: null, state: null, tags: [] };
    expect(nodeLabel({ ...base, producer: 'https://github.com/apache/airflow' })).toBe('dag.task\nvia airflow');
    expect(nodeLabel({ ...base, type: 'ETL_STEP', producer: null })).toBe('dag.task');
  });
});
