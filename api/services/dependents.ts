import type { EntityManager } from '@mikro-orm/sqlite';
import { Automation, ChainStep, Datasource, DatasourceKind, IoDirection, LineageNodeType, ScriptTokenKind } from '../entities/index.js';
import type { DependentInfo } from '../errors/index.js';

/** Lineage node type of an automation kind (ETL_STEP, SFTP_IMPORT, …; the names are shared). */
export function automationNodeType(automation: Automation): LineageNodeType {
  return automation.kind as unknown as LineageNodeType;
}

/** Lineage node type of a datasource. */
export function datasourceNodeType(datasource: Datasource): LineageNodeType {
  return datasource.kind === DatasourceKind.JOIN ? LineageNodeType.JOIN_DATASOURCE : LineageNodeType.DATASOURCE;
}

/** Collects reasons per dependent so each object is listed once with all its reasons. */
class DependentList {
  private readonly byId = new Map<string, DependentInfo>();

  add(id: string, name: string, type: LineageNodeType, reason: string): void {
    const existing = this.byId.get(id);
    if (!existing) this.byId.set(id, { id, name, type, reason });
    else if (!existing.reason.split('; ').includes(reason)) existing.reason += `; ${reason}`;
  }

  toArray(): DependentInfo[] {
    return [...this.byId.values()].sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }
}

/**
 * One statement over three indexes: automations declaring the datasource (automation_io by
 * datasource), joins using it (datasource by join_left_id / join_right_id) and scripts whose
 * code holds its id or quoted name (script_token by token). Only ids and names are read, so the
 * cost does not depend on how many scripts exist or how long their code is.
 */
const DATASOURCE_DEPENDENTS_SQL = `
  select a.id, a.name, a.kind as type, 'io' as via, io.direction as detail
    from automation_io io join automation a on a.id = io.automation_id
   where io.datasource_id = ?
  union all
  select d.id, d.name, 'JOIN_DATASOURCE', 'join', null
    from datasource d
   where d.join_left_id = ? or d.join_right_id = ?
  union all
  select a.id, a.name, 'SCRIPT', 'token', t.kind
    from script_token t join automation a on a.id = t.script_id
   where (t.kind = '${ScriptTokenKind.UUID}' and t.token = ?) or (t.kind = '${ScriptTokenKind.LITERAL}' and t.token = ?)`;

interface DependentRow {
  id: string;
  name: string;
  type: LineageNodeType;
  via: 'io' | 'join' | 'token';
  detail: string | null;
}

function dependentReason(row: DependentRow): string {
  if (row.via === 'io') return `declares it as ${row.detail === IoDirection.INPUT ? 'input' : 'output'}`;
  if (row.via === 'join') return 'joins it';
  return row.detail === ScriptTokenKind.UUID ? 'its code holds the datasource id' : 'its code names it in a string literal';
}

/**
 * Everything that keeps a datasource from being deleted (ARCHITECTURE.md "Deletion safety"):
 * automations declaring it, joins using it, and scripts whose code holds its UUID or its
 * exact name as a quoted string literal. One indexed lookup, whatever the number of scripts.
 */
export async function datasourceDependents(em: EntityManager, datasource: Datasource): Promise<DependentInfo[]> {
  const id = datasource.id;
  const rows: DependentRow[] = await em.execute(DATASOURCE_DEPENDENTS_SQL, [id, id, id, id.toLowerCase(), datasource.name]);
  const list = new DependentList();
  for (const row of rows) list.add(row.id, row.name, row.type, dependentReason(row));
  return list.toArray();
}

/** Chain tasks that trigger an automation: deleting it would break them. */
export async function automationDependents(em: EntityManager, automation: Automation): Promise<DependentInfo[]> {
  const list = new DependentList();
  const steps = await em.find(ChainStep, { step: automation.id }, { populate: ['chain'] });
  for (const step of steps) {
    const chain = step.chain.getEntity();
    list.add(chain.id, chain.name, LineageNodeType.CHAIN_TASK, `triggers it as step ${step.position + 1}`);
  }
  return list.toArray();
}
