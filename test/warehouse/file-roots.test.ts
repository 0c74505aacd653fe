import { linkSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceKind } from '../../core/db/entities/index.js';
import { FileAccessError, FileRoots } from '../../jobs/warehouse/file-roots.js';
import { readFileRows } from '../../jobs/warehouse/files.js';
import { SqliteWarehouse } from '../../jobs/warehouse/sqlite-warehouse.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-roots-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh DATA_DIR with its own files (a database, a key, a staging file) and a FILE root inside it. */
function dataDir(): string {
  const data = join(dir, randomUUID());
  mkdirSync(join(data, 'staging'), { recursive: true });
  mkdirSync(join(data, 'files'), { recursive: true });
  writeFileSync(join(data, 'tributary.db'), 'SQLite format 3\0metadata');
  writeFileSync(join(data, 'secret.key'), 'key');
  writeFileSync(join(data, 'staging', 'run.db'), 'SQLite format 3\0staged rows');
  return data;
}

async function refusal(work: Promise<unknown>): Promise<FileAccessError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FileAccessError);
  return error as FileAccessError;
}

describe(FileRoots.name, () => {
  it('never reads DATA_DIR files, even when an admin makes the staging area or DATA_DIR itself a root', async () => {
    const data = dataDir();
    const staging = new FileRoots({ roots: [join(data, 'staging'), join(data, 'files')], dataDir: data });
    expect((await refusal(staging.check(join(data, 'staging', 'run.db')))).reason).toBe('PROTECTED');
    expect((await refusal(staging.open(join(data, 'staging', 'run.db')))).reason).toBe('PROTECTED');
    expect(() => new FileRoots({ roots: [data], dataDir: data })).toThrow(/holds DATA_DIR/);
    expect(() => new FileRoots({ roots: [dir], dataDir: data })).toThrow(/holds DATA_DIR/);
  });

  it('refuses a hard link to a database placed in a root (same inode), and extra protected files with their -wal', async () => {
    const data = dataDir();
    const roots = new FileRoots({ dataDir: data, protectedFiles: [join(data, 'files', 'meta.db')] });
    linkSync(join(data, 'tributary.db'), join(data, 'files', 'innocent.csv'));
    expect((await refusal(roots.open(join(data, 'files', 'innocent.csv')))).reason).toBe('PROTECTED');
    writeFileSync(join(data, 'files', 'meta.db-wal'), 'x');
    expect((await refusal(roots.check(join(data, 'files', 'meta.db-wal')))).reason).toBe('PROTECTED');
    expect((await refusal(roots.check(join(data, 'files', 'meta.db')))).reason).toBe('PROTECTED');
  });

  it('resolves symlinks and ".." by the real path, relative paths from the first root, and reads through the opened descriptor', async () => {
    const data = dataDir();
    const roots = new FileRoots({ dataDir: data });
    const root = roots.roots[0]!;
    writeFileSync(join(root, 'ok.csv'), 'a\n1\n');
    symlinkSync(join(root, 'ok.csv'), join(root, 'alias.csv')); // a link inside the root is fine
    symlinkSync(data, join(root, 'up'));
    expect(await roots.check('ok.csv')).toBe(join(root, 'ok.csv'));
    expect(await roots.check('alias.csv')).toBe(join(root, 'alias.csv'));
    // Both lead to DATA_DIR/secret.key, outside the root once resolved.
    expect((await refusal(roots.check('up/secret.key'))).reason).toBe('OUTSIDE_ROOTS');
    expect((await refusal(roots.open('up/secret.key'))).reason).toBe('OUTSIDE_ROOTS');
    expect((await refusal(roots.check('../secret.key'))).reason).toBe('OUTSIDE_ROOTS');
    expect((await refusal(roots.check('../../../../../../etc/hostname'))).reason).toBe('OUTSIDE_ROOTS');
    expect((await refusal(roots.open('nothing-yet.csv'))).reason).toBe('MISSING');
    // A missing file outside the roots is refused as outside, not reported missing: reads are no oracle for what exists elsewhere.
    for (const probe of ['/etc/no-such-file', '/etc/passwd', '../no-such-file', '/nonexistent/dir/x.csv']) {
      expect((await refusal(roots.open(probe))).reason, probe).toBe('OUTSIDE_ROOTS');
    }
    expect(await roots.check('nothing-yet.csv')).toBe(join(root, 'nothing-yet.csv'));

    const handle = await roots.open('alias.csv');
    const rows = [];
    for await (const batch of readFileRows('alias.csv', { handle })) rows.push(...batch);
    expect(rows).toEqual([{ a: 1 }]);
    await handle.close(); // already closed by the reader: closing again is harmless
  });
});

describe('reading a FILE datasource', () => {
  it('reads JSON lines with CRLF and no final newline, as before', async () => {
    const path = join(dir, 'lines.jsonl');
    writeFileSync(path, '{"a":1}\r\n\r\n{"a":"é"}');
    const rows = [];
    for await (const batch of readFileRows(path)) rows.push(...batch);
    expect(rows).toEqual([{ a: 1 }, { a: 'é' }]);
  });

  it('stops reading a big file as soon as the signal aborts, and closes it', async () => {
    const data = dataDir();
    const warehouse = await SqliteWarehouse.open(data);
    try {
      const path = join(warehouse.files.roots[0]!, 'big.csv');
      writeFileSync(path, 'n,text\n' + Array.from({ length: 400_000 }, (_, i) => `${i},row number ${i}`).join('\n') + '\n');
      const ds = { id: randomUUID(), kind: DatasourceKind.FILE, path };
      const openFiles = () => readdirSync('/proc/self/fd').length;
      const before = openFiles();
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(new Error('client left')), 50);
      // The last page: without the signal, the whole file would be parsed first.
      const after = Buffer.from('399990').toString('base64url');
      await expect(warehouse.page(ds, 5, after, { signal: controller.signal })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(openFiles()).toBeLessThanOrEqual(before);
      expect((await warehouse.page(ds, 2, after)).rows).toEqual([{ n: 399990, text: 'row number 399990' }, { n: 399991, text: 'row number 399991' }]);
    } finally {
      await warehouse.close();
    }
  });
});
