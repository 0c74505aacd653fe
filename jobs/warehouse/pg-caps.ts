import { quoteIdent } from '../../core/db/sql.js';
import { ValueTooLargeError } from './limits.js';

/**
 * The value caps of the PostgreSQL warehouse: no row a query makes may be larger than
 * MAX_VALUE_BYTES in a capped answer (previews, rows pages) or MAX_RUN_VALUE_BYTES in a run, as
 * SQLite's length limit (SQLITE_TOOBIG) holds on the SQLite side.
 */

/** SQLSTATE of the value cap's refusal (a code of our own: no user query can raise it, as none can create functions). */
const VALUE_CAP_STATE = 'TBBIG';
const VALUE_CAP = `pg_temp.${quoteIdent('tributary_value_cap')}`;

/**
 * Makes (in the open transaction, before it turns read-only) the function {@link capRowsSql}
 * calls: true for a row within the cap, an error with the row's size otherwise.
 */
export async function ensureValueCap(session: { query(text: string): Promise<unknown> }): Promise<void> {
  await session.query(
    `create or replace function ${VALUE_CAP}(size bigint, cap bigint) returns boolean language plpgsql as $cap$
begin
  if size > cap then raise exception '% %', size, cap using errcode = '${VALUE_CAP_STATE}'; end if;
  return true;
end $cap$`,
  );
}

/** The size of a row as text (close to its JSON): what the value caps and the answer's byte cap judge. */
export function rowSizeSql(columns: string[], alias?: string): string {
  const prefix = alias ? `${alias}.` : '';
  return columns.map((c) => `coalesce(octet_length(cast(${prefix}${quoteIdent(c)} as text)), 4) + ${Buffer.byteLength(JSON.stringify(c)) + 2}`).join(' + ') || '2';
}

/**
 * `select` (giving `columns`) with every row over `cap` bytes refused as it comes, before it is
 * kept anywhere (needs {@link ensureValueCap}): SQLite's length limit (SQLITE_TOOBIG) for PostgreSQL.
 */
export function capRowsSql(select: string, columns: string[], cap: number): string {
  return `select * from (${select}) as capped where ${VALUE_CAP}((${rowSizeSql(columns, 'capped')})::bigint, ${Math.floor(cap)})`;
}

/** The value cap's refusal as a ValueTooLargeError; any other error unchanged. */
export function valueCapError(error: unknown): unknown {
  const { code, message } = error as { code?: string; message?: string };
  if (code !== VALUE_CAP_STATE || !message) return error;
  const [bytes, cap] = message.split(' ').map(Number);
  return new ValueTooLargeError(bytes ?? 0, cap ?? 0);
}

