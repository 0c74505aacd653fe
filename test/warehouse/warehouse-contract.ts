import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceKind, ErrorPolicy, ErrorRecordFormat, JoinType, WriteMode } from '../../core/db/entities/index.js';
import type { BadRecord } from '../../core/rows.js';
import { ErrorRecords } from '../../jobs/runners/error-records.js';
import { compileTransform, parseTransform } from '../../jobs/transform/pipeline.js';
import { FileRowError } from '../../jobs/warehouse/files.js';
import { AnswerTooLargeError, QueryTimeoutError } from '../../jobs/warehouse/limits.js';
import { ReadScopeError } from '../../jobs/warehouse/read-scope.js';
import { MissingDataError, tableOf, type DatasourceSpec, type QueryBuilder, type Row, type Warehouse } from '../../jobs/warehouse/warehouse.js';

/** A warehouse under test: `filesDir` is inside its FILE_ROOTS; `queryTimeoutMs` its QUERY_TIMEOUT_MS. */
export interface ContractWarehouse {
  warehouse: Warehouse;
  filesDir: string;
  queryTimeoutMs: number;
  /** How a query names another datasource's table directly (what an attacker would write). */
  qualifiedTable(ds: { id: string }): string;
  close(): Promise<void>;
}

/** One attack: SQL given as a `{sql}` transform over `input`; `$OTHER` is replaced by another datasource's table. */
export interface Attack {
  name: string;
  sql: string;
  /** Checked after the refusal: true when the attack left no trace. */
  noEffect?: () => Promise<boolean>;
}

/**
 * The behaviour every warehouse must have, registered for one implementation: `open` is called
 * once (beforeAll) and must give a fresh, empty warehouse; `attacks` are the dialect's own
 * read-scope attacks, each of which must be refused with a ReadScopeError.
 */
