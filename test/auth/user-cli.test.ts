import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../core/auth/passwords.js';
import { loadConfig } from '../../core/config.js';
import { UserAccount, UserSession } from '../../core/db/entities/index.js';
import { openOrm, type Orm } from '../../core/db/orm.js';
import { backendEnv } from '../helpers/postgres.js';
import { PROCESS_ENV, ROOT } from '../helpers/process.js';

/** `npm run user`, with no server running, on the suite's backend. */
let dir: string;
let env: Record<string, string>;
let drop: () => Promise<void>;
let orm: Orm;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-user-cli-'));
  const backend = await backendEnv();
  drop = backend.drop;
  env = { ...PROCESS_ENV, ...backend.env, DATA_DIR: dir };
});

afterAll(async () => {
  await orm?.close();
  await drop?.();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], stdin = ''): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'api/cli/user.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

async function users(): Promise<UserAccount[]> {
  orm ??= await openOrm({ database: loadConfig({ ...env } as NodeJS.ProcessEnv).database });
  return orm.em.fork().find(UserAccount, {}, { orderBy: { email: 'asc' } });
}

describe('npm run user', () => {
  it('creates a user from a piped password, stores only its hash, and lists them', { timeout: 60_000 }, async () => {
    const created = await cli(['create', '--email', ' Ada@Example.COM ', '--name', 'Ada', '--role', 'ADMIN'], 'a long enough secret\n');
    expect(created).toMatchObject({ code: 0 });
    expect(created.out).toMatch(/Created ADMIN ada@example\.com/);
    const [ada] = await users();
    expect(ada).toMatchObject({ email: 'ada@example.com', name: 'Ada', role: 'ADMIN', disabled: false });
    expect(ada!.passwordHash).not.toContain('a long enough secret');
    expect(await verifyPassword('a long enough secret', ada!.passwordHash)).toBe(true);

    const listed = await cli(['list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/^ada@example\.com\tADMIN\t"Ada"\tactive\t/m);
    expect(listed.out).not.toContain('scrypt');
  });

  it('refuses a second account for the same address in another spelling, a short password and a bad role, writing nothing', { timeout: 60_000 }, async () => {
    const again = await cli(['create', '--email', 'ADA@example.com', '--name', 'Ada two'], 'another long secret');
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/already exists/);
    const short = await cli(['create', '--email', 'bob@example.com', '--name', 'Bob'], 'short');
    expect(short.code).toBe(1);
    expect(short.out).toMatch(/at least 12 characters/);
    const role = await cli(['create', '--email', 'bob@example.com', '--name', 'Bob', '--role', 'ROOT'], 'a long enough secret');
    expect(role.code).toBe(1);
    expect(role.out).toMatch(/role must be one of VIEWER, EDITOR, ADMIN/);
    const bad = await cli(['create', '--email', 'not an address', '--name', 'Bob'], 'a long enough secret');
    expect(bad.out).toMatch(/must be an address/);
    expect((await users()).map((u) => u.email)).toEqual(['ada@example.com']);
    expect((await cli(['drop-everything'])).code).toBe(2);
  });

  it('resets a password and ends the user\'s sessions', { timeout: 60_000 }, async () => {
    const em = orm.em.fork() as EntityManager;
    const ada = await em.findOneOrFail(UserAccount, { email: 'ada@example.com' });
    em.create(UserSession, { tokenHash: 'a'.repeat(64), user: ada.id, expiresAt: new Date(Date.now() + 3_600_000) });
    await em.flush();
    const reset = await cli(['reset-password', '--email', 'Ada@example.com'], 'a brand new secret\n');
    expect(reset).toMatchObject({ code: 0 });
    const [after] = await users();
    expect(await verifyPassword('a brand new secret', after!.passwordHash)).toBe(true);
    expect(await verifyPassword('a long enough secret', after!.passwordHash)).toBe(false);
    expect(after!.passwordChangedAt.getTime()).toBeGreaterThan(ada.passwordChangedAt.getTime());
    expect(await orm.em.fork().count(UserSession, { user: ada.id })).toBe(0);
    const missing = await cli(['reset-password', '--email', 'nobody@example.com'], 'a brand new secret');
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/does not exist/);
  });
});
