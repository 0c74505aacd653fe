import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceKind, JoinType, WriteMode } from '../../core/db/entities/index.js';
import { SqliteWarehouse, MissingDataError, tableOf } from '../../jobs/warehouse/sqlite-warehouse.js';
import { warehouseContract } from './warehouse-contract.js';
import type { DatasourceSpec, Row } from '../../jobs/warehouse/warehouse.js';

let dir: string;
let warehouse: SqliteWarehouse;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tributary-warehouse-'));
  warehouse = await SqliteWarehouse.open(dir);
});
afterAll(async () => {
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
});

const storage = (): DatasourceSpec => ({ id: randomUUID(), kind: DatasourceKind.STORAGE });
const file = (name: string, content: string): DatasourceSpec => {
  const path = join(dir, 'files', name); // the default FILE_ROOTS directory, created by open()
  writeFileSync(path, content);
  return { id: randomUUID(), kind: DatasourceKind.FILE, path };
};

async function write(target: DatasourceSpec, mode: WriteMode, rows: Row[], keys?: string[]) {
  const w = await warehouse.openWrite(target, mode, keys);
  await w.write(rows);
  return w.commit();
}

async function allRows(ds: DatasourceSpec): Promise<Row[]> {
  const rows: Row[] = [];
  let after: string | null = null;
  do {
    const page = await warehouse.page(ds, 2, after);
    rows.push(...page.rows);
    after = page.endCursor;
  } while (after);
  return rows;
}

describe(SqliteWarehouse.name, () => {
  it('replaces, appends and upserts, and reports columns and row count', async () => {
    const t = storage();
    expect(await warehouse.stats(t)).toBeNull();
    expect(await write(t, WriteMode.REPLACE, [{ id: 1, name: 'a' }, { id: 2, name: 'b' }])).toEqual({
      columns: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'text' }],
      rowCount: 2,
    });
    await write(t, WriteMode.APPEND, [{ id: 3, name: 'c', score: 1.5 }]);
    expect(await allRows(t)).toEqual([{ id: 1, name: 'a', score: null }, { id: 2, name: 'b', score: null }, { id: 3, name: 'c', score: 1.5 }]);
    const stats = await write(t, WriteMode.UPSERT, [{ id: 2, name: 'B' }, { id: 4, name: 'd' }], ['id']);
    expect(stats.rowCount).toBe(4);
    expect(await allRows(t)).toEqual([
      { id: 1, name: 'a', score: null },
      { id: 2, name: 'B', score: null },
      { id: 3, name: 'c', score: 1.5 },
      { id: 4, name: 'd', score: null },
    ]);
    await write(t, WriteMode.REPLACE, [{ x: true, y: { nested: [1] } }]);
    expect(await allRows(t)).toEqual([{ x: 1, y: '{"nested":[1]}' }]);
  });

  it('leaves the old data intact and visible until commit, and after an abort', async () => {
    const t = storage();
    await write(t, WriteMode.REPLACE, [{ id: 1 }, { id: 2 }]);
    const w = await warehouse.openWrite(t, WriteMode.REPLACE);
    await w.write([{ id: 10 }]);
    expect(await allRows(t)).toEqual([{ id: 1 }, { id: 2 }]);
    await w.abort();
    expect(await allRows(t)).toEqual([{ id: 1 }, { id: 2 }]);
    expect(readdirSync(join(dir, 'staging'))).toEqual([]);
  });

  it('refuses to upsert on keys the existing rows duplicate, changing nothing', async () => {
    const t = storage();
    await write(t, WriteMode.REPLACE, [{ id: 1 }, { id: 1 }]);
    await expect(write(t, WriteMode.UPSERT, [{ id: 1 }], ['id'])).rejects.toThrow(/duplicate keys/);
    expect(await allRows(t)).toEqual([{ id: 1 }, { id: 1 }]);
  });

  it('reads CSV and JSON-lines files by pages, numbers as numbers and "007" as text', async () => {
    const csv = file('people.csv', '\ufeffid,zip,name\n1,007,"Smith, J"\n2,,Ann\n3,75001,Bob\n');
    expect(await allRows(csv)).toEqual([
      { id: 1, zip: '007', name: 'Smith, J' },
      { id: 2, zip: null, name: 'Ann' },
      { id: 3, zip: 75001, name: 'Bob' },
    ]);
    const jsonl = file('events.jsonl', '{"a":1}\n\n{"a":2,"b":"x"}\n');
    expect(await allRows(jsonl)).toEqual([{ a: 1 }, { a: 2, b: 'x' }]);
    expect(await warehouse.stats(csv)).toEqual({ columns: [{ name: 'id', type: 'integer' }, { name: 'zip', type: 'text' }, { name: 'name', type: 'text' }], rowCount: 3 });
    const broken = file('broken.jsonl', '{"a":1}\nnot json\n');
    await expect(allRows(broken)).rejects.toThrow(/line 2: not valid JSON/);
  });

  it('joins two sources (a table and a file), renaming clashing columns', async () => {
    const orders = storage();
    await write(orders, WriteMode.REPLACE, [{ id: 1, customer: 10 }, { id: 2, customer: 20 }, { id: 3, customer: 99 }]);
    const customers = file('customers.csv', 'id,name\n10,Ann\n20,Bob\n');
    const inner: DatasourceSpec = { id: randomUUID(), kind: DatasourceKind.JOIN, join: { left: orders, right: customers, leftKey: 'customer', rightKey: 'id', type: JoinType.INNER } };
    expect(await allRows(inner)).toEqual([
      { id: 1, customer: 10, id_right: 10, name: 'Ann' },
      { id: 2, customer: 20, id_right: 20, name: 'Bob' },
    ]);
    const left: DatasourceSpec = { ...inner, id: randomUUID(), join: { ...inner.join!, type: JoinType.LEFT } };
    expect((await warehouse.stats(left))!.rowCount).toBe(3);
    const missing: DatasourceSpec = { ...inner, join: { ...inner.join!, left: storage() } };
    await expect(warehouse.stats(missing)).rejects.toBeInstanceOf(MissingDataError);
  });

  it('writes a query over its inputs straight into the target', async () => {
    const source = storage();
    await write(source, WriteMode.REPLACE, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    const target = storage();
    const w = await warehouse.openWrite(target, WriteMode.REPLACE);
    await w.writeQuery(async ({ relationOf }) => ({ sql: `select n * 10 as m from ${await relationOf(source)} where n > ?`, params: [1] }));
    expect(w.rowsWritten).toBe(2);
    expect((await w.commit()).rowCount).toBe(2);
    expect(await allRows(target)).toEqual([{ m: 20 }, { m: 30 }]);
  });
});

