/**
 * Sessions and API tokens through the real server: the cookie's attributes, login throttling per
 * account and per address, logout (here and everywhere), password change, disabled users,
 * expired and idle sessions, and tokens (role cap, revocation, expiry, the owner's role today).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { LoginThrottle, UserAccount, UserSession, ApiToken } from '../../core/db/entities/index.js';
import { openOrm, sqliteDatabase } from '../../core/db/orm.js';
import { ensureFirstAdmin, setupFirstAdmin } from '../../api/auth/first-admin.js';
import { THROTTLE } from '../../api/auth/login-throttle.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signIn, TEST_PASSWORD, type TestUser } from '../helpers/auth.js';
import { TokenLookups } from '../../api/auth/token-lookups.js';
import { tokenHash } from '../../core/auth/tokens.js';

let t: TestServer;
let editor: TestUser;

beforeAll(async () => {
  t = await startTestServer();
  editor = await t.addUser(Role.EDITOR);
}, 60_000);
afterAll(() => t?.close());

const em = () => t.server.orm.em.fork() as EntityManager;
/** The admin, signed in: what only a session may do (tokens, users, passwords). */
let adminSession: Promise<string> | undefined;
const asAdmin = async () => t.as({ cookie: await (adminSession ??= signIn(t.url, t.admin.email)) });
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { email role } }';
const ME = '{ me { email role } }';

async function login(email: string, password: string) {
  const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: LOGIN, variables: { e: email, p: password } }) });
  return { body: (await response.json()) as any, cookies: response.headers.getSetCookie() };
}

