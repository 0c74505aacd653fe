import { AsyncLocalStorage } from 'node:async_hooks';

/** One changed field of an object: plain values only (text, numbers, flags, dates, ids), never a secret. */
export interface AuditFieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** What one flush did to one object. */
export interface AuditObjectChange {
  type: string;
  id: string;
  change: 'created' | 'updated' | 'deleted';
  name?: string | null;
  fields: AuditFieldChange[];
}

/** Who acts: a user, directly or through one of their API tokens. */
export interface AuditActor {
  userId: string;
  email: string;
  tokenId?: string;
}

/**
 * What the audit log needs to know while one mutation runs: who, which action, on which object
 * (its `id` argument, when it has one), and the changes the database saw. The GraphQL edge opens
 * it around each mutation; the ORM subscriber and writeTransaction fill and write it.
 */
export interface AuditScope {
  actor: AuditActor | null;
  action: string;
  objectId: string | null;
  changes: AuditObjectChange[];
  /**
   * The entry is written: what happens later in this async context (a run the mutation started,
   * going on in the background) is not the mutation's doing and is not collected.
   */
  written: boolean;
  /** While set, what the database sees is not collected (see {@link unaudited}). */
  paused?: boolean;
}

const storage = new AsyncLocalStorage<AuditScope>();

export function runAudited<T>(scope: AuditScope, work: () => Promise<T>): Promise<T> {
  return storage.run(scope, work);
}

/** The mutation being audited in this async context, if any (none for scheduled runs and start-up work). */
export function currentAudit(): AuditScope | undefined {
  const scope = storage.getStore();
  return scope && !scope.written ? scope : undefined;
}

/**
 * Runs `work` without collecting what it writes: for writes that are not the mutation's effect,
 * such as an edit of a draft written to the automation's row and the live definition written back
 * (the log shows the draft's version instead of changes that never were in force).
 */
export async function unaudited<T>(work: () => Promise<T>): Promise<T> {
  const scope = currentAudit();
  if (!scope || scope.paused) return work();
  scope.paused = true;
  try {
    return await work();
  } finally {
    scope.paused = false;
  }
}

/** Names an object a mutation deletes with a bulk statement (which the ORM does not see as a change). */
export function noteDeleted(type: string, id: string, name: string): void {
  currentAudit()?.changes.push({ type, id, name, change: 'deleted', fields: [] });
}

/** Field names whose values never reach the audit log (secrets, and hashes of them). */
export const SECRET_FIELD = /password|secret|private_?key|passphrase|token_?hash|sealed/i;
