import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceKind, WriteMode } from '../../core/db/entities/index.js';
import { ownerTag, SELF } from '../../jobs/sandbox/owner.js';
import { pipeFileValues } from '../../jobs/warehouse/files.js';
import { SqliteDb } from '../../jobs/warehouse/sqlite-db.js';
import { SqliteWarehouse, tableOf } from '../../jobs/warehouse/sqlite-warehouse.js';
import type { DatasourceSpec } from '../../jobs/warehouse/warehouse.js';

let dir: string;
let warehouse: SqliteWarehouse;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-sqlite-write-'));
  warehouse = await SqliteWarehouse.open(dir);
});
afterAll(async () => {
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

const storage = (): DatasourceSpec => ({ id: randomUUID(), kind: DatasourceKind.STORAGE });

/** The tables of warehouse.db, read on a connection of the test's own. */
async function tables(): Promise<string[]> {
  const db = await SqliteDb.open(join(dir, 'warehouse.db'));
  try {
    return (await db.all<{ name: string }>(`select name from sqlite_master where type = 'table' order by name`)).map((r) => r.name);
  } finally {
    await db.close();
  }
}
const stages = async () => (await tables()).filter((name) => name.startsWith('stage_'));

describe('SqliteWarehouse writes of rows', () => {
  it('keeps the rows in a stage table nobody reads until commit, which makes it the datasource', async () => {
    const target = storage();
    const write = await warehouse.openWrite(target, WriteMode.REPLACE);
    const written = write.writeValues(
      ['id', 'name'],
      [
        [1, 'a'],
        [2, 'b'],
      ],
    );
    const more = write.writeValues(['id', 'name', 'extra'], [[3, 'c', true]]); // taken before the first is stored
    await Promise.all([written, more]);
    expect(await stages()).toHaveLength(1);
    expect(await warehouse.stats(target)).toBeNull(); // not visible before commit
    const stats = await write.commit();
    expect(stats.rowCount).toBe(3);
    expect((await warehouse.page(target, 10)).rows).toEqual([
      { id: 1, name: 'a', extra: null },
      { id: 2, name: 'b', extra: null },
      { id: 3, name: 'c', extra: 1 },
    ]);
    expect(await stages()).toEqual([]);
    expect(await tables()).toContain(tableOf(target));
  });

  it('drops the stage table when a write is abandoned, cancelled mid-way, or appended from', async () => {
    const target = storage();
    const abandoned = await warehouse.openWrite(target, WriteMode.REPLACE);
    await abandoned.write([{ id: 1 }]);
    await abandoned.abort();
    expect(await stages()).toEqual([]);

    const cancel = new AbortController();
    const cancelled = await warehouse.openWrite(target, WriteMode.REPLACE, [], { signal: cancel.signal });
    await cancelled.write([{ id: 1 }]);
    cancel.abort();
    await expect(cancelled.write([{ id: 2 }])).rejects.toThrow();
    await cancelled.abort();
    expect(await stages()).toEqual([]);
    expect(await warehouse.stats(target)).toBeNull();

    const first = await warehouse.openWrite(target, WriteMode.APPEND);
    await first.write([{ id: 1 }]);
    await first.commit();
    const second = await warehouse.openWrite(target, WriteMode.UPSERT, ['id']);
    await second.write([{ id: 1, note: 'x' }, { id: 2 }]);
    expect((await second.commit()).rowCount).toBe(2);
    expect(await stages()).toEqual([]);
  });

  it('fails a file copy whose later batch the warehouse refuses, with no unhandled rejection while the next batch is read', async () => {
    // Keys differing only in case are one column to SQLite: adding "A" fails, on the second batch, while the third is being read.
    const path = join(dir, 'files', 'cases.jsonl');
    const lines = Array.from({ length: 15_000 }, (_, i) => JSON.stringify(i < 6_000 ? { a: i } : { a: i, A: i }));
    writeFileSync(path, lines.join('\n') + '\n');
    const unhandled: unknown[] = [];
    const listen = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', listen);
    try {
      const write = await warehouse.openWrite(storage(), WriteMode.REPLACE);
      await expect(pipeFileValues(path, { batchSize: 5_000 }, (columns, values) => write.writeValues(columns, values))).rejects.toThrow(/duplicate column/);
      await write.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(await stages()).toEqual([]);
    } finally {
      process.off('unhandledRejection', listen);
    }
  });

  it('refuses a write that would take rows and a query', async () => {
    const write = await warehouse.openWrite(storage(), WriteMode.REPLACE);
    await write.write([{ id: 1 }]);
    await expect(write.writeQuery(async () => ({ sql: 'select 1 as id', params: [] }))).rejects.toThrow(/rows or one query, not both/);
    await write.abort();
  });

  it("drops a dead process's stage tables when the warehouse opens, and keeps a live one's", async () => {
    const dead = `stage_${ownerTag({ pid: 2 ** 22 + 17, start: 1, host: SELF.host })}_${randomUUID().replaceAll('-', '')}`;
    const live = `stage_${ownerTag()}_${randomUUID().replaceAll('-', '')}`;
    const db = await SqliteDb.open(join(dir, 'warehouse.db'));
    await db.run(`create table "${dead}" (id)`);
    await db.run(`insert into "${dead}" values (1)`);
    await db.run(`create table "${live}" (id)`);
    await db.close();
    const again = await SqliteWarehouse.open(dir);
    await again.close();
    const left = await stages();
    expect(left).not.toContain(dead);
    expect(left).toContain(live);
  });
});
