/**
 * `npm run bench -- etl`: import a generated CSV of 1,000,000 rows into a STORAGE datasource
 * with the ETL runner, then run a filter + derive + aggregate step over it. Baseline in the same
 * run: the sqlite3 command-line shell's `.import` of the same file. Peak memory is sampled for
 * 100,000 and 1,000,000 rows to show it does not grow with the row count. Then the same number of
 * rows ingested from a PostgreSQL table by a database ingestion, against `psql \copy … TO` a file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { AutomationKind, DatasourceKind, WriteMode } from '../core/db/entities/index.js';
import { EtlRunner } from '../jobs/runners/etl.runner.js';
import type { AutomationPlan, RunContext } from '../jobs/runners/runner.js';
import { SqliteWarehouse } from '../jobs/warehouse/sqlite-warehouse.js';
import type { DatasourceSpec } from '../jobs/warehouse/warehouse.js';
import { writeResult } from './stats.js';
import { benchPostgresIngest } from './ingest.js';

const ROWS = Number(process.env.BENCH_ETL_ROWS ?? 1_000_000);
const COUNTRIES = ['FR', 'DE', 'US', 'IT', 'ES', 'GB', 'NL', 'BE', 'PL', 'SE'];

async function generateCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('id,customer,country,price,qty,day\n');
  for (let i = 1; i <= rows; i++) {
    const line = `${i},c${i % 50_000},${COUNTRIES[i % COUNTRIES.length]},${((i * 7919) % 10_000) / 100},${1 + (i % 9)},2026-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Installs Debian's sqlite3 shell when it is missing (the bench's own baseline). */
