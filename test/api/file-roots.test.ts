import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datasource } from '../../core/db/entities/index.js';
import { uniqueName, type Factories, type Ref } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';
import { TEST_BACKEND } from '../helpers/postgres.js';

/** Tributary's own database files in DATA_DIR: the SQLite ones (on PostgreSQL there are none to attack). */
const OWN_FILES = TEST_BACKEND === 'sqlite';
import { finished, runNow, schedulerWithFactories } from '../scheduler/helpers.js';

/**
 * Attack 5: FILE datasources read any file. Paths are confined to FILE_ROOTS (here the default,
 * DATA_DIR/files): refused with BAD_USER_INPUT at `path` when saved, and refused again, with a
 * clear error and no byte of the file, whenever they are read (rows, previews, runs) — a path
 * saved before the rule, or a file swapped for a symlink since, is caught then.
 */

const CREATE = `mutation($input: CreateDatasourceInput!) { createDatasource(input: $input) { id path } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateDatasourceInput!) { updateDatasource(id: $id, input: $input) { id path } }`;
const BY_NAME = `query($name: String!) { datasource(name: $name) { id } }`;
const ROWS = `query($id: ID!) { rows(datasourceId: $id, first: 100) { columns nodes } }`;
const PREVIEW = `query($id: ID!) { previewAutomation(id: $id, sampleSize: 100) { inputs { rows } outputs { rows } } }`;

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await schedulerWithFactories()));
afterAll(() => t?.close());

/** Paths that must never be read, as an attacker would type them. */
function outsidePaths(): [string, string][] {
  return [
    ['/etc/passwd', '/etc/passwd'],
    ...(OWN_FILES
      ? ([
          ['the metadata database in DATA_DIR', join(t.dataDir, 'tributary.db')],
          ['the warehouse', join(t.dataDir, 'warehouse.db')],
        ] as [string, string][])
      : []),
    ['a relative path climbing out', '../../../../etc/hostname'],
    ['a path climbing out of the root', join(t.filesDir, '..', 'tributary.db')],
    ['/dev/zero', '/dev/zero'],
    ['the file system root', '/'],
  ];
}

/** What a leak of those files would look like in an answer. */
const LEAK = /root:|SQLite format|x:0:0/;

