import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtlStep } from '../../core/db/entities/index.js';
import { tableOf } from '../../jobs/warehouse/sqlite-warehouse.js';
import { uniqueName, type Factories, type Ref } from '../factories/index.js';
import { TEST_BACKEND } from '../helpers/postgres.js';
import type { TestServer } from '../helpers/server.js';
import { finished, runNow, schedulerWithFactories } from '../scheduler/helpers.js';

/**
 * Attack 6: an SQL transform reaching beyond its input. The old check was a word search for
 * `input`, so each query below passed it. Now SQLite compiles the query and its bytecode may open
 * only the input's own tables: refused when saved, in previews (saved or draft) and at run time.
 * On PostgreSQL (TRIBUTARY_TEST_BACKEND=postgres) the same attacks in its own terms (catalogs,
 * set-returning functions, file functions, another datasource's table) are refused the same way:
 * PostgreSQL plans the query as the reader role when it is saved, and confines every run.
 */

const CREATE_ETL = `mutation($input: CreateEtlStepInput!) { createEtlStep(input: $input) { id transform } }`;
const UPDATE_ETL = `mutation($id: ID!, $input: UpdateEtlStepInput!) { updateEtlStep(id: $id, input: $input) { id transform } }`;
const PREVIEW = `query($id: ID!, $draft: PreviewDraftInput) { previewAutomation(id: $id, sampleSize: 10, draft: $draft) { outputs { columns rows truncated } } }`;
const ROWS = `query($id: ID!) { rows(datasourceId: $id, first: 100) { columns nodes } }`;
const BY_NAME = `query($name: String!) { automation(name: $name) { id } }`;

let t: TestServer;
let f: Factories;
let input: Ref;
let other: Ref;
let output: Ref;

/** A STORAGE datasource holding `rows`, written through the warehouse. */
async function storageWith(rows: Record<string, unknown>[]): Promise<Ref> {
  const ds = await f.storage();
  const write = await t.server.warehouse.openWrite({ id: ds.id, kind: 'STORAGE' as never }, 'REPLACE' as never);
  await write.write(rows);
  await write.commit();
  return ds;
}

beforeAll(async () => {
  ({ t, f } = await schedulerWithFactories());
  input = await storageWith([{ id: 1, amount: 10 }, { id: 2, amount: 20 }]);
  other = await storageWith([{ secret: 'the other datasource' }]);
  output = await f.storage();
});
afterAll(() => t?.close());

/**
 * The attacks of the report, each naming `input` somewhere so the old word check let it through.
 * `$OTHER` stands for the table of another datasource (known once the server runs), `$SCHEMA` for
 * the PostgreSQL warehouse's schema.
 */
function attacks(): [string, string, RegExp][] {
  if (TEST_BACKEND === 'postgres') {
    return [
      ['the catalog tables', 'SELECT * FROM pg_catalog.pg_class, input', /pg_catalog\.pg_class/],
      ["another datasource's table", 'SELECT * FROM $OTHER /* input */', /\$OTHER/],
      ['a settings table function', 'SELECT * FROM pg_show_all_settings() /* input */', /set-returning function/],
      ['the information schema', 'SELECT * FROM information_schema.tables /* input */', /pg_catalog\.pg_/],
      ['json_each (no set-returning functions in FROM at all)', `SELECT * FROM input, json_each('{"a": 1}')`, /set-returning function/],
      ['pg_read_file', `SELECT pg_read_file('/etc/passwd') FROM input`, /pg_read_file/],
      ['a write hidden in a WITH', 'WITH x AS (SELECT 1) DELETE FROM input', /does not compile|syntax/],
      ["another datasource's table named with its schema", 'SELECT * FROM $SCHEMA.$OTHER /* input */', /\$SCHEMA/],
    ];
  }
  return [
    ['the schema table', 'SELECT * FROM sqlite_master, input', /sqlite_master|sqlite_schema/],
    ["another datasource's table", 'SELECT * FROM $OTHER /* input */', /\$OTHER/],
    ['a pragma table function', 'SELECT * FROM pragma_database_list /* input */', /table-valued function/],
    ['the temp schema table', 'SELECT * FROM temp.sqlite_master /* input */', /sqlite_(master|schema)/],
    ['json_each (no table-valued functions at all)', `SELECT * FROM input, json_each('[1,2]')`, /table-valued function/],
    ['load_extension', `SELECT load_extension('/tmp/x') FROM input`, /load_extension/],
    ['a write hidden in a WITH', 'WITH x AS (SELECT 1) DELETE FROM input', /does not compile|syntax/],
  ];
}

