/**
 * The PostgreSQL side of `npm run bench -- etl`: a generated table of ROWS rows in a database of
 * its own on the local PostgreSQL, ingested by the database ingestion runner into a STORAGE
 * datasource of the SQLite warehouse, and of a PostgreSQL warehouse (a second database; the source's
 * COPY text goes into it as it is). Baseline
 * in the same run: `psql \copy (…) TO` a CSV file. Floor in the same run: the same rows piped from
 * psql into the sqlite3 shell's `.import` (two C programs, no Tributary): what writing them into
 * SQLite costs at best.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { AutomationKind, DatasourceKind, WriteMode } from '../core/db/entities/index.js';
import { DatabaseIngestionRunner } from '../jobs/runners/database.runner.js';
import type { AutomationPlan, RunContext } from '../jobs/runners/runner.js';
import type { SftpState } from '../jobs/runners/sftp-state.js';
import { PostgresWarehouse } from '../jobs/warehouse/postgres-warehouse.js';
import { SqliteWarehouse } from '../jobs/warehouse/sqlite-warehouse.js';
import type { Warehouse } from '../jobs/warehouse/warehouse.js';

const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres' };

/** No cursor is kept: the bench reads the whole table. */
const NO_STATE = { lastCursor: async () => null, recordCursor: async () => undefined } as unknown as SftpState;

export interface IngestFigures {
  psqlCopyMs: number;
  ingestMs: number;
  speedVsPsql: number;
  peakRssMb: number;
  baseRssMb: number;
  /** psql \copy TO STDOUT piped into sqlite3 .import: the speed two C programs reach into SQLite. */
  psqlToSqlite3: { ms: number; speedVsPsql: number };
  /** Our ingestion's speed as a share of that pipeline's. */
  ingestVsPipeline: number;
  /** The same ingestion into a PostgreSQL warehouse. */
  postgresWarehouse: { ingestMs: number; speedVsPsql: number; peakRssMb: number };
}

type Measure = <T>(work: () => Promise<T>) => Promise<{ result: T; ms: number; peakRssMb: number; baseRssMb: number }>;

const ratio = (baseline: number, ours: number) => Math.round((baseline / ours) * 100) / 100;

export async function benchPostgresIngest(dir: string, rows: number, withPeakRss: Measure, sqliteShell: string): Promise<IngestFigures> {
  const database = `tributary_bench_${randomBytes(4).toString('hex')}`;
  const warehouseDb = `${database}_warehouse`;
  const admin = new pg.Client({ ...ADMIN, database: 'postgres' });
  await admin.connect();
  await admin.query(`create database ${database}`);
  try {
    const client = new pg.Client({ ...ADMIN, database });
    client.on('error', () => undefined); // the drop below ends it if something failed first
    await client.connect();
    await client.query(`create table sales as select g as id, 'c' || (g % 50000) as customer, (array['FR','DE','US','IT','ES'])[1 + g % 5] as country,
      ((g::bigint * 7919) % 10000) / 100.0 as price, 1 + g % 9 as qty, date '2026-01-01' + (g % 365) as day from generate_series(1, ${rows}) g`);
    await client.query('analyze sales');
    await client.end();

    const csv = join(dir, 'psql-copy.csv');
    const started = performance.now();
    execFileSync('psql', ['-h', ADMIN.host, '-U', ADMIN.user, '-d', database, '-q', '-c', `\\copy (select * from sales) to '${csv}' csv header`]);
    const psqlCopyMs = performance.now() - started;

    const pipeStarted = performance.now();
    const copyOut = `psql -h ${ADMIN.host} -U ${ADMIN.user} -d ${database} -q -c ${shellQuote('\\copy (select * from sales) to stdout csv header')}`;
    execFileSync('sh', ['-c', `${copyOut} | ${shellQuote(sqliteShell)} ${shellQuote(join(dir, 'pipe.db'))} -cmd '.mode csv' '.import /dev/stdin sales'`]);
    const pipelineMs = performance.now() - pipeStarted;

    const warehouse = await SqliteWarehouse.open(join(dir, 'pg-ingest'), { fileRoots: [join(dir, 'in')] });
    const plan: AutomationPlan = {
      id: randomUUID(),
      name: 'bench',
      kind: AutomationKind.DATABASE_TABLE,
      inputs: [],
      outputs: [{ id: randomUUID(), kind: DatasourceKind.STORAGE }],
      writeMode: WriteMode.REPLACE,
      writeKeys: [],
      database: { endpoint: { type: 'POSTGRES', host: ADMIN.host, port: ADMIN.port, username: ADMIN.user, password: null, database }, table: 'public.sales', query: null, cursorColumn: null },
    };
    const ingested = await withPeakRss(() => ingest(warehouse, plan, rows));
    await warehouse.close();

    await admin.query(`create database ${warehouseDb}`);
    const pgWarehouse = await PostgresWarehouse.open(`postgres://${ADMIN.user}@${ADMIN.host}:${ADMIN.port}/${warehouseDb}`, { fileRoots: [join(dir, 'in')], dataDir: dir });
    let pgIngest: { ms: number; peakRssMb: number };
    try {
      pgIngest = await withPeakRss(() => ingest(pgWarehouse, plan, rows));
    } finally {
      await pgWarehouse.close();
    }
    return {
      psqlCopyMs: Math.round(psqlCopyMs),
      ingestMs: Math.round(ingested.ms),
      speedVsPsql: ratio(psqlCopyMs, ingested.ms),
      peakRssMb: ingested.peakRssMb,
      baseRssMb: ingested.baseRssMb,
      psqlToSqlite3: { ms: Math.round(pipelineMs), speedVsPsql: ratio(psqlCopyMs, pipelineMs) },
      ingestVsPipeline: ratio(pipelineMs, ingested.ms),
      postgresWarehouse: { ingestMs: Math.round(pgIngest.ms), speedVsPsql: ratio(psqlCopyMs, pgIngest.ms), peakRssMb: pgIngest.peakRssMb },
    };
  } finally {
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.query(`drop database if exists ${warehouseDb} with (force)`);
    await admin.end();
  }
}

async function ingest(warehouse: Warehouse, plan: AutomationPlan, rows: number) {
  const quiet: RunContext = { signal: new AbortController().signal, log: () => undefined, progress: () => undefined };
  const result = await new DatabaseIngestionRunner(warehouse, NO_STATE).run({ ...plan, outputs: [{ id: randomUUID(), kind: DatasourceKind.STORAGE }] }, quiet);
  if (result.rowsWritten !== rows) throw new Error(`ingested ${result.rowsWritten} rows, expected ${rows}`);
  return result;
}

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