describe('readFileRows', () => {
  it('closes the file when a reader stops early', async () => {
    const { readFileRows } = await import('../../jobs/warehouse/files.js');
    const { readdirSync: list } = await import('node:fs');
    const openFiles = () => list('/proc/self/fd').length;
    const csv = file('early.csv', 'a\n' + Array.from({ length: 5000 }, (_, i) => i).join('\n') + '\n');
    const jsonl = file('early.jsonl', Array.from({ length: 5000 }, (_, i) => `{"a":${i}}`).join('\n') + '\n');
    const before = openFiles();
    for (let i = 0; i < 5; i++) {
      for (const ds of [csv, jsonl]) {
        for await (const batch of readFileRows(ds.path!, { batchSize: 10 })) {
          expect(batch).toHaveLength(10);
          break;
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(openFiles()).toBeLessThanOrEqual(before);
  });
});

warehouseContract('SqliteWarehouse', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tributary-contract-'));
  const queryTimeoutMs = 1_500;
  const contract = await SqliteWarehouse.open(root, { queryTimeoutMs });
  return {
    warehouse: contract,
    filesDir: join(root, 'files'),
    queryTimeoutMs,
    qualifiedTable: (ds) => `main.${tableOf(ds)}`,
    close: async () => {
      await contract.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}, [
  { name: 'the schema table', sql: 'SELECT * FROM sqlite_master, input' },
  { name: 'a pragma table function', sql: 'SELECT * FROM pragma_database_list /* input */' },
  { name: 'json_each', sql: `SELECT * FROM input, json_each('[1,2]')` },
  { name: 'load_extension', sql: `SELECT load_extension('/tmp/x') FROM input` },
]);
