import type { EntityManager } from '@mikro-orm/knex';
import { hashPassword, needsRehash, passwordTurn, PasswordsBusyError, UNKNOWN_ACCOUNT_HASH } from '../../core/auth/passwords.js';
import { isToken, newToken, tokenHash } from '../../core/auth/tokens.js';
import { lowerRole, type Principal } from '../../core/auth/roles.js';
import { ApiToken, UserAccount, UserSession } from '../../core/db/entities/index.js';
import { UnauthenticatedError } from '../../core/errors.js';
import { normalizeEmail } from '../../core/validation.js';
import { AccountRepository, type CredentialRow } from '../../core/db/repositories/account.repository.js';
import { blockedFor, forgetFailures, recordFailure, type ThrottleKey } from './login-throttle.js';
import type { TokenLookups } from './token-lookups.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'tributary_session';

/**
 * The name it has on a server reached over https: with the `__Host-` prefix the browser only
 * accepts it Secure, for path `/` and from this very host, so a sibling subdomain cannot plant one.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

/**
 * How long a session lives (as Grafana's defaults): it ends after 7 days unused and 30 days after
 * sign-in, whichever comes first. Its last use is written at most every 5 minutes.
 */
export const SESSION = { idleMs: 7 * 24 * 3_600_000, maxMs: 30 * 24 * 3_600_000, touchEveryMs: 5 * 60_000 } as const;
/** A token's last use is written at most this often. */
const TOKEN_TOUCH_MS = 60_000;

export interface SignedIn {
  user: UserAccount;
  session: UserSession;
  /** The cookie's value: shown once, stored only as its hash. */
  token: string;
}

/** Starts a session for a user whose password was checked (or who was just created). */
export async function openSession(em: EntityManager, user: UserAccount, now = new Date()): Promise<SignedIn> {
  const token = newToken('session');
  const session = em.create(UserSession, { tokenHash: tokenHash(token), user, createdAt: now, lastSeenAt: now, expiresAt: new Date(now.getTime() + SESSION.maxMs) });
  await em.flush();
  return { user, session, token };
}

/**
 * Checks a password for an account, slowed per account and per address: the check, the
 * verification and the count of a failure take one hashing turn, so a burst of guesses is judged
 * in order. Every refusal says the same for an unknown address and a wrong password, and takes as
 * long. Used by sign-in and by a password change (which asks for the current one).
 */
export async function checkPassword(em: EntityManager, emailInput: string, password: string, address: string): Promise<UserAccount> {
  const email = normalizeEmail(emailInput).slice(0, 320);
  const keys: ThrottleKey[] = [`account:${email}`, `address:${address}`];
  try {
    return await passwordTurn(async (verify) => {
      const wait = await blockedFor(em, keys);
      if (wait > 0) throw new UnauthenticatedError(`too many failed sign-ins; try again in ${wait} s`, { reason: 'THROTTLED', retryAfterSeconds: wait });
      const found = email ? await em.findOne(UserAccount, { email }) : null;
      const matches = await verify(String(password ?? ''), found?.passwordHash ?? UNKNOWN_ACCOUNT_HASH);
      if (!found || !matches) {
        await recordFailure(em, keys);
        throw new UnauthenticatedError('wrong email or password', { reason: 'BAD_CREDENTIALS' });
      }
      await forgetFailures(em, keys[0]!);
      return found;
    });
  } catch (error) {
    if (error instanceof PasswordsBusyError) throw new UnauthenticatedError(error.message, { reason: 'BUSY', retryAfterSeconds: 1 });
    throw error;
  }
}

/** Signs in with an email and password ({@link checkPassword}) and starts a session. */
export async function login(em: EntityManager, email: string, password: string, address: string): Promise<SignedIn> {
  const user = await checkPassword(em, email, password, address);
  if (user.disabled) throw new UnauthenticatedError('this account is disabled; ask an admin', { reason: 'DISABLED' });
  if (needsRehash(user.passwordHash)) user.passwordHash = await hashPassword(password);
  return openSession(em, user);
}

function principalOfRow(row: CredentialRow, extra: Partial<Principal>): Principal {
  return { userId: row.user.id, email: row.user.email, name: row.user.name, role: row.user.role, ...extra };
}

/** The principal of a session cookie; null when it is unknown, expired, or no longer valid. One indexed read. */
export async function sessionPrincipal(em: EntityManager, token: string, now = new Date()): Promise<Principal | null> {
  if (!isToken('session', token)) return null;
  const session = await new AccountRepository(em).sessionByHash(tokenHash(token));
  if (!session) return null;
  const lastSeen = session.lastUsedAt ?? session.createdAt;
  const idle = now.getTime() - lastSeen.getTime() > SESSION.idleMs;
  if (session.expiresAt! <= now || idle || session.user.disabled || session.createdAt < session.user.passwordChangedAt) return null;
  if (now.getTime() - lastSeen.getTime() > SESSION.touchEveryMs) {
    await em.nativeUpdate(UserSession, { id: session.id }, { lastSeenAt: now });
  }
  return principalOfRow(session, { sessionId: session.id });
}

/**
 * The principal of an API token: its owner, at the lower of the token's role and the owner's
 * today. Throws UNAUTHENTICATED for a token that is unknown, revoked, expired or whose owner is
 * disabled: a machine should hear that its credential is bad, not be treated as anonymous.
 */
export async function tokenPrincipal(em: EntityManager, token: string, now = new Date(), lookups?: TokenLookups): Promise<{ principal: Principal; firstUse: boolean }> {
  const bad = () => new UnauthenticatedError('the API token is unknown, revoked or expired', { reason: 'BAD_TOKEN' });
  if (!isToken('api', token)) throw bad();
  const hash = tokenHash(token);
  const row = lookups ? await lookups.find(hash) : await new AccountRepository(em).apiTokenByHash(hash);
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now) || row.user.disabled) throw bad();
  const firstUse = !row.lastUsedAt;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > TOKEN_TOUCH_MS) {
    await em.nativeUpdate(ApiToken, { id: row.id }, { lastUsedAt: now });
  }
  return { principal: principalOfRow(row, { role: lowerRole(row.role!, row.user.role), tokenId: row.id, scope: row.scope ?? null }), firstUse };
}

/** Ends one session. */
export async function closeSession(em: EntityManager, sessionId: string): Promise<void> {
  await em.nativeDelete(UserSession, { id: sessionId });
}

/** Ends every session of a user but `keep` (the one asking, when it stays signed in); how many ended. */
export async function closeSessions(em: EntityManager, userId: string, keep?: string): Promise<number> {
  return em.nativeDelete(UserSession, keep ? { user: userId, id: { $ne: keep } } : { user: userId });
}