describe('FILE datasources are confined to FILE_ROOTS when saved', () => {
  it('refuses paths outside the roots, DATA_DIR files and non-files with BAD_USER_INPUT at path, and saves nothing', async () => {
    for (const [what, path] of outsidePaths()) {
      const name = uniqueName('file');
      const error = await t.fail(CREATE, { input: { name, kind: 'FILE', path } });
      expect(error.extensions, what).toMatchObject({ code: 'BAD_USER_INPUT', field: 'path' });
      expect(error.message, what).toMatch(/outside the directories FILE datasources may read|Tributary's own files|not a regular file/);
      expect((await t.ok(BY_NAME, { name })).datasource, what).toBeNull();
    }
  });

  it('refuses a symlink leading out, a directory and a FIFO inside the root', async () => {
    const link = join(t.filesDir, `${uniqueName('link')}.csv`);
    symlinkSync('/etc/passwd', link);
    const dir = join(t.filesDir, uniqueName('dir'));
    mkdirSync(dir);
    const fifo = join(t.filesDir, `${uniqueName('fifo')}.csv`);
    execFileSync('mkfifo', [fifo]);
    const cases: [string, RegExp][] = [
      [link, /resolves to \/etc\/passwd.*outside/],
      [dir, /not a regular file/],
      [fifo, /not a regular file/],
    ];
    if (OWN_FILES) {
      const dbLink = join(t.filesDir, `${uniqueName('db')}.csv`);
      symlinkSync(join(t.dataDir, 'tributary.db'), dbLink);
      // A hard link is the same file under another name: the database's inode is refused when saved too.
      const keyLink = join(t.filesDir, `${uniqueName('key')}.csv`);
      linkSync(join(t.dataDir, 'tributary.db'), keyLink);
      cases.push([dbLink, /Tributary's own files|outside/], [keyLink, /Tributary's own files/]);
    }
    for (const [path, reason] of cases) {
      const error = await t.fail(CREATE, { input: { name: uniqueName('file'), kind: 'FILE', path } });
      expect(error.extensions, path).toMatchObject({ code: 'BAD_USER_INPUT', field: 'path' });
      expect(error.message, path).toMatch(reason);
    }
  });

  it('takes relative paths from the first root, accepts a file that is not there yet, and refuses an update leading out', async () => {
    const name = uniqueName('file');
    const { createDatasource } = await t.ok(CREATE, { input: { name, kind: 'FILE', path: 'drops/later.csv' } });
    expect(createDatasource.path).toBe(join(t.filesDir, 'drops/later.csv'));
    const error = await t.fail(UPDATE, { id: createDatasource.id, input: { path: '/etc/passwd' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'path' });
    expect((await t.ok(`query($id: ID!) { datasource(id: $id) { path } }`, { id: createDatasource.id })).datasource.path).toBe(join(t.filesDir, 'drops/later.csv'));
    // Not there yet: reading says so clearly.
    const missing = await t.fail(ROWS, { id: createDatasource.id });
    expect(missing.extensions?.code).toBe('DATA_UNAVAILABLE');
    expect(missing.message).toMatch(/does not exist/);
  });
});

describe('FILE datasources are checked again whenever they are read', () => {
  /** A FILE datasource whose stored path is set behind the API's back, as a datasource saved before the rule would be. */
  async function storedAt(path: string): Promise<Ref> {
    const ds = await f.file({ path: join(t.filesDir, `${uniqueName('legit')}.csv`) });
    await (t.server.orm.em.fork() as EntityManager).nativeUpdate(Datasource, { id: ds.id }, { path });
    return ds;
  }

  it('refuses rows, previews and runs of a stored path outside the roots, with a clear coded error and no byte of the file', async () => {
    for (const [what, path] of outsidePaths()) {
      const ds = await storedAt(path);
      const rows = await t.gql(ROWS, { id: ds.id });
      expect(rows.errors?.[0]?.extensions, what).toMatchObject({ code: 'DATA_UNAVAILABLE', reason: 'FILE_REFUSED' });
      expect(rows.errors?.[0]?.message, what).toMatch(/is not read: .*(outside the directories|Tributary's own files|not a regular file)/);
      expect(JSON.stringify(rows), what).not.toMatch(LEAK);

      const output = await f.storage();
      const etl = await f.etl(ds, output);
      const preview = await t.gql(PREVIEW, { id: etl.id });
      expect(preview.errors?.[0]?.extensions, what).toMatchObject({ code: 'PREVIEW_FAILED', reason: 'FILE_REFUSED' });
      expect(JSON.stringify(preview), what).not.toMatch(LEAK);

      const run = await finished(t, (await runNow(t, etl.id)).id);
      expect(run.status, what).toBe('FAILED');
      expect(run.error, what).toMatch(/the input file .*(outside the directories|Tributary's own files|not a regular file)/);
      expect((await t.ok(ROWS, { id: output.id })).rows.nodes, what).toEqual([]);
    }
  });

  it('refuses a file swapped for a symlink out, or for a FIFO, after it was saved', async () => {
    const path = join(t.filesDir, `${uniqueName('swap')}.csv`);
    writeFileSync(path, 'id\n1\n');
    const ds = await f.file({ path });
    expect((await t.ok(ROWS, { id: ds.id })).rows.nodes).toEqual([{ id: 1 }]);

    rmSync(path);
    symlinkSync('/etc/passwd', path);
    const swapped = await t.gql(ROWS, { id: ds.id });
    expect(swapped.errors?.[0]?.extensions).toMatchObject({ code: 'DATA_UNAVAILABLE', reason: 'FILE_REFUSED' });
    expect(swapped.errors?.[0]?.message).toMatch(/resolves to \/etc\/passwd.*outside/);
    expect(JSON.stringify(swapped)).not.toMatch(LEAK);

    rmSync(path);
    execFileSync('mkfifo', [path]);
    const started = Date.now();
    const fifo = await t.gql(ROWS, { id: ds.id });
    expect(fifo.errors?.[0]?.extensions).toMatchObject({ code: 'DATA_UNAVAILABLE', reason: 'FILE_REFUSED' });
    expect(fifo.errors?.[0]?.message).toMatch(/not a regular file/);
    expect(Date.now() - started).toBeLessThan(2_000); // opening the FIFO did not wait for a writer
  });

  it('leaves no file descriptor open after refusing or reading', async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const path = join(t.filesDir, `${uniqueName('fd')}.csv`);
    writeFileSync(path, 'id\n1\n2\n');
    const ok = await f.file({ path });
    const refused = await storedAt('/etc/passwd');
    await t.ok(ROWS, { id: ok.id });
    const before = openFiles();
    for (let i = 0; i < 10; i++) {
      await t.ok(ROWS, { id: ok.id });
      await t.gql(ROWS, { id: refused.id });
    }
    expect(openFiles()).toBeLessThanOrEqual(before + 2);
  });
});