export function warehouseContract(name: string, open: () => Promise<ContractWarehouse>, attacks: Attack[] = []): void {
  describe(`${name}: the Warehouse contract`, () => {
    let h: ContractWarehouse;
    let w: Warehouse;
    beforeAll(async () => {
      h = await open();
      w = h.warehouse;
    }, 60_000);
    afterAll(async () => {
      await h?.close();
    });

    const storage = (): DatasourceSpec => ({ id: randomUUID(), kind: DatasourceKind.STORAGE });
    const file = (fileName: string, content: string): DatasourceSpec => {
      const path = join(h.filesDir, `${randomUUID()}-${fileName}`);
      writeFileSync(path, content);
      return { id: randomUUID(), kind: DatasourceKind.FILE, path };
    };
    const joined = (left: DatasourceSpec, right: DatasourceSpec, leftKey: string, rightKey: string, type = JoinType.INNER): DatasourceSpec => ({
      id: randomUUID(),
      kind: DatasourceKind.JOIN,
      join: { left, right, leftKey, rightKey, type },
    });
    async function write(target: DatasourceSpec, mode: WriteMode, rows: Row[], keys?: string[]) {
      const out = await w.openWrite(target, mode, keys);
      await out.write(rows);
      return out.commit();
    }
    async function allRows(ds: DatasourceSpec, pageSize = 2): Promise<Row[]> {
      const rows: Row[] = [];
      let after: string | null = null;
      do {
        const page = await w.page(ds, pageSize, after);
        rows.push(...page.rows);
        after = page.endCursor;
      } while (after);
      return rows;
    }
    /** Runs a transform (pipeline or SQL) over `input` as a preview, compiled for the warehouse's dialect. */
    const transform = (input: DatasourceSpec, json: unknown, onBadRecord?: (bad: BadRecord) => void): QueryBuilder => async (inputs) => {
      const relation = await inputs.relationOf(input, { onBadRecord });
      const columns = await inputs.columnsOf(relation);
      return compileTransform(parseTransform(json, columns), relation, columns, inputs.dialect);
    };
    const sqlOver = (input: DatasourceSpec, sql: string): QueryBuilder => async (inputs) => {
      const relation = await inputs.relationOf(input);
      return compileTransform(parseTransform({ sql }), relation, undefined, inputs.dialect);
    };

    describe('STORAGE writes, pages and stats', () => {
      it('pages in row order with cursors, and answers an empty page and null stats before any write', async () => {
        const t = storage();
        expect(await w.stats(t)).toBeNull();
        expect(await w.page(t, 10)).toEqual({ columns: [], rows: [], endCursor: null });
        const rows = Array.from({ length: 7 }, (_, i) => ({ n: 7 - i, label: `row ${i}` }));
        await write(t, WriteMode.REPLACE, rows);
        const first = await w.page(t, 3);
        expect(first.columns).toEqual(['n', 'label']);
        expect(first.rows).toEqual(rows.slice(0, 3));
        expect(first.endCursor).not.toBeNull();
        const second = await w.page(t, 3, first.endCursor);
        expect(second.rows).toEqual(rows.slice(3, 6));
        const last = await w.page(t, 3, second.endCursor);
        expect(last.rows).toEqual(rows.slice(6));
        expect(last.endCursor).toBeNull();
        expect(await allRows(t, 4)).toEqual(rows);
      });

      it('reports columns with the type of their values and the row count', async () => {
        const t = storage();
        const stats = await write(t, WriteMode.REPLACE, [{ id: 1, name: 'a', score: 1.5, none: null }, { id: 2, name: null, score: 2.25, none: null }]);
        expect(stats).toEqual({
          columns: [{ name: 'id', type: 'integer' }, { name: 'name', type: 'text' }, { name: 'score', type: 'real' }, { name: 'none', type: 'null' }],
          rowCount: 2,
        });
        expect(await w.stats(t)).toEqual(stats);
      });

      it('replaces, appends with growing columns and upserts on keys', async () => {
        const t = storage();
        await write(t, WriteMode.REPLACE, [{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
        await write(t, WriteMode.APPEND, [{ id: 3, name: 'c', score: 1.5 }]);
        expect(await allRows(t)).toEqual([{ id: 1, name: 'a', score: null }, { id: 2, name: 'b', score: null }, { id: 3, name: 'c', score: 1.5 }]);
        const stats = await write(t, WriteMode.UPSERT, [{ id: 2, name: 'B' }, { id: 4, name: 'd', extra: 'x' }], ['id']);
        expect(stats.rowCount).toBe(4);
        expect(await allRows(t)).toEqual([
          { id: 1, name: 'a', score: null, extra: null },
          { id: 2, name: 'B', score: null, extra: null },
          { id: 3, name: 'c', score: 1.5, extra: null },
          { id: 4, name: 'd', score: null, extra: 'x' },
        ]);
        await write(t, WriteMode.REPLACE, [{ x: true, y: { nested: [1] }, z: 'only' }]);
        expect(await allRows(t)).toEqual([{ x: 1, y: '{"nested":[1]}', z: 'only' }]);
      });

      it('upserts on two keys, the last of staged rows sharing a key winning; rows with a null key are all inserted', async () => {
        const t = storage();
        await write(t, WriteMode.REPLACE, [{ a: 1, b: 'x', v: 'old' }]);
        await write(t, WriteMode.UPSERT, [{ a: 1, b: 'x', v: 'first' }, { a: 1, b: 'y', v: 'new' }, { a: 1, b: 'x', v: 'second' }, { a: null, b: 'n', v: 'n1' }, { a: null, b: 'n', v: 'n2' }], ['a', 'b']);
        const rows = await allRows(t, 10);
        expect(rows).toHaveLength(4);
        expect(rows[0]).toEqual({ a: 1, b: 'x', v: 'second' });
        expect(rows.filter((r) => r.a === null).map((r) => r.v).sort()).toEqual(['n1', 'n2']);
      });

      it('refuses to upsert without the key column, or on keys the existing rows duplicate, changing nothing', async () => {
        const t = storage();
        await write(t, WriteMode.REPLACE, [{ id: 1 }, { id: 1 }]);
        await expect(write(t, WriteMode.UPSERT, [{ id: 1 }], ['id'])).rejects.toThrow(/duplicate keys/);
        await expect(write(t, WriteMode.UPSERT, [{ other: 1 }], ['id'])).rejects.toThrow(/no key column "id"/);
        expect(await allRows(t)).toEqual([{ id: 1 }, { id: 1 }]);
        const fresh = storage();
        await expect(write(fresh, WriteMode.UPSERT, [{ id: 5 }, { id: 5 }], ['id'])).rejects.toThrow(/duplicate keys/);
        expect(await w.stats(fresh)).toBeNull();
      });

      it('widens a column whose values change type, keeping every value', async () => {
        const t = storage();
        await write(t, WriteMode.REPLACE, [{ v: 1 }]);
        await write(t, WriteMode.APPEND, [{ v: 2.5 }]);
        expect((await allRows(t)).map((r) => r.v)).toEqual([1, 2.5]);
        const big = storage();
        const out = await w.openWrite(big, WriteMode.REPLACE);
        await out.write([{ k: 1, v: null }]);
        await out.write([{ k: 2, v: 7 }]);
        await out.write([{ k: 3, v: 0.5 }]);
        await out.commit();
        expect(await allRows(big, 10)).toEqual([{ k: 1, v: null }, { k: 2, v: 7 }, { k: 3, v: 0.5 }]);
      });

      it('commits writes to one table that come at once, the first ones creating it, none lost', async () => {
        // Four: on SQLite a write waiting for the lock holds one of libuv's threads (4 here; see UV_THREADPOOL_SIZE).
        const t = storage();
        const writes = await Promise.all(Array.from({ length: 4 }, () => w.openWrite(t, WriteMode.APPEND)));
        await Promise.all(writes.map((out, i) => out.write(i % 2 ? [{ n: i }] : [{ n: i, extra: `x${i}` }])));
        await Promise.all(writes.map((out) => out.commit()));
        const rows = await allRows(t, 100);
        expect(rows.map((r) => r.n).sort()).toEqual([0, 1, 2, 3]);
        expect(rows.filter((r) => r.extra !== null).map((r) => r.extra).sort()).toEqual(['x0', 'x2']);
      });

      it('keeps staged rows invisible until commit, and the old data after an abort', async () => {
        const t = storage();
        await write(t, WriteMode.REPLACE, [{ id: 1 }, { id: 2 }]);
        const out = await w.openWrite(t, WriteMode.REPLACE);
        await out.write([{ id: 10 }]);
        expect(out.rowsWritten).toBe(1);
        expect(await allRows(t)).toEqual([{ id: 1 }, { id: 2 }]);
        expect((await w.stats(t))!.rowCount).toBe(2);
        await out.abort();
        expect(await allRows(t)).toEqual([{ id: 1 }, { id: 2 }]);
        const appending = await w.openWrite(t, WriteMode.APPEND);
        await appending.write([{ id: 3 }]);
        const fresh = storage();
        const other = await w.openWrite(fresh, WriteMode.REPLACE);
        await other.write([{ id: 99 }]);
        expect(await w.stats(fresh)).toBeNull();
        expect(await allRows(t)).toEqual([{ id: 1 }, { id: 2 }]);
        await appending.commit();
        expect(await allRows(t)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
        await other.commit();
        expect(await allRows(fresh)).toEqual([{ id: 99 }]);
      });

      it('ends a page early at maxBytes (the cursor continuing there) and refuses a single row over it', async () => {
        const t = storage();
        const rows = Array.from({ length: 5 }, (_, i) => ({ i, text: 'x'.repeat(100) }));
        await write(t, WriteMode.REPLACE, rows);
        const page = await w.page(t, 5, null, { maxBytes: 300 });
        expect(page.rows.length).toBeGreaterThan(0);
        expect(page.rows.length).toBeLessThan(5);
        expect(page.rows).toEqual(rows.slice(0, page.rows.length));
        const rest = await w.page(t, 5, page.endCursor, {});
        expect(rest.rows).toEqual(rows.slice(page.rows.length));
        await expect(w.page(t, 5, null, { maxBytes: 50 })).rejects.toBeInstanceOf(AnswerTooLargeError);
      });

      it('drops a table', async () => {
        const t = storage();
        await write(t, WriteMode.REPLACE, [{ id: 1 }]);
        await w.drop(t);
        expect(await w.stats(t)).toBeNull();
        expect((await w.page(t, 5)).rows).toEqual([]);
        await w.drop(t); // twice is fine
      });
    });

    describe('FILE datasources', () => {
      it('reads CSV and JSON lines by pages: numbers as numbers, "007" as text, empty fields as null', async () => {
        const csv = file('people.csv', '\ufeffid,zip,name\n1,007,"Smith, J"\n2,,Ann\n3,A75,Bob\n');
        expect(await allRows(csv)).toEqual([
          { id: 1, zip: '007', name: 'Smith, J' },
          { id: 2, zip: null, name: 'Ann' },
          { id: 3, zip: 'A75', name: 'Bob' },
        ]);
        expect(await w.stats(csv)).toEqual({ columns: [{ name: 'id', type: 'integer' }, { name: 'zip', type: 'text' }, { name: 'name', type: 'text' }], rowCount: 3 });
        const jsonl = file('events.jsonl', '{"a":1}\n\n{"a":2,"b":"x"}\n');
        expect(await allRows(jsonl)).toEqual([{ a: 1 }, { a: 2, b: 'x' }]);
        expect((await w.query(async ({ relationOf }) => ({ sql: `select * from ${await relationOf(jsonl)}`, params: [] }), 10)).rows).toEqual([{ a: 1, b: null }, { a: 2, b: 'x' }]);
        const broken = file('broken.jsonl', '{"a":1}\nnot json\n');
        await expect(allRows(broken)).rejects.toThrow(/line 2: not valid JSON/);
        await expect(w.stats(broken)).rejects.toBeInstanceOf(FileRowError);
      });

      it('skips bad records through onBadRecord, and the error policies keep or discard them', async () => {
        const csv = file('bad.csv', 'id,name\n1,a\n2,b,extra\n3,c\n4\n');
        const bad: unknown[] = [];
        const preview = await w.query(transform(csv, {}, (b) => bad.push(b)), 10);
        expect(preview.rows).toEqual([{ id: 1, name: 'a' }, { id: 3, name: 'c' }]);
        expect(bad.length).toBeGreaterThanOrEqual(1);

        const errors = storage();
        const records = new ErrorRecords({ policy: ErrorPolicy.TO_DATASOURCE, format: ErrorRecordFormat.ORIGINAL_RECORD, datasource: errors });
        const target = storage();
        const out = await w.openWrite(target, WriteMode.REPLACE);
        await out.writeQuery(transform(csv, { steps: [{ op: 'filter', where: 'id > 0' }] }, records.handler(csv.path!)));
        expect(out.rowsWritten).toBe(2);
        await out.commit();
        expect(await allRows(target)).toEqual([{ id: 1, name: 'a' }, { id: 3, name: 'c' }]);
        expect(records.count).toBe(bad.length);
        const flushed = await records.flush(w);
        expect(flushed!.stats.rowCount).toBe(bad.length);
        const kept = await allRows(errors, 10);
        expect(kept[0]).toMatchObject({ source: csv.path, line: 3, record: '2,b,extra' });

        const discard = new ErrorRecords({ policy: ErrorPolicy.DISCARD, format: ErrorRecordFormat.ORIGINAL_RECORD, datasource: null });
        const again = await w.openWrite(target, WriteMode.APPEND);
        await again.writeQuery(transform(csv, {}, discard.handler(csv.path!)));
        await again.commit();
        expect(discard.count).toBe(bad.length);
        expect((await w.stats(target))!.rowCount).toBe(4);

        const failing = await w.openWrite(target, WriteMode.REPLACE);
        await expect(failing.writeQuery(transform(csv, {}))).rejects.toBeInstanceOf(FileRowError);
        await failing.abort();
        expect((await w.stats(target))!.rowCount).toBe(4);
      });

      it('reads only the first rows of a file for a preview sample', async () => {
        const big = file('big.csv', 'n\n' + Array.from({ length: 1000 }, (_, i) => i).join('\n') + '\n');
        const sample = await w.query(async ({ relationOf, countOf }) => {
          const relation = await relationOf(big, { firstRows: 10 });
          expect(await countOf(relation)).toBe(10);
          return { sql: `select * from ${relation}`, params: [] };
        }, 100);
        expect(sample.rows.map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      });
    });

    describe('JOIN datasources', () => {
      it('joins a table and a file, inner and left, renaming clashing columns', async () => {
        const orders = storage();
        await write(orders, WriteMode.REPLACE, [{ id: 1, customer: 10 }, { id: 2, customer: 20 }, { id: 3, customer: 99 }]);
        const customers = file('customers.csv', 'id,name\n10,Ann\n20,Bob\n');
        const inner = joined(orders, customers, 'customer', 'id');
        expect(await allRows(inner)).toEqual([
          { id: 1, customer: 10, id_right: 10, name: 'Ann' },
          { id: 2, customer: 20, id_right: 20, name: 'Bob' },
        ]);
        const left = joined(orders, customers, 'customer', 'id', JoinType.LEFT);
        expect((await w.stats(left))!.rowCount).toBe(3);
        const rows = await allRows(left, 10);
        expect(rows.find((r) => r.id === 3)).toEqual({ id: 3, customer: 99, id_right: null, name: null });
        const missing = joined(storage(), customers, 'customer', 'id');
        await expect(w.stats(missing)).rejects.toBeInstanceOf(MissingDataError);
      });
    });

    describe('queries (previews) and transforms', () => {
      let sales: DatasourceSpec;
      const SALES = [
        { id: 1, country: 'FR', qty: 3, price: 2.5, day: '2024-03-01 10:20:30' },
        { id: 2, country: 'DE', qty: 1, price: 10, day: '2024-03-02 08:00:00' },
        { id: 3, country: 'fr', qty: 5, price: 1, day: '2024-03-03 00:00:00' },
        { id: 4, country: null, qty: 2, price: 4, day: null },
        { id: 5, country: 'DE', qty: 4, price: 3, day: '2024-03-05 12:00:00' },
      ];
      beforeAll(async () => {
        sales = storage();
        await write(sales, WriteMode.REPLACE, SALES);
      });

      it('answers at most limit rows, says truncated, and cuts at maxBytes', async () => {
        const all = await w.query(async ({ relationOf }) => ({ sql: `select * from ${await relationOf(sales)}`, params: [] }), 10);
        expect(all).toEqual({ columns: ['id', 'country', 'qty', 'price', 'day'], rows: SALES, truncated: false });
        const two = await w.query(async ({ relationOf }) => ({ sql: `select id from ${await relationOf(sales)}`, params: [] }), 2);
        expect(two).toEqual({ columns: ['id'], rows: [{ id: 1 }, { id: 2 }], truncated: true });
        const small = await w.query(async ({ relationOf }) => ({ sql: `select * from ${await relationOf(sales)}`, params: [] }), 10, { maxBytes: 150 });
        expect(small.truncated).toBe(true);
        expect(small.rows).toEqual(SALES.slice(0, small.rows.length));
        expect(small.rows.length).toBeLessThan(5);
      });

      it('runs a pipeline with every kind of step the same way', async () => {
        const preview = await w.query(
          transform(sales, {
            steps: [
              { op: 'filter', where: "qty >= 2 and country like 'f%' or country = 'DE'" },
              { op: 'derive', columns: { total: 'price * qty', label: "upper(country) || '-' || id", day: 'date(day)', half: 'round(price / 2.0, 1)', big: "if(qty > 3, 'yes', 'no')" } },
              { op: 'sort', by: [{ column: 'id', desc: true }] },
              { op: 'select', columns: ['id', 'total', 'label', 'day', 'half', 'big'] },
              { op: 'limit', count: 3 },
            ],
          }),
          100,
        );
        expect(preview.rows).toEqual([
          { id: 5, total: 12, label: 'DE-5', day: '2024-03-05', half: 1.5, big: 'yes' },
          { id: 3, total: 5, label: 'FR-3', day: '2024-03-03', half: 0.5, big: 'yes' },
          { id: 2, total: 10, label: 'DE-2', day: '2024-03-02', half: 5, big: 'no' },
        ]);
        const grouped = await w.query(
          transform(sales, {
            steps: [
              { op: 'derive', columns: { total: 'price * qty' } },
              { op: 'groupBy', keys: ['country'], aggregates: { orders: { fn: 'count' }, revenue: { fn: 'sum', of: 'total' }, most: { fn: 'max', of: 'qty' } } },
              { op: 'sort', by: [{ column: 'country' }] },
            ],
          }),
          100,
        );
        expect(grouped.rows).toEqual([
          { country: null, orders: 1, revenue: 8, most: 2 },
          { country: 'DE', orders: 2, revenue: 22, most: 4 },
          { country: 'FR', orders: 1, revenue: 7.5, most: 3 },
          { country: 'fr', orders: 1, revenue: 5, most: 5 },
        ]);
        const renamed = await w.query(transform(sales, { steps: [{ op: 'rename', columns: { qty: 'n' } }, { op: 'distinct', columns: ['country'] }, { op: 'sort', by: [{ column: 'country', desc: true, nulls: 'last' }] }] }), 100);
        expect(renamed.rows.map((r) => r.country)).toEqual(['fr', 'FR', 'DE', null]);
      });

      it('runs an SQL transform over input, and writes a transform straight into a table', async () => {
        const preview = await w.query(sqlOver(sales, 'SELECT country, count(*) AS n, sum(qty) AS q FROM input WHERE country IS NOT NULL GROUP BY country ORDER BY n DESC, country'), 100);
        expect(preview.rows).toEqual([{ country: 'DE', n: 2, q: 5 }, { country: 'FR', n: 1, q: 3 }, { country: 'fr', n: 1, q: 5 }]);
        const withClause = await w.query(sqlOver(sales, 'WITH big AS (SELECT * FROM input WHERE qty > 2) SELECT id FROM big ORDER BY id'), 100);
        expect(withClause.rows).toEqual([{ id: 1 }, { id: 3 }, { id: 5 }]);

        const target = storage();
        const out = await w.openWrite(target, WriteMode.REPLACE);
        await out.writeQuery(transform(sales, { steps: [{ op: 'filter', where: 'qty > 2' }, { op: 'select', columns: ['id', 'qty'] }] }));
        expect(out.rowsWritten).toBe(3);
        expect(await allRows(target)).toEqual([]);
        expect((await out.commit()).rowCount).toBe(3);
        expect(await allRows(target)).toEqual([{ id: 1, qty: 3 }, { id: 3, qty: 5 }, { id: 5, qty: 4 }]);
        const upsert = await w.openWrite(target, WriteMode.UPSERT, ['id']);
        await upsert.writeQuery(sqlOver(sales, 'SELECT id, qty * 10 AS qty, country FROM input WHERE id IN (3, 4)'));
        await upsert.commit();
        expect(await allRows(target, 10)).toEqual([
          { id: 1, qty: 3, country: null },
          { id: 3, qty: 50, country: 'fr' },
          { id: 5, qty: 4, country: null },
          { id: 4, qty: 20, country: null },
        ]);
      });

      it('refuses a query reading another datasource, changing nothing', async () => {
        const secret = storage();
        await write(secret, WriteMode.REPLACE, [{ secret: 'the other datasource' }]);
        const table = h.qualifiedTable(secret);
        for (const sql of [`SELECT * FROM ${table} /* input */`, `SELECT i.*, s.* FROM input AS i, ${table} AS s`, `SELECT (SELECT max(secret) FROM ${table}) AS s FROM input`]) {
          await expect(w.query(sqlOver(sales, sql), 10), sql).rejects.toBeInstanceOf(ReadScopeError);
          const out = await w.openWrite(storage(), WriteMode.REPLACE);
          await expect(out.writeQuery(sqlOver(sales, sql)), sql).rejects.toBeInstanceOf(ReadScopeError);
          await out.abort();
        }
        // A bare table name is as refused as a qualified one.
        await expect(w.query(sqlOver(sales, `SELECT * FROM ${tableOf(secret)}, input`), 10)).rejects.toBeInstanceOf(ReadScopeError);
        expect(await allRows(secret)).toEqual([{ secret: 'the other datasource' }]);
      });

      it.each(attacks.map((a) => [a.name, a] as const))('refuses %s', async (_name, attack) => {
        const other = storage();
        await write(other, WriteMode.REPLACE, [{ secret: 'kept' }]);
        const sql = attack.sql.replaceAll('$OTHER', h.qualifiedTable(other));
        const error = await w.query(async (inputs) => ({ sql: compileTransform({ kind: 'sql', sql }, await inputs.relationOf(sales), undefined, inputs.dialect).sql, params: [] }), 10).catch((e: unknown) => e);
        expect(error, String(error)).toBeInstanceOf(ReadScopeError);
        const out = await w.openWrite(storage(), WriteMode.REPLACE);
        const writeError = await out.writeQuery(async (inputs) => ({ sql: compileTransform({ kind: 'sql', sql }, await inputs.relationOf(sales), undefined, inputs.dialect).sql, params: [] })).catch((e: unknown) => e);
        await out.abort();
        expect(writeError, String(writeError)).toBeInstanceOf(ReadScopeError);
        if (attack.noEffect) expect(await attack.noEffect()).toBe(true);
        expect(await allRows(other)).toEqual([{ secret: 'kept' }]);
        expect(await allRows(sales, 10)).toEqual(SALES);
      });
    });

    describe('time limits', () => {
      const SLOW = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT max(x) AS m FROM c';

      it('stops a query when its signal aborts', async () => {
        const started = Date.now();
        const reason = new Error('stopped by the test');
        const controller = new AbortController();
        setTimeout(() => controller.abort(reason), 300);
        await expect(w.query(async () => ({ sql: SLOW, params: [] }), 10, { signal: controller.signal })).rejects.toThrow(); // SQLite: SQLITE_INTERRUPT; PostgreSQL: the reason
        expect(Date.now() - started).toBeLessThan(5_000);
        // The warehouse still answers.
        expect((await w.query(async () => ({ sql: 'SELECT 1 AS one', params: [] }), 10)).rows).toEqual([{ one: 1 }]);
      });

      it('stops a request at QUERY_TIMEOUT_MS', async () => {
        const started = Date.now();
        await expect(w.requests.run(undefined, (signal) => w.query(async () => ({ sql: SLOW, params: [] }), 10, { signal }), { heavy: true })).rejects.toBeInstanceOf(QueryTimeoutError);
        expect(Date.now() - started).toBeLessThan(h.queryTimeoutMs + 4_000);
      });

      it('interrupts a write, leaving the target as it was', async () => {
        const t = storage();
        await write(t, WriteMode.REPLACE, [{ id: 1 }]);
        const controller = new AbortController();
        const out = await w.openWrite(t, WriteMode.REPLACE, [], { signal: controller.signal });
        setTimeout(() => {
          controller.abort(new Error('cancelled'));
          out.interrupt();
        }, 300);
        const started = Date.now();
        await expect(out.writeQuery(async () => ({ sql: SLOW, params: [] }))).rejects.toThrow();
        expect(Date.now() - started).toBeLessThan(5_000);
        await out.abort();
        expect(await allRows(t)).toEqual([{ id: 1 }]);
      });
    });
  });
}
