import { Role, type TokenScope } from '../enums.js';
import { BadUserInputError } from '../errors.js';

const RANK: Record<Role, number> = { [Role.VIEWER]: 1, [Role.EDITOR]: 2, [Role.ADMIN]: 3 };

/** Whether `role` may do what `needed` may (each role may do all the roles before it may). */
export function roleAllows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}

/** The lower of two roles: what a token may do is at most what its owner may do today. */
export function lowerRole(a: Role, b: Role): Role {
  return RANK[a] <= RANK[b] ? a : b;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(RANK, value);
}

/** `value` as a role, or BAD_USER_INPUT on `field` naming the roles there are. */
export function checkRole(value: unknown, field = 'role'): Role {
  if (!isRole(value)) throw new BadUserInputError(field, `${field} must be one of ${Object.values(Role).join(', ')}`);
  return value;
}

/**
 * Who sent a request: a signed-in user (a session) or a machine (an API token, acting for the
 * user who made it). `role` is what the request may do: for a token, the lower of the token's
 * role and its owner's.
 */
export interface Principal {
  userId: string;
  email: string;
  name: string;
  role: Role;
  sessionId?: string;
  tokenId?: string;
  /** A scoped token (LINEAGE_WRITER) may do only what its scope names, whatever its role. */
  scope?: TokenScope | null;
}