/** The attack's SQL and mention with `$OTHER` and `$SCHEMA` replaced by the other datasource's table and the warehouse's schema. */
function real(sql: string, mention: RegExp): [string, RegExp] {
  const table = tableOf(other);
  const schema = (t.server.warehouse as { schema?: string }).schema ?? 'main';
  const names: Record<string, string> = { '\\$OTHER': table, '\\$SCHEMA': schema };
  return [sql.replace('$SCHEMA', schema).replace('$OTHER', table), names[mention.source] ? new RegExp(names[mention.source]!) : mention];
}

const saved = (etl: Ref) => t.ok(`query($id: ID!) { automation(id: $id) { ... on EtlStep { transform } } }`, { id: etl.id });

describe('an SQL transform reads only its input', () => {
  it.each(attacks())('refuses %s when an ETL step is created, and saves nothing', async (_what, attack, pattern) => {
    const [sql, mention] = real(attack, pattern);
    const name = uniqueName('etl');
    const error = await t.fail(CREATE_ETL, { input: { name, inputId: input.id, outputId: output.id, transform: { sql } } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'transform.sql' });
    expect(error.message).toMatch(mention);
    expect((await t.ok(BY_NAME, { name })).automation).toBeNull();
  });

  it.each(attacks())('refuses %s when an ETL step is updated, and keeps the saved transform', async (_what, attack, pattern) => {
    const [sql, mention] = real(attack, pattern);
    const etl = await f.etl(input, output, { transform: { sql: 'SELECT id FROM input' } });
    const error = await t.fail(UPDATE_ETL, { id: etl.id, input: { transform: { sql } } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'transform.sql' });
    expect(error.message).toMatch(mention);
    expect((await saved(etl)).automation.transform).toEqual({ sql: 'SELECT id FROM input' });
  });

  it.each(attacks())('refuses %s in a draft preview, and shows no row of it', async (_what, attack, pattern) => {
    const [sql, mention] = real(attack, pattern);
    const etl = await f.etl(input, output);
    const result = await t.gql(PREVIEW, { id: etl.id, draft: { transform: { sql } } });
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'draft.transform.sql' });
    expect(result.errors?.[0]?.message).toMatch(mention);
    expect(JSON.stringify(result)).not.toMatch(/the other datasource|CREATE TABLE/);
  });

  it('refuses, at run and preview time, a transform that was stored without the check (an older version saved it)', async () => {
    const em = t.server.orm.em.fork() as EntityManager;
    for (const [what, attack, pattern] of attacks().slice(0, 4)) {
      const [sql, mention] = real(attack, pattern);
      const target = await f.storage();
      const etl = await f.etl(input, target, { transform: { sql: 'SELECT * FROM input' } });
      await em.nativeUpdate(EtlStep, { id: etl.id }, { transform: { sql } });

      const preview = await t.gql(PREVIEW, { id: etl.id });
      expect(preview.errors?.[0]?.extensions, what).toMatchObject({ code: 'BAD_USER_INPUT', field: 'transform.sql' });
      expect(preview.errors?.[0]?.message, what).toMatch(/may read only input/);
      expect(preview.errors?.[0]?.message, what).toMatch(mention);
      expect(JSON.stringify(preview), what).not.toMatch(/the other datasource|CREATE TABLE/);

      const run = await finished(t, (await runNow(t, etl.id)).id);
      expect(run.status, what).toBe('FAILED');
      expect(run.error, what).toMatch(/may read only input/);
      expect(run.rowsWritten, what).toBeNull();
      // Nothing reached the output: the run wrote no table at all.
      expect((await t.ok(ROWS, { id: target.id })).rows, what).toEqual({ columns: [], nodes: [] });
    }
  });

  it('refuses a transform reaching past a FILE input to the staging area at run time', async () => {
    const path = join(t.filesDir, `${uniqueName('scope')}.csv`);
    writeFileSync(path, 'id\n1\n');
    const file = await f.file({ path });
    const target = await f.storage();
    const etl = await f.etl(file, target);
    const em = t.server.orm.em.fork() as EntityManager;
    // SQLite stages a FILE in the attached `staging` database; PostgreSQL in the session's temporary schema.
    const [sql, refused] =
      TEST_BACKEND === 'postgres'
        ? ['SELECT c.relname FROM pg_catalog.pg_class c, input WHERE c.relnamespace = pg_my_temp_schema()', /may read only input.*pg_catalog\.pg_class/]
        : ['SELECT * FROM staging.sqlite_master, input', /may read only input.*staging\.sqlite_schema/];
    await em.nativeUpdate(EtlStep, { id: etl.id }, { transform: { sql } });
    const run = await finished(t, (await runNow(t, etl.id)).id);
    expect(run).toMatchObject({ status: 'FAILED', rowsWritten: null });
    expect(run.error).toMatch(refused);
  });

  it('still runs what reads only the input: aggregates, CTEs (recursive too), joins of input with itself, ORDER BY kept', async () => {
    // A JSON function of the warehouse's own dialect.
    const jsonK = TEST_BACKEND === 'postgres' ? `('{"k": 5}'::json ->> 'k')::int` : `json_extract('{"k": 5}', '$.k')`;
    const queries = [
      ['SELECT count(*) AS n, sum(amount) AS total FROM input', [{ n: 2, total: 30 }]],
      ['WITH big AS (SELECT * FROM input WHERE amount > 10) SELECT id FROM big', [{ id: 2 }]],
      ['WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < (SELECT count(*) FROM input)) SELECT n FROM r', [{ n: 1 }, { n: 2 }]],
      ['SELECT a.id, b.id AS other FROM input a JOIN input b ON a.id < b.id', [{ id: 1, other: 2 }]],
      [`SELECT id, ${jsonK} AS k FROM input ORDER BY id DESC`, [{ id: 2, k: 5 }, { id: 1, k: 5 }]],
    ] as const;
    for (const [sql, expected] of queries) {
      const target = await f.storage();
      const etl = await f.etl(input, target, { transform: { sql } });
      expect((await t.ok(PREVIEW, { id: etl.id })).previewAutomation.outputs[0].rows, sql).toEqual(expected);
      const run = await finished(t, (await runNow(t, etl.id)).id);
      expect(run.status, `${sql}: ${run.error}`).toBe('SUCCESS');
      expect((await t.ok(ROWS, { id: target.id })).rows.nodes, sql).toEqual(expected);
    }
  });

  it('checks the columns when the input declares them, and leaves unknown ones to the run otherwise', async () => {
    const declared = await f.storage({ columns: [{ name: 'id', type: 'integer' }] });
    const error = await t.fail(CREATE_ETL, { input: { name: uniqueName('etl'), inputId: declared.id, outputId: output.id, transform: { sql: 'SELECT nope FROM input' } } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'transform.sql' });
    expect(error.message).toMatch(/no such column: nope/);
    const undeclared = await f.storage();
    await f.etl(undeclared, output, { transform: { sql: 'SELECT nope FROM input' } });
  });
});
