import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import { hashPassword, passwordProblem } from '../../core/auth/passwords.js';
import { isToken, newToken, tokenHash } from '../../core/auth/tokens.js';
import { Role } from '../../core/enums.js';
import { Setting, UserAccount } from '../../core/db/entities/index.js';
import { BadUserInputError, ConflictError, UnauthenticatedError } from '../../core/errors.js';
import { checkName } from '../../core/validation.js';
import { AccountService, checkEmail } from '../services/account.service.js';

const SETUP_KEY = 'setup-token:';
/** A setup link works for a day (or until the first admin exists); a restart prints a new one. */
export const SETUP_TOKEN_TTL_MS = 24 * 3_600_000;

export interface FirstAdminOptions {
  /** TRIBUTARY_ADMIN_EMAIL and TRIBUTARY_ADMIN_PASSWORD, when both are set. */
  admin?: { email: string; password: string };
  /** Where the setup page is: PUBLIC_URL or the listening address. */
  baseUrl: string;
  /** `npm start -- --demo`: without TRIBUTARY_ADMIN_*, a demo admin with a new random password. */
  demo?: boolean;
}

/** What start-up did about the first admin; `password` only for a demo admin it made up. */
export type FirstAdmin = { outcome: 'exists' | 'created' | 'link' } | { outcome: 'demo'; email: string; password: string };

export const DEMO_ADMIN_EMAIL = 'demo@tributary.local';

/**
 * On a database without users: creates the admin from TRIBUTARY_ADMIN_* when given; otherwise
 * stores a new one-time setup token (its hash only) and logs the link that opens the setup page.
 * Returns what it did.
 */
export async function ensureFirstAdmin(em: EntityManager, logger: Logger, options: FirstAdminOptions): Promise<FirstAdmin> {
  const accounts = new AccountService(em);
  if ((await accounts.count()) > 0) return { outcome: 'exists' };
  const given = options.admin ?? (options.demo ? { email: DEMO_ADMIN_EMAIL, password: randomBytes(15).toString('base64url') } : undefined);
  if (given) {
    try {
      const user = await accounts.createUser({ email: given.email, name: options.admin ? 'Admin' : 'Demo admin', password: given.password, role: Role.ADMIN });
      if (options.admin) {
        logger.info({ email: user.email }, 'created the first admin from TRIBUTARY_ADMIN_EMAIL');
        return { outcome: 'created' };
      }
      return { outcome: 'demo', email: user.email, password: given.password };
    } catch (error) {
      // Another process created it at the same moment.
      if (error instanceof ConflictError && (await accounts.count()) > 0) return { outcome: 'exists' };
      throw error;
    }
  }
  const token = newToken('setup');
  // Only the newest link works: one printed by an earlier start is void.
  await em.transactional(async (tx) => {
    await tx.nativeDelete(Setting, { key: { $like: `${SETUP_KEY}%` } });
    tx.create(Setting, { key: SETUP_KEY + tokenHash(token), value: new Date().toISOString() });
  });
  const link = new URL(`/setup?token=${token}`, options.baseUrl).toString();
  // The link goes to the log on purpose: whoever reads the server's log runs the server.
  logger.warn({ setupLink: link }, `no user exists yet: open ${link} within 24 hours to create the first admin (or set TRIBUTARY_ADMIN_EMAIL and TRIBUTARY_ADMIN_PASSWORD, or run \`npm run user -- create\`)`);
  return { outcome: 'link' };
}

/** Whether the setup page should be offered: no user exists yet. */
export async function setupRequired(em: EntityManager): Promise<boolean> {
  return (await em.count(UserAccount, {})) === 0;
}

/**
 * Creates the first admin with a setup token. The token works once: it is deleted in the same
 * transaction, with every other setup token, and refused once any user exists.
 */
export async function setupFirstAdmin(em: EntityManager, input: { token: string; email: string; name: string; password: string }, now = new Date()): Promise<UserAccount> {
  const refused = () => new UnauthenticatedError('this setup link is not valid: it was used, it expired, or a newer one was printed', { reason: 'BAD_SETUP_TOKEN' });
  const token = String(input.token ?? '');
  if (!isToken('setup', token)) throw refused();
  // The token is checked before the password is hashed: a guessed token costs us no 128 MiB hash.
  const stored = await em.findOne(Setting, { key: SETUP_KEY + tokenHash(token) });
  if (!stored || now.getTime() - Date.parse(stored.value) > SETUP_TOKEN_TTL_MS) throw refused();
  const email = checkEmail(input.email);
  const name = checkName(input.name);
  const problem = passwordProblem(String(input.password ?? ''));
  if (problem) throw new BadUserInputError('password', problem);
  const passwordHash = await hashPassword(input.password);
  return em.transactional(async (tx) => {
    const key = SETUP_KEY + tokenHash(token);
    const stored = await tx.findOne(Setting, { key });
    // Deleting first makes concurrent uses of one token wait on the row: only one deletes it.
    const deleted = await tx.nativeDelete(Setting, { key });
    if (!stored || deleted !== 1 || now.getTime() - Date.parse(stored.value) > SETUP_TOKEN_TTL_MS) throw refused();
    if ((await tx.count(UserAccount, {})) > 0) throw new ConflictError('token', 'an admin already exists: sign in instead');
    await tx.nativeDelete(Setting, { key: { $like: `${SETUP_KEY}%` } });
    const user = tx.create(UserAccount, { email, name, role: Role.ADMIN, passwordHash });
    await tx.flush();
    return user;
  });
}
