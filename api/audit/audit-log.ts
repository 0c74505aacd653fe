import type { EntityManager } from '@mikro-orm/knex';
import type { FilterQuery } from '@mikro-orm/core';
import { AuditEvent } from '../../core/db/entities/index.js';
import type { Page } from '../../core/paging.js';
import { pageNewestFirst } from '../services/paging.js';

export interface AuditLogArgs {
  first?: number | null;
  after?: string | null;
  objectId?: string | null;
  actorId?: string | null;
  action?: string | null;
}

/** A page of the audit log, newest first, filtered by object, actor or action; the cursor is the entry's number. */
/** Entries about people and their credentials: who exists, who signed in, who holds which token. */
const ACCOUNT_TYPES = ['UserAccount', 'ApiToken'];
const ACCOUNT_ACTIONS = ['login', 'logout', 'logoutEverywhere', 'changePassword', 'setupFirstAdmin', 'apiTokenFirstUse', 'createApiToken', 'revokeApiToken', 'createUser', 'updateUser'];

/**
 * A page of the audit log, newest first, filtered by object, actor or action; the cursor is the
 * entry's number. Entries about accounts (users, sign-ins, tokens) are for admins only: a viewer
 * sees the history of the workspace, not the list of people.
 */
export async function auditLog(em: EntityManager, args: AuditLogArgs, seesAccounts: boolean): Promise<Page<AuditEvent>> {
  const filter: FilterQuery<AuditEvent> = seesAccounts
    ? {}
    : { action: { $nin: ACCOUNT_ACTIONS }, $or: [{ objectType: null }, { objectType: { $nin: ACCOUNT_TYPES } }] };
  if (args.objectId) filter.objectId = String(args.objectId);
  if (args.actorId) filter.actorId = String(args.actorId);
  if (args.action) filter.$and = [{ action: String(args.action) }];
  return pageNewestFirst(em, AuditEvent, filter, args, 'audit', 'the audit log');
}
