import { WriteMode, type DatabaseIngestion } from '../../../core/db/entities/index.js';
import { BadUserInputError } from '../../../core/errors.js';
import { checkText } from '../../../core/validation.js';
import type { UpdateDatabaseIngestionInput } from '../inputs.js';

export const QUERY_MAX_BYTES = 100_000;
const IDENTIFIER = /^[^\s."`'\\;]{1,128}$/u;

/**
 * Checks and applies what a database ingestion reads: a table ("name" or "schema.name") or one
 * SELECT (never both), and the cursor column of an incremental one. The query runs in a read-only
 * transaction with the connection's own rights; this check only turns away what cannot be a read.
 */
export function applyDatabaseSettings(ingestion: DatabaseIngestion, input: UpdateDatabaseIngestionInput): void {
  if (input.table !== undefined) ingestion.sourceTable = checkTable(input.table);
  if (input.query !== undefined) ingestion.query = checkQuery(input.query);
  if (input.table !== undefined && input.table && input.query === undefined) ingestion.query = null; // a table given replaces a query
  if (input.query !== undefined && input.query && input.table === undefined) ingestion.sourceTable = null;
  if (ingestion.sourceTable && ingestion.query) throw new BadUserInputError('query', 'give a table or a query, not both');
  if (!ingestion.sourceTable && !ingestion.query) throw new BadUserInputError('table', 'a database ingestion reads a table ("name" or "schema.name") or a query (one SELECT)');
  if (input.cursorColumn !== undefined) {
    const column = checkText(input.cursorColumn, 'cursorColumn', 128)?.trim() || null;
    if (column !== null && !IDENTIFIER.test(column)) throw new BadUserInputError('cursorColumn', 'cursorColumn is a column name: no spaces, dots, quotes or semicolons');
    ingestion.cursorColumn = column;
  }
  if (ingestion.cursorColumn && ingestion.writeMode === WriteMode.REPLACE) {
    throw new BadUserInputError('writeMode', 'an incremental ingestion (with a cursorColumn) reads only new rows: it APPENDs or UPSERTs them; REPLACE would keep only the last run\'s rows');
  }
}

function checkTable(value: string | null): string | null {
  const table = checkText(value, 'table', 300)?.trim() || null;
  if (table === null) return null;
  const parts = table.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new BadUserInputError('table', 'table is "name" or "schema.name": no spaces, quotes or semicolons (use a query for anything else)');
  }
  return table;
}

function checkQuery(value: string | null): string | null {
  const query = value?.trim() || null;
  if (query === null) return null;
  if (Buffer.byteLength(query, 'utf8') > QUERY_MAX_BYTES) throw new BadUserInputError('query', `query is larger than ${QUERY_MAX_BYTES} bytes`);
  checkText(query, 'query', QUERY_MAX_BYTES * 4);
  const body = query.replace(/^(?:\s+|--[^\n]*\n|\/\*[\s\S]*?\*\/)+/, '');
  if (!/^(select|with|values|table)\b/i.test(body)) throw new BadUserInputError('query', 'query is one SELECT (or WITH … SELECT): an ingestion only reads');
  // More than one statement cannot run: the query is read as a subquery, one statement per protocol message.
  return query;
}
