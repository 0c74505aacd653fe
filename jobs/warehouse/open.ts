import { join, resolve } from 'node:path';
import type { StoreLocation } from '../../core/db/sql.js';
import { PostgresWarehouse } from './postgres-warehouse.js';
import { SqliteWarehouse } from './sqlite-warehouse.js';
import type { Warehouse } from './warehouse.js';

export interface OpenWarehouseOptions {
  /** DATA_DIR: the SQLite warehouse lives there (`warehouse.db`, `staging/`); FILE datasources never read it. */
  dataDir: string;
  /** FILE_ROOTS (real paths); default `DATA_DIR/files`. */
  fileRoots?: string[];
  /** QUERY_TIMEOUT_MS. */
  queryTimeoutMs?: number;
  /** Files outside DATA_DIR that FILE datasources must never read (the metadata database, the job store). */
  protectedFiles?: string[];
  /** Requests whose warehouse work runs at once. */
  requestConcurrency?: number;
  /** PostgreSQL: the schema of the warehouse's tables (default `tributary_warehouse`). */
  schema?: string;
}

/**
 * The warehouse at `location` (WAREHOUSE_URL parsed by parseStoreUrl): the embedded SQLite one by
 * default, or PostgreSQL for a `postgres://` URL. For SQLite, the file of the location must be
 * `DATA_DIR/warehouse.db` (the only place the embedded warehouse keeps its data).
 */
export async function openWarehouse(location: StoreLocation, options: OpenWarehouseOptions): Promise<Warehouse & { close(): Promise<void> }> {
  if (location.dialect === 'postgresql') {
    return PostgresWarehouse.open(location.url, {
      fileRoots: options.fileRoots,
      queryTimeoutMs: options.queryTimeoutMs,
      schema: options.schema,
      dataDir: options.dataDir,
      protectedFiles: options.protectedFiles,
      requestConcurrency: options.requestConcurrency,
    });
  }
  if (resolve(location.file) !== resolve(join(options.dataDir, 'warehouse.db'))) {
    throw new Error(`the SQLite warehouse lives in DATA_DIR/warehouse.db (${join(options.dataDir, 'warehouse.db')}), not ${location.file}; set WAREHOUSE_URL to a postgres:// URL or leave it unset`);
  }
  return SqliteWarehouse.open(options.dataDir, {
    fileRoots: options.fileRoots,
    queryTimeoutMs: options.queryTimeoutMs,
    protectedFiles: options.protectedFiles,
    requestConcurrency: options.requestConcurrency,
  });
}
