import type { EntityManager } from '@mikro-orm/knex';
import { hashPassword } from '../../core/auth/passwords.js';
import { Role } from '../../core/enums.js';
import { UserAccount } from '../../core/db/entities/index.js';
import type { Orm } from '../../core/db/orm.js';
import { createApiToken } from '../../api/auth/api-tokens.js';

/** The password of every user the helpers make (hashed once per test file: a hash takes ~0.4 s). */
export const TEST_PASSWORD = 'correct horse battery staple';
export const TEST_ADMIN_EMAIL = 'admin@tributary.test';

let passwordHash: Promise<string> | undefined;
const testPasswordHash = () => (passwordHash ??= hashPassword(TEST_PASSWORD));

export interface TestUser {
  id: string;
  email: string;
  role: Role;
  /** An API token of this user at their role. */
  token: string;
}

/**
 * A user with TEST_PASSWORD and an API token at its role, written through the server's own
 * database: what `npm run user -- create` and `createApiToken` would leave, without paying a
 * fresh scrypt hash per test server.
 */
export async function addTestUser(orm: Orm, role: Role, email = `${role.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}@tributary.test`): Promise<TestUser> {
  const em = orm.em.fork() as EntityManager;
  const user = em.create(UserAccount, { email, name: `${role.toLowerCase()} (test)`, role, passwordHash: await testPasswordHash() });
  await em.flush();
  const { token } = await createApiToken(em, { userId: user.id, email, name: user.name, role }, { name: 'tests', role });
  return { id: user.id, email, role, token };
}

/** Signs in through the API and returns the `Cookie` header value of the new session. */
export async function signIn(url: string, email: string, password = TEST_PASSWORD): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { id } }', variables: { e: email, p: password } }),
  });
  const body = (await response.json()) as { errors?: unknown[] };
  if (body.errors) throw new Error(`sign-in failed: ${JSON.stringify(body.errors)}`);
  const cookie = response.headers.getSetCookie().find((c) => /^(__Host-)?tributary_session=/.test(c));
  if (!cookie) throw new Error('sign-in set no session cookie');
  return cookie.split(';')[0]!;
}

/** Signs `email` in through the API and gives the browser context its session cookie. */
export async function signInBrowser(context: { addCookies(cookies: { name: string; value: string; url: string }[]): Promise<void> }, url: string, email: string): Promise<void> {
  const [name, value] = (await signIn(url, email)).split('=') as [string, string];
  await context.addCookies([{ name, value, url }]);
}
