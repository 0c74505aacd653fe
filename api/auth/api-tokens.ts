import type { EntityManager } from '@mikro-orm/knex';
import { newToken, tokenHash } from '../../core/auth/tokens.js';
import { checkRole, roleAllows, type Principal } from '../../core/auth/roles.js';
import { Role, TokenScope } from '../../core/enums.js';
import { ApiToken, UserAccount } from '../../core/db/entities/index.js';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../core/errors.js';
import { checkName } from '../../core/validation.js';

export interface CreateApiTokenRequest {
  name: string;
  role: Role;
  expiresAt?: Date | null;
  /** LINEAGE_WRITER: a token that only sends OpenLineage events (POST /api/v1/lineage); it needs an EDITOR to make it. */
  scope?: TokenScope | null;
}

/** A new token for the caller's own account, at most the caller's role; the secret is returned this once. */
export async function createApiToken(em: EntityManager, principal: Principal, input: CreateApiTokenRequest, now = new Date()): Promise<{ token: string; apiToken: ApiToken }> {
  const name = checkName(input.name);
  checkRole(input.role);
  if (!roleAllows(principal.role, input.role)) throw new ForbiddenError(`a token's role is at most yours (${principal.role}); ${input.role} was asked`, input.role);
  // A lineage writer writes as an EDITOR does, and stops when its owner is no longer one (its role is the lower of the two).
  if (input.scope === TokenScope.LINEAGE_WRITER && input.role !== Role.EDITOR) throw new BadUserInputError('role', 'a LINEAGE_WRITER token has the EDITOR role');
  if (input.scope && principal.scope) throw new ForbiddenError('a scoped token cannot make tokens', Role.EDITOR);
  if (input.expiresAt && !(input.expiresAt.getTime() > now.getTime())) throw new BadUserInputError('expiresAt', 'expiresAt must be in the future');
  const token = newToken('api');
  const apiToken = em.create(ApiToken, {
    name,
    role: input.role,
    scope: input.scope ?? null,
    tokenHash: tokenHash(token),
    createdBy: em.getReference(UserAccount, principal.userId),
    createdAt: now,
    expiresAt: input.expiresAt ?? null,
  });
  await em.flush();
  return { token, apiToken };
}

/** The caller's tokens, or with `all` (ADMIN only) everyone's; newest first, revoked ones included. */
export async function listApiTokens(em: EntityManager, principal: Principal, all: boolean): Promise<ApiToken[]> {
  if (all && !roleAllows(principal.role, Role.ADMIN)) throw new ForbiddenError('listing every token needs the ADMIN role', Role.ADMIN);
  return em.find(ApiToken, all ? {} : { createdBy: principal.userId }, { orderBy: { createdAt: 'desc', id: 'asc' } });
}

/**
 * Revokes a token: one's own, or (ADMIN) anyone's. Revoking a revoked token is a no-op; a token
 * the caller may not see is NOT_FOUND, as one that does not exist.
 */
export async function revokeApiToken(em: EntityManager, principal: Principal, id: string, now = new Date()): Promise<ApiToken> {
  const row = await em.findOne(ApiToken, { id: String(id) });
  if (!row || (row.createdBy.id !== principal.userId && !roleAllows(principal.role, Role.ADMIN))) throw new NotFoundError('ApiToken', String(id), 'id');
  if (!row.revokedAt) {
    row.revokedAt = now;
    await em.flush();
  }
  return row;
}