describe('sessions', () => {
  it('sign in with an HttpOnly, SameSite=Lax cookie, and answer `me` for it', async () => {
    const { body, cookies } = await login(editor.email.toUpperCase(), TEST_PASSWORD);
    expect(body).toEqual({ data: { login: { email: editor.email, role: 'EDITOR' } } });
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(/^tributary_session=trs_[\w-]{43}; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    expect(await t.as({ cookie: cookies[0]!.split(';')[0]! }).ok(ME)).toEqual({ me: { email: editor.email, role: 'EDITOR' } });
    expect(await t.as(null).ok(ME)).toEqual({ me: null });
    // Only the hash is stored.
    const token = cookies[0]!.split(';')[0]!.split('=')[1]!;
    const stored = await em().find(UserSession, {});
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored)).not.toContain(token);
  });

  it('mark the cookie Secure behind https (PUBLIC_URL)', async () => {
    const behind = await startTestServer({ PUBLIC_URL: 'https://tributary.example' });
    try {
      const response = await fetch(`${behind.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: LOGIN, variables: { e: behind.admin.email, p: TEST_PASSWORD } }),
      });
      const cookie = response.headers.getSetCookie()[0]!;
      expect(cookie).toMatch(/^__Host-tributary_session=trs_[\w-]{43}; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/);
      // That is the cookie it reads (fetch sends it over http here; a browser only over https).
      expect(await behind.as({ cookie: cookie.split(';')[0]! }).ok(ME)).toEqual({ me: { email: behind.admin.email, role: 'ADMIN' } });
      expect(await behind.as({ cookie: `tributary_session=${cookie.split(';')[0]!.split('=')[1]}` }).ok(ME)).toEqual({ me: null });
    } finally {
      await behind.close();
    }
  });

  it('say the same for an unknown address and a wrong password, and set no cookie', async () => {
    const wrong = await login(editor.email, 'not the password at all');
    const unknown = await login('nobody@tributary.test', 'not the password at all');
    for (const answer of [wrong, unknown]) {
      expect(answer.body.errors[0]).toMatchObject({ message: 'wrong email or password', extensions: { code: 'UNAUTHENTICATED', reason: 'BAD_CREDENTIALS' } });
      expect(answer.cookies).toEqual([]);
    }
    await em().nativeDelete(LoginThrottle, {});
  });

  it('slow an account after five failures: the right password is refused until the wait is over', { timeout: 60_000 }, async () => {
    const target = await t.addUser(Role.VIEWER);
    for (let i = 0; i < THROTTLE.account.free; i++) expect((await login(target.email, `wrong password ${i}`)).body.errors[0].extensions.reason).toBe('BAD_CREDENTIALS');
    const audited = async () => (await t.ok('{ auditLog(action: "login") { totalCount } }')).auditLog.totalCount;
    const before = await audited();
    const blocked = await login(target.email, TEST_PASSWORD);
    expect(blocked.body.errors[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED', reason: 'THROTTLED' } });
    expect(await audited()).toBe(before); // a throttled attempt is refused without a trace anyone could flood
    expect(blocked.body.errors[0].extensions.retryAfterSeconds).toBeGreaterThan(20);
    expect(blocked.cookies).toEqual([]);
    // Another account from the same address is not slowed by it.
    expect((await login(editor.email, TEST_PASSWORD)).body.data.login.email).toBe(editor.email);
    // Once the wait is over, the right password works and the account's failures are forgotten.
    await em().nativeUpdate(LoginThrottle, { key: `account:${target.email}` }, { blockedUntil: new Date(Date.now() - 1000) });
    expect((await login(target.email, TEST_PASSWORD)).body.data.login.email).toBe(target.email);
    expect(await em().findOne(LoginThrottle, { key: `account:${target.email}` })).toBeNull();
    // Failures an hour old are forgotten: the next one counts as the first.
    await login(target.email, 'wrong once more');
    await login(target.email, 'wrong twice more');
    expect((await em().findOneOrFail(LoginThrottle, { key: `account:${target.email}` })).failures).toBe(2);
    await em().nativeUpdate(LoginThrottle, { key: `account:${target.email}` }, { lastFailureAt: new Date(Date.now() - 2 * 3_600_000) });
    await login(target.email, 'wrong after a quiet hour');
    expect((await em().findOneOrFail(LoginThrottle, { key: `account:${target.email}` })).failures).toBe(1);
    await em().nativeDelete(LoginThrottle, {});
  });

  it('slow an address that guesses across many accounts', { timeout: 90_000 }, async () => {
    for (let i = 0; i < THROTTLE.address.free; i++) await login(`guess-${i}@tributary.test`, 'a guessed password');
    const blocked = await login(editor.email, TEST_PASSWORD);
    expect(blocked.body.errors[0].extensions.reason).toBe('THROTTLED');
    await em().nativeDelete(LoginThrottle, {});
  });

  it('end with logout, and all of them with logoutEverywhere', async () => {
    const first = await signIn(t.url, editor.email);
    const second = await signIn(t.url, editor.email);
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: first }, body: JSON.stringify({ query: 'mutation { logout }' }) });
    expect(await response.json()).toEqual({ data: { logout: true } });
    expect(response.headers.getSetCookie()[0]).toMatch(/^tributary_session=; Path=\/; Expires=Thu, 01 Jan 1970/);
    expect(await t.as({ cookie: first }).ok(ME)).toEqual({ me: null });
    expect((await t.as({ cookie: first }).fail('{ datasources { totalCount } }')).extensions?.code).toBe('UNAUTHENTICATED');
    expect(await t.as({ cookie: second }).ok(ME)).toEqual({ me: { email: editor.email, role: 'EDITOR' } });
    const third = await signIn(t.url, editor.email);
    expect(await t.as({ cookie: third }).ok('mutation { logoutEverywhere }')).toEqual({ logoutEverywhere: true });
    for (const cookie of [second, third]) expect(await t.as({ cookie }).ok(ME)).toEqual({ me: null });
  });

  it('end the other sessions on a password change, keeping this one signed in', async () => {
    const user = await t.addUser(Role.VIEWER);
    const other = await signIn(t.url, user.email);
    const here = await signIn(t.url, user.email);
    const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { email } }';
    const wrong = await t.as({ cookie: here }).fail(CHANGE, { c: 'not my password!', n: 'a brand new password' });
    expect(wrong.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'currentPassword' });
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: here }, body: JSON.stringify({ query: CHANGE, variables: { c: TEST_PASSWORD, n: 'a brand new password' } }) });
    expect(((await response.json()) as any).data.changePassword.email).toBe(user.email);
    const renewed = response.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(await t.as({ cookie: renewed }).ok(ME)).toEqual({ me: { email: user.email, role: 'VIEWER' } });
    for (const cookie of [other, here]) expect(await t.as({ cookie }).ok(ME)).toEqual({ me: null });
    expect((await login(user.email, TEST_PASSWORD)).body.errors[0].extensions.reason).toBe('BAD_CREDENTIALS');
    await em().nativeDelete(LoginThrottle, {});
  });

  it('throttle guesses of the current password in a password change, as sign-ins are', { timeout: 60_000 }, async () => {
    const user = await t.addUser(Role.VIEWER);
    const session = t.as({ cookie: await signIn(t.url, user.email) });
    const CHANGE = 'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { email } }';
    for (let i = 0; i < THROTTLE.account.free; i++) expect((await session.fail(CHANGE, { c: `guess number ${i}`, n: 'a brand new password' })).extensions?.field).toBe('currentPassword');
    expect((await session.fail(CHANGE, { c: TEST_PASSWORD, n: 'a brand new password' })).extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'THROTTLED' });
    // The password did not change.
    await em().nativeDelete(LoginThrottle, {});
    expect((await login(user.email, TEST_PASSWORD)).body.data.login.email).toBe(user.email);
  });

  it('stop working when expired or unused for a week', async () => {
    const expired = await signIn(t.url, editor.email);
    const idle = await signIn(t.url, editor.email);
    const sessions = await em().find(UserSession, { user: editor.id }, { orderBy: { createdAt: 'desc' } });
    await em().nativeUpdate(UserSession, { id: sessions[1]!.id }, { expiresAt: new Date(Date.now() - 1000) });
    await em().nativeUpdate(UserSession, { id: sessions[0]!.id }, { lastSeenAt: new Date(Date.now() - 8 * 24 * 3_600_000) });
    for (const cookie of [expired, idle]) expect((await t.as({ cookie }).fail('{ datasources { totalCount } }')).extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('users (ADMIN)', () => {
  it('create a user once per address, disable them (ending their sessions and tokens), and keep the last admin', async () => {
    const CREATE = 'mutation($input: CreateUserInput!) { createUser(input: $input) { id email name role disabled } }';
    const admin = await asAdmin();
    const created = (await admin.ok(CREATE, { input: { email: 'New.Person@Example.com', name: 'New Person', password: 'twelve chars!', role: 'VIEWER' } })).createUser;
    expect(created).toMatchObject({ email: 'new.person@example.com', role: 'VIEWER', disabled: false });
    expect((await admin.fail(CREATE, { input: { email: 'new.person@EXAMPLE.com', name: 'Again', password: 'twelve chars!', role: 'VIEWER' } })).extensions?.code).toBe('CONFLICT');
    expect((await admin.fail(CREATE, { input: { email: 'short@example.com', name: 'Short', password: 'short', role: 'VIEWER' } })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'password' });

    const user = await t.addUser(Role.EDITOR);
    const cookie = await signIn(t.url, user.email);
    const UPDATE = 'mutation($id: ID!, $input: UpdateUserInput!) { updateUser(id: $id, input: $input) { role disabled } }';
    expect((await admin.ok(UPDATE, { id: user.id, input: { disabled: true } })).updateUser).toEqual({ role: 'EDITOR', disabled: true });
    expect(await t.as({ cookie }).ok(ME)).toEqual({ me: null });
    const tokenAnswer = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: '{"query":"{ me { email } }"}' });
    expect(tokenAnswer.status).toBe(401);
    expect((await login(user.email, TEST_PASSWORD)).body.errors[0].extensions.reason).toBe('DISABLED');

    const lastAdmin = await admin.fail(UPDATE, { id: t.admin.id, input: { role: 'EDITOR' } });
    expect(lastAdmin).toMatchObject({ extensions: { code: 'CONFLICT', field: 'role' } });
    expect((await t.ok(ME)).me.role).toBe('ADMIN');
    const users = (await t.ok('{ users { email } }')).users.map((u: { email: string }) => u.email);
    expect(users).toEqual([...users].sort());
    expect(users).toContain('new.person@example.com');
  });
});

describe('API tokens', () => {
  const CREATE = 'mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id name role expiresAt lastUsedAt } } }';
  const bearer = (token: string) => t.as({ token });

  it('are shown once, stored as a hash, capped at the creator’s role, and work as Bearer credentials', async () => {
    const asEditor = t.as({ cookie: await signIn(t.url, editor.email) });
    const created = (await asEditor.ok(CREATE, { input: { name: 'ci', role: 'VIEWER' } })).createApiToken;
    expect(created.token).toMatch(/^trt_[\w-]{43}$/);
    expect(created.apiToken).toMatchObject({ name: 'ci', role: 'VIEWER', expiresAt: null, lastUsedAt: null });
    const stored = await em().findOneOrFail(ApiToken, { id: created.apiToken.id });
    expect(JSON.stringify(stored)).not.toContain(created.token);
    expect(await bearer(created.token).ok(ME)).toEqual({ me: { email: editor.email, role: 'EDITOR' } });
    expect((await bearer(created.token).fail(`mutation { createDatasource(input: { name: "by-token", kind: STORAGE }) { id } }`)).extensions?.code).toBe('FORBIDDEN');
    const higher = await asEditor.fail(CREATE, { input: { name: 'too much', role: 'ADMIN' } });
    expect(higher.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const mine = (await asEditor.ok('{ apiTokens { name lastUsedAt } }')).apiTokens;
    expect(mine.map((x: { name: string }) => x.name)).toEqual(['ci', 'tests']);
    expect(mine[0].lastUsedAt).not.toBeNull();
    expect((await asEditor.fail('{ apiTokens(all: true) { id } }')).extensions?.code).toBe('FORBIDDEN');
    expect((await (await asAdmin()).ok('{ apiTokens(all: true) { id } }')).apiTokens.length).toBeGreaterThanOrEqual(3);
  });

  it('are refused with 401 once revoked, once expired, when malformed, and act at their owner’s role today', async () => {
    const asEditor = t.as({ cookie: await signIn(t.url, editor.email) });
    const revoked = (await asEditor.ok(CREATE, { input: { name: 'to revoke', role: 'EDITOR' } })).createApiToken;
    expect(await asEditor.ok('mutation($id: ID!) { revokeApiToken(id: $id) }', { id: revoked.apiToken.id })).toEqual({ revokeApiToken: true });
    const expiring = (await asEditor.ok(CREATE, { input: { name: 'expiring', role: 'EDITOR', expiresAt: new Date(Date.now() + 60_000).toISOString() } })).createApiToken;
    await em().nativeUpdate(ApiToken, { id: expiring.apiToken.id }, { expiresAt: new Date(Date.now() - 1000) });
    for (const authorization of [`Bearer ${revoked.token}`, `Bearer ${expiring.token}`, 'Bearer trt_forged', 'Basic YWRtaW46YWRtaW4=', `Bearer ${'x'.repeat(5000)}`]) {
      const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: '{"query":"{ me { email } }"}' });
      expect({ authorization: authorization.slice(0, 30), status: response.status }).toEqual({ authorization: authorization.slice(0, 30), status: 401 });
      expect(((await response.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    // Another user cannot revoke it (NOT_FOUND, as if it did not exist).
    const other = await t.addUser(Role.EDITOR);
    const live = (await asEditor.ok(CREATE, { input: { name: 'live', role: 'EDITOR' } })).createApiToken;
    expect((await t.as({ cookie: await signIn(t.url, other.email) }).fail('mutation($id: ID!) { revokeApiToken(id: $id) }', { id: live.apiToken.id })).extensions?.code).toBe('NOT_FOUND');
    // The owner is demoted: the token's EDITOR role is capped at VIEWER.
    const owner = await t.addUser(Role.EDITOR);
    await (await asAdmin()).ok('mutation($id: ID!) { updateUser(id: $id, input: { role: VIEWER }) { role } }', { id: owner.id });
    expect((await bearer(owner.token).fail(`mutation { createDatasource(input: { name: "by-demoted", kind: STORAGE }) { id } }`)).extensions?.code).toBe('FORBIDDEN');
    expect((await t.ok(`{ datasource(name: "by-demoted") { id } }`)).datasource).toBeNull();
  });

  it('are read when asked for just as the read before ends: no request is left waiting', async () => {
    const lookups = new TokenLookups(em);
    // The second lookup starts from the first one's answer, in the step its drain finishes.
    const second = await lookups.find('no such hash').then(() => Promise.race([lookups.find(tokenHash(editor.token)), new Promise((resolve) => setTimeout(() => resolve('left waiting'), 2_000))]));
    expect((second as { user: { email: string } }).user.email).toBe(editor.email);
  });

  it('are each answered for themselves when many requests arrive at once, read together', async () => {
    const asEditor = t.as({ cookie: await signIn(t.url, editor.email) });
    const good = (await asEditor.ok(CREATE, { input: { name: 'together good', role: 'EDITOR' } })).createApiToken;
    const revoked = (await asEditor.ok(CREATE, { input: { name: 'together revoked', role: 'EDITOR' } })).createApiToken;
    await asEditor.ok('mutation($id: ID!) { revokeApiToken(id: $id) }', { id: revoked.apiToken.id });
    const viewer = await t.addUser(Role.VIEWER);
    const tokens = [good.token, revoked.token, viewer.token];
    const before = t.queries.filter((q) => q.includes('from api_token t join user_account')).length;
    const answers = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { authorization: `Bearer ${tokens[i % 3]}`, 'content-type': 'application/json' }, body: '{"query":"{ me { email role } }"}' });
        return { i: i % 3, status: response.status, me: ((await response.json()) as any).data?.me ?? null };
      }),
    );
    for (const answer of answers) {
      expect(answer).toEqual(
        [
          { i: 0, status: 200, me: { email: editor.email, role: 'EDITOR' } },
          { i: 1, status: 401, me: null },
          { i: 2, status: 200, me: { email: viewer.email, role: 'VIEWER' } },
        ][answer.i],
      );
    }
    // Read in fewer statements than requests: those arriving while a read runs share the next one.
    const reads = t.queries.filter((q) => q.includes('from api_token t join user_account')).length - before;
    expect(reads).toBeGreaterThanOrEqual(1);
    expect(reads, `${reads} reads for 30 requests`).toBeLessThan(30);
  });
});

describe('the first admin', () => {
  it('is created once from a setup token, even when the link is used several times at once', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tributary-setup-'));
    const orm = await openOrm({ database: sqliteDatabase(join(dir, 'meta.db')) });
    try {
      const lines: any[] = [];
      const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
      const fork = () => orm.em.fork() as EntityManager;
      // A restart prints a new link; the earlier one is void.
      expect(await ensureFirstAdmin(fork(), logger, { baseUrl: 'http://127.0.0.1:4000' })).toEqual({ outcome: 'link' });
      expect(await ensureFirstAdmin(fork(), logger, { baseUrl: 'http://127.0.0.1:4000' })).toEqual({ outcome: 'link' });
      const [old, token] = lines.filter((l) => l.setupLink).map((l) => new URL(l.setupLink).searchParams.get('token')!) as [string, string];
      await expect(setupFirstAdmin(fork(), { token: old, email: 'early@example.com', name: 'early', password: 'a long first password' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      // A forged token is refused before any password is hashed (a hash takes ~0.4 s; this takes far less).
      const started = performance.now();
      await expect(setupFirstAdmin(fork(), { token: `tru_${'A'.repeat(43)}`, email: 'x@example.com', name: 'x', password: 'a long first password' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(performance.now() - started).toBeLessThan(150);
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'c'].map((who) => setupFirstAdmin(fork(), { token, email: `${who}@example.com`, name: who, password: 'a long first password' })),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as { code: string }).code).toBe('UNAUTHENTICATED');
      expect(await fork().count(UserAccount, {})).toBe(1);
      // A user exists: no new link, and the old one stays spent.
      expect(await ensureFirstAdmin(fork(), logger, { baseUrl: 'http://127.0.0.1:4000' })).toEqual({ outcome: 'exists' });
      await expect(setupFirstAdmin(fork(), { token, email: 'late@example.com', name: 'late', password: 'a long first password' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    } finally {
      await orm.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
