import { quoteIdent } from '../../core/db/sql.js';
import type { SqliteDb } from './sqlite-db.js';

/** A table a query may read (with its indexes): `schema` is `main`, `temp` or an attached schema. */
export interface ReadableTable {
  schema: string;
  table: string;
}

/** A query that would reach beyond what it was given to read, or write; `refused` lists what, for the message. */
export class ReadScopeError extends Error {
  constructor(readonly refused: string[]) {
    super(`the query may read only its inputs, but it ${refused.join('; ')}`);
    this.name = 'ReadScopeError';
  }
}

/** One instruction of SQLite's EXPLAIN output. */
interface Instruction {
  opcode: string;
  p1: number;
  p2: number;
  p3: number;
  p4: string | null;
  p5: number;
}

/** Cursors on virtual tables: table-valued functions (pragma_*, json_each, json_tree), dbstat, FTS… */
const VIRTUAL_TABLE_OPS = new Set(['VOpen', 'VFilter', 'VColumn', 'VNext', 'VUpdate', 'VBegin', 'VCreate', 'VDestroy', 'VRename', 'VCheck', 'VInitIn']);

/** Instructions that change a database or its schema, or read outside any cursor; none belongs in a plain SELECT. */
const WRITE_OPS = new Set([
  'OpenWrite',
  'CreateBtree',
  'Destroy',
  'Clear',
  'ParseSchema',
  'LoadAnalysis',
  'DropTable',
  'DropIndex',
  'DropTrigger',
  'SetCookie',
  'ReadCookie',
  'Vacuum',
  'IncrVacuum',
  'IntegrityCk',
  'JournalMode',
  'Checkpoint',
  'Pagecount',
  'MaxPgcnt',
  'SqlExec',
  'Expire',
  'Program',
]);

/** Functions that reach outside the query (they are also disabled or unreachable from a SELECT; refused to be sure). */
const REFUSED_FUNCTIONS = /^(load_extension|sqlite_attach|sqlite_detach|fts3_tokenizer|readfile|writefile|edit)\(/i;

/** OPFLAG_P2ISREG: the root page of an OpenRead comes from a register (never in a SELECT). */
const P2_IS_REGISTER = 0x02;

/**
 * Checks, on the connection that will run it, that `sql` (exactly the text that will run, which
 * must be a SELECT) reads no table but `readable` and their indexes, and writes nothing. SQLite
 * compiles the statement (EXPLAIN prepares it without running it) and every instruction of the
 * program is inspected: each cursor opened on a b-tree (OpenRead, ReopenIdx) must open the root
 * page of an allowed table or index in the allowed schema (so sqlite_schema, other datasources'
 * tables, the staging tables of a write and the metadata of any schema are refused); any cursor on
 * a virtual table is refused (pragma_* and every table-valued function, including json_each and
 * json_tree, and dbstat); any write, write transaction, schema change or trigger program is
 * refused. Only the first statement of the text is compiled, as only it would run.
 * Throws {@link ReadScopeError}; SQLite's own errors (syntax, no such table) pass through.
 */
export async function assertReadsOnly(db: SqliteDb, sql: string, params: unknown[], readable: ReadableTable[]): Promise<void> {
  const program = await db.all<Instruction>(`EXPLAIN ${sql}`, params);
  const schemas = await db.all<{ seq: number; name: string }>('PRAGMA database_list');
  const seqOf = (schema: string) => (schema === 'temp' ? 1 : schemas.find((s) => s.name === schema)?.seq);

  const allowed = new Set<string>();
  for (const { schema, table } of readable) {
    const seq = seqOf(schema);
    if (seq === undefined) continue;
    const pages = await db.all<{ rootpage: number }>(
      `select rootpage from ${quoteIdent(schema)}.sqlite_schema where tbl_name = ? and type in ('table', 'index') and rootpage > 0`,
      [table],
    );
    for (const { rootpage } of pages) allowed.add(`${seq}:${rootpage}`);
  }

  const refused = new Set<string>();
  let names: Map<string, string> | null = null;
  for (const op of program) {
    if (op.opcode === 'OpenRead' || op.opcode === 'ReopenIdx') {
      if ((op.p5 & P2_IS_REGISTER) !== 0) {
        refused.add('opens a table chosen at run time');
        continue;
      }
      if (allowed.has(`${op.p3}:${op.p2}`)) continue;
      names ??= await tableNames(db, schemas);
      refused.add(`reads ${names.get(`${op.p3}:${op.p2}`) ?? 'a table that is not its input'}`);
    } else if (VIRTUAL_TABLE_OPS.has(op.opcode)) {
      refused.add('uses a table-valued function or virtual table (pragma_*, json_each, json_tree, dbstat…), which SQL transforms cannot use');
    } else if (WRITE_OPS.has(op.opcode) || (op.opcode === 'Transaction' && op.p2 !== 0) || (op.opcode === 'TableLock' && op.p3 !== 0)) {
      refused.add('writes or changes the database');
    } else if ((op.opcode === 'Function' || op.opcode === 'PureFunc') && op.p4 && REFUSED_FUNCTIONS.test(op.p4)) {
      refused.add(`calls ${op.p4.replace(/\(.*$/, '')}()`);
    }
  }
  if (refused.size > 0) throw new ReadScopeError([...refused]);
}

/** "schema.table" (or "index … of …") for each root page of each schema, for messages. */
async function tableNames(db: SqliteDb, schemas: { seq: number; name: string }[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const { seq, name } of [...schemas, ...(schemas.some((s) => s.seq === 1) ? [] : [{ seq: 1, name: 'temp' }])]) {
    names.set(`${seq}:1`, name === 'main' ? 'sqlite_schema (sqlite_master)' : `${name}.sqlite_schema`);
    const rows = await db.all<{ type: string; name: string; tbl_name: string; rootpage: number }>(
      `select type, name, tbl_name, rootpage from ${quoteIdent(name)}.sqlite_schema where rootpage > 0`,
    );
    const qualified = (table: string) => (name === 'main' ? table : `${name}.${table}`);
    for (const row of rows) names.set(`${seq}:${row.rootpage}`, row.type === 'index' ? `an index of ${qualified(row.tbl_name)}` : qualified(row.name));
  }
  return names;
}