function sqliteShell(): string {
  const found = spawnSync('sh', ['-c', 'command -v sqlite3'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  console.log('  installing the sqlite3 shell (apt-get install sqlite3) for the baseline');
  const [command, ...args] = process.getuid?.() === 0 ? ['apt-get'] : ['sudo', 'apt-get'];
  execFileSync(command!, [...args, 'install', '-y', '-qq', 'sqlite3'], { stdio: 'inherit' });
  return 'sqlite3';
}

/** Peak resident memory while `work` runs, sampled every 20 ms. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; peakRssMb: number; baseRssMb: number }> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = performance.now();
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, ms: performance.now() - started, peakRssMb: Math.round(peak / 1024 / 1024), baseRssMb: Math.round(base / 1024 / 1024) };
  } finally {
    clearInterval(timer);
  }
}

const quiet: RunContext = { signal: new AbortController().signal, log: () => undefined, progress: () => undefined };

function plan(input: DatasourceSpec, output: DatasourceSpec, transform: Record<string, unknown>): AutomationPlan {
  return { id: randomUUID(), name: 'bench', kind: AutomationKind.ETL_STEP, inputs: [input], outputs: [output], writeMode: WriteMode.REPLACE, writeKeys: [], transform };
}

async function importOnce(dir: string, csv: string) {
  const warehouse = await SqliteWarehouse.open(dir, { fileRoots: [dirname(csv)] });
  const runner = new EtlRunner(warehouse);
  const file: DatasourceSpec = { id: randomUUID(), kind: DatasourceKind.FILE, path: csv };
  const table: DatasourceSpec = { id: randomUUID(), kind: DatasourceKind.STORAGE };
  const imported = await withPeakRss(() => runner.run(plan(file, table, {}), quiet));
  return { warehouse, runner, table, imported };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-etl-'));
  try {
    // The CSV files sit in a FILE root of their own, beside the warehouses' data directories.
    mkdirSync(join(dir, 'in'));
    const small = join(dir, 'in', 'small.csv');
    const big = join(dir, 'in', 'big.csv');
    await generateCsv(small, Math.round(ROWS / 10));
    await generateCsv(big, ROWS);
    const megabytes = Math.round(statSync(big).size / 1024 / 1024);
    console.log(`  generated ${ROWS} rows (${megabytes} MB)`);

    // Baseline: the sqlite3 shell importing the same file into a fresh database.
    const shell = sqliteShell();
    const cliStart = performance.now();
    execFileSync(shell, [join(dir, 'cli.db'), '-cmd', '.mode csv', `.import ${big} sales`]);
    const cliMs = performance.now() - cliStart;

    const smallRun = await importOnce(join(dir, 'small'), small);
    await smallRun.warehouse.close();
    const { warehouse, runner, table, imported } = await importOnce(join(dir, 'big'), big);
    if (imported.result.rowsWritten !== ROWS) throw new Error(`imported ${imported.result.rowsWritten} rows, expected ${ROWS}`);

    const summary: DatasourceSpec = { id: randomUUID(), kind: DatasourceKind.STORAGE };
    const aggregate = await withPeakRss(() =>
      runner.run(
        plan(table, summary, {
          steps: [
            { op: 'filter', where: "qty > 2 and country != 'US'" },
            { op: 'derive', columns: { total: 'price * qty' } },
            { op: 'groupBy', keys: ['country'], aggregates: { orders: { fn: 'count' }, revenue: { fn: 'sum', of: 'total' }, average: { fn: 'avg', of: 'total' } } },
          ],
        }),
        quiet,
      ),
    );
    await warehouse.close();
    const postgres = await benchPostgresIngest(dir, ROWS, withPeakRss, shell);

    const rowsPerSecond = (ms: number, rows: number) => Math.round(rows / (ms / 1000));
    const result = {
      rows: ROWS,
      fileMb: megabytes,
      sqliteCliImport: { ms: Math.round(cliMs), rowsPerSecond: rowsPerSecond(cliMs, ROWS) },
      etlImport: { ms: Math.round(imported.ms), rowsPerSecond: rowsPerSecond(imported.ms, ROWS), peakRssMb: imported.peakRssMb, baseRssMb: imported.baseRssMb },
      etlImportTenth: { rows: Math.round(ROWS / 10), ms: Math.round(smallRun.imported.ms), peakRssMb: smallRun.imported.peakRssMb, baseRssMb: smallRun.imported.baseRssMb },
      speedVsCli: Math.round((cliMs / imported.ms) * 100) / 100,
      filterDeriveAggregate: { ms: Math.round(aggregate.ms), rowsPerSecond: rowsPerSecond(aggregate.ms, ROWS), outputRows: aggregate.result.rowsWritten, peakRssMb: aggregate.peakRssMb },
      postgresIngest: { ...postgres, rowsPerSecond: rowsPerSecond(postgres.ingestMs, ROWS) },
      target: 'import at least half the speed of the sqlite3 shell (speedVsCli >= 0.5) and ingest a PostgreSQL table at least half the speed of psql \\copy to a file (postgresIngest.postgresWarehouse.speedVsPsql >= 0.5; into SQLite even psql | sqlite3 reaches only postgresIngest.psqlToSqlite3.speedVsPsql); memory flat in the row count',
    };
    console.log(
      `  sqlite3 .import ${result.sqliteCliImport.ms} ms; ETL import ${result.etlImport.ms} ms (${result.speedVsCli}x the shell's speed), peak RSS ${imported.peakRssMb} MB ` +
        `(${smallRun.imported.peakRssMb} MB for a tenth of the rows); filter+derive+aggregate ${result.filterDeriveAggregate.ms} ms`,
    );
    console.log(`  psql \\copy to a file ${postgres.psqlCopyMs} ms; database ingestion ${postgres.ingestMs} ms (${postgres.speedVsPsql}x psql's speed), peak RSS ${postgres.peakRssMb} MB`);
    console.log(
      `  psql | sqlite3 .import (C programs only) ${postgres.psqlToSqlite3.ms} ms (${postgres.psqlToSqlite3.speedVsPsql}x psql's speed; the ingestion reaches ${postgres.ingestVsPipeline}x of it); ` +
        `into a PostgreSQL warehouse ${postgres.postgresWarehouse.ingestMs} ms (${postgres.postgresWarehouse.speedVsPsql}x), peak RSS ${postgres.postgresWarehouse.peakRssMb} MB`,
    );
    console.log(`wrote ${writeResult('etl', result)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
