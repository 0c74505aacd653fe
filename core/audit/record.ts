import type { EntityManager } from '@mikro-orm/knex';
import { AuditEvent } from '../db/entities/index.js';
import type { AuditObjectChange, AuditScope } from './scope.js';

/** Which object an entry is about when a mutation has no `id` argument: the first of these it created or changed. */
const MAIN_TYPES = ['Datasource', 'Automation', 'EtlStep', 'SftpImport', 'Script', 'ChainTask', 'UserAccount', 'ApiToken', 'Run'];

function mainObject(scope: AuditScope): { type: string | null; id: string | null; name: string | null } {
  const changes = scope.changes;
  const byId = scope.objectId ? changes.find((c) => c.id === scope.objectId) : undefined;
  const main: AuditObjectChange | undefined = byId ?? MAIN_TYPES.map((type) => changes.find((c) => c.type === type)).find(Boolean) ?? changes[0];
  return { type: main?.type ?? null, id: scope.objectId ?? main?.id ?? null, name: main?.name ?? null };
}

export interface AuditOutcome {
  outcome: 'OK' | 'REFUSED';
  errorCode?: string | null;
  /** What the caller knows better than the changes (the address of a failed sign-in). */
  objectType?: string | null;
  objectName?: string | null;
}

/** Writes the entry of `scope` with `em` (inside the mutation's transaction, or after it when it had none). */
export async function recordAudit(em: EntityManager, scope: AuditScope, result: AuditOutcome): Promise<void> {
  const main = mainObject(scope);
  em.create(AuditEvent, {
    actorId: scope.actor?.userId ?? null,
    actorEmail: scope.actor?.email ?? null,
    tokenId: scope.actor?.tokenId ?? null,
    action: scope.action,
    objectType: result.objectType ?? main.type,
    objectId: main.id?.slice(0, 36) ?? null,
    objectName: (result.objectName ?? main.name)?.slice(0, 320) ?? null,
    outcome: result.outcome,
    errorCode: result.errorCode ?? null,
    changes: scope.changes.length > 0 ? scope.changes : null,
  });
  await em.flush();
  scope.written = true;
}
