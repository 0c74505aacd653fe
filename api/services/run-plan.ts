import type { EntityManager } from '@mikro-orm/sqlite';
import { Automation, AutomationIo, EtlStep, IoDirection } from '../entities/index.js';
import { NotFoundError } from '../errors/index.js';
import type { AutomationPlan } from '../../jobs/runners/runner.js';
import type { DataService } from './data.service.js';

/** Resolves an automation and its declared datasources into the plain plan a runner takes. */
export async function buildPlan(em: EntityManager, data: DataService, automationId: string, field = 'id'): Promise<AutomationPlan> {
  const automation = await em.findOne(Automation, { id: automationId });
  if (!automation) throw new NotFoundError('Automation', automationId, field);
  const io = await em.find(AutomationIo, { automation: automation.id }, { orderBy: { position: 'asc' } });
  const specs = async (direction: IoDirection) => Promise.all(io.filter((r) => r.direction === direction).map((r) => data.spec(r.datasource.id)));
  return {
    id: automation.id,
    name: automation.name,
    kind: automation.kind,
    inputs: await specs(IoDirection.INPUT),
    outputs: await specs(IoDirection.OUTPUT),
    writeMode: automation.writeMode,
    writeKeys: automation.writeKeys,
    transform: automation instanceof EtlStep ? automation.transform : undefined,
  };
}
