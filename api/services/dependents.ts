import type { EntityManager } from '@mikro-orm/sqlite';
import { Automation, AutomationIo, ChainStep, Datasource, DatasourceKind, IoDirection, LineageNodeType, ScriptToken, ScriptTokenKind } from '../entities/index.js';
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
 * Everything that keeps a datasource from being deleted (ARCHITECTURE.md "Deletion safety"):
 * automations declaring it, joins using it, and scripts whose code holds its UUID or its
 * exact name as a quoted string literal. Three indexed lookups, whatever the number of scripts.
 */
export async function datasourceDependents(em: EntityManager, datasource: Datasource): Promise<DependentInfo[]> {
  const list = new DependentList();

  const declared = await em.find(AutomationIo, { datasource: datasource.id }, { populate: ['automation'] });
  for (const io of declared) {
    const automation = io.automation.getEntity();
    const side = io.direction === IoDirection.INPUT ? 'input' : 'output';
    list.add(automation.id, automation.name, automationNodeType(automation), `declares it as ${side}`);
  }

  const joins = await em.find(Datasource, { $or: [{ joinLeft: datasource.id }, { joinRight: datasource.id }] });
  for (const join of joins) list.add(join.id, join.name, LineageNodeType.JOIN_DATASOURCE, 'joins it');

  const tokens = await em.find(
    ScriptToken,
    {
      $or: [
        { kind: ScriptTokenKind.UUID, token: datasource.id.toLowerCase() },
        { kind: ScriptTokenKind.LITERAL, token: datasource.name },
      ],
    },
    { populate: ['script'] },
  );
  for (const token of tokens) {
    const script = token.script.getEntity();
    const reason = token.kind === ScriptTokenKind.UUID ? 'its code holds the datasource id' : 'its code names it in a string literal';
    list.add(script.id, script.name, LineageNodeType.SCRIPT, reason);
  }
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
