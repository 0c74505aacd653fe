import type { ChangeSet, EventSubscriber, FlushEventArgs } from '@mikro-orm/core';
import { currentAudit, SECRET_FIELD, type AuditFieldChange, type AuditObjectChange } from './scope.js';

/** Bookkeeping the audit log does not show: its own rows, the lineage change log, sessions, throttling, run logs. */
const NOT_AUDITED = new Set(['AuditEvent', 'LineageChange', 'LineageVersion', 'UserSession', 'LoginThrottle', 'RunLog', 'Setting']);

/** A value as the audit log keeps it: plain values as they are, dates as ISO text, references as their id; anything else left out. */
function plain(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value;
  if (typeof value === 'object' && 'id' in (value as object) && typeof (value as { id: unknown }).id === 'string') return (value as { id: string }).id;
  return undefined;
}

/** The snapshot MikroORM keeps of the row as loaded holds database values: dates as numbers, JSON as text. */
function fromSnapshot(value: unknown, runtimeType: string | undefined): unknown {
  if (value === null || value === undefined) return null;
  if (runtimeType === 'Date' && (typeof value === 'number' || typeof value === 'string')) return new Date(value);
  if (typeof value === 'string' && /^[[{]/.test(value) && runtimeType !== 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** The changed fields (the keys of the flush's payload), before from the loaded snapshot and after from the object. */
function fieldsOf(cs: ChangeSet<object>): AuditFieldChange[] {
  const fields: AuditFieldChange[] = [];
  const before = (cs.originalEntity ?? {}) as Record<string, unknown>;
  const entity = cs.entity as Record<string, unknown>;
  for (const field of Object.keys(cs.payload as Record<string, unknown>)) {
    if (field === 'id' || field === 'createdAt' || field === 'modifiedAt') continue; // said by the entry itself
    if (SECRET_FIELD.test(field)) {
      fields.push({ field, before: null, after: '(secret changed)' });
      continue;
    }
    const after = plain(entity[field]);
    if (after === undefined) continue;
    const was = cs.type === 'create' ? null : plain(fromSnapshot(before[field], (cs.meta.properties as Record<string, { runtimeType?: string } | undefined>)[field]?.runtimeType));
    if (cs.type === 'create' && (after === null || (Array.isArray(after) && after.length === 0))) continue; // nothing to tell
    fields.push({ field, before: was ?? null, after });
  }
  return fields;
}

/**
 * Collects what each flush changed into the audit scope of the mutation running (if any): the
 * created, updated and deleted objects with their plain fields before and after.
 */
export class AuditSubscriber implements EventSubscriber {
  async afterFlush({ uow }: FlushEventArgs): Promise<void> {
    const scope = currentAudit();
    if (!scope || scope.paused) return;
    for (const cs of uow.getChangeSets()) {
      const type = cs.meta.className;
      if (NOT_AUDITED.has(type)) continue;
      const entity = cs.entity as { id?: unknown; name?: unknown; email?: unknown };
      const change: AuditObjectChange = {
        type,
        id: String(entity.id ?? cs.getPrimaryKey()),
        change: cs.type === 'create' ? 'created' : cs.type === 'delete' ? 'deleted' : 'updated',
        name: typeof entity.name === 'string' ? entity.name : typeof entity.email === 'string' ? entity.email : null,
        fields: cs.type === 'delete' ? [] : fieldsOf(cs as ChangeSet<object>),
      };
      scope.changes.push(change);
    }
  }
}
