import { describe, expect, it } from 'vitest';
import { AutomationKind, AutomationState, ScriptTokenKind } from '../../core/db/entities/index.js';
import { Graph, type AutomationRow } from '../../api/lineage/graph.js';

const automation = (id: string, state = AutomationState.ACTIVE, schedule_cron: string | null = null): AutomationRow => ({
  id,
  name: id,
  kind: AutomationKind.CHAIN_TASK,
  state,
  schedule_cron,
  language: null,
});

describe(Graph.name, () => {
  it('spreads effective scheduling through active chains only', () => {
    const graph = Graph.build({
      datasources: [],
      automations: [
        automation('root', AutomationState.ACTIVE, '0 * * * *'),
        automation('mid'),
        automation('leaf'),
        automation('paused-chain', AutomationState.PAUSED),
        automation('below-paused'),
        automation('stopped-step', AutomationState.STOPPED),
        automation('paused-own', AutomationState.PAUSED, '0 * * * *'),
        automation('alone'),
      ],
      io: [],
      steps: [
        { chain_id: 'root', step_id: 'mid' },
        { chain_id: 'mid', step_id: 'leaf' },
        { chain_id: 'root', step_id: 'paused-chain' },
        { chain_id: 'paused-chain', step_id: 'below-paused' },
        { chain_id: 'root', step_id: 'stopped-step' },
      ],
      refs: [],
    });
    const scheduled = [...graph.nodes.values()].filter((n) => n.scheduled).map((n) => n.id);
    expect(scheduled.sort()).toEqual(['leaf', 'mid', 'root']);
  });

  it('keeps both directions of every link when objects change, move and disappear', () => {
    const ds = (id: string, join?: [string, string]) => ({ id, name: id, kind: join ? ('JOIN' as never) : ('STORAGE' as never), tags: [], join_left_id: join?.[0] ?? null, join_right_id: join?.[1] ?? null, producer: null });
    const script = { ...automation('s'), kind: AutomationKind.SCRIPT };
    const graph = Graph.build({
      datasources: [ds('a'), ds('b'), ds('j', ['a', 'b'])],
      automations: [script],
      io: [{ automation_id: 's', datasource_id: 'a', direction: 'INPUT' as never }],
      steps: [],
      refs: [{ script_id: 's', datasource_id: 'b', kind: ScriptTokenKind.LITERAL }],
    });
    const [a, b, j, s] = ['a', 'b', 'j', 's'].map((id) => graph.nodes.get(id)!);
    expect(a!.joinsUsing).toEqual([j]);
    expect(a!.consumers).toEqual([s]);
    expect(b!.referencedBy.get(s!)).toEqual([ScriptTokenKind.LITERAL]);

    // The script now writes b instead of reading a, and its code no longer names b; the join is deleted.
    graph.apply({
      datasources: new Map([['j', null]]),
      automations: new Map([['s', script]]),
      io: [{ automation_id: 's', datasource_id: 'b', direction: 'OUTPUT' as never }],
      steps: [],
      scriptRefs: [],
      datasourceRefs: [],
    });
    expect(graph.nodes.has('j')).toBe(false);
    expect(a!.joinsUsing).toEqual([]);
    expect(a!.consumers).toEqual([]);
    expect(b!.producers).toEqual([s]);
    expect(s!.outputs).toEqual([b]);
    expect(b!.referencedBy.size).toBe(0);
    expect(s!.codeRefs.size).toBe(0);
  });
});
