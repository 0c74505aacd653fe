// The triggers that keep the lineage history tables (core/db/entities/lineage-history.ts), for
// both dialects: each insert opens a period, each update of a tracked column closes the open one
// and opens another, each delete closes it. Written by the migrations that create or rebuild the
// tables (a SQLite table rebuild drops its triggers: a migration rebuilding one of these tables
// must call these again).

interface Tracked {
  table: string;
  history: string;
  /** [column in the table, column in the history]: what identifies one object's periods. */
  key: [string, string][];
  /** Columns copied as they are; a change to one of them (or the key) starts a new period. */
  columns: string[];
  /** Copied too, but a change to them alone starts no period (a dataset's producer changes with every event of another producer). */
  untracked?: string[];
  /** How the backfill of existing rows dates them (an SQL expression over `t`, the table). */
  since: string;
  /** Joined for `since` (aliased `a`), when the table has no date of its own. */
  join?: string;
}

export const TRACKED: Tracked[] = [
  { table: 'datasource', history: 'datasource_history', key: [['id', 'datasource_id']], columns: ['name', 'kind', 'tags', 'join_left_id', 'join_right_id'], untracked: ['producer'], since: 't.created_at' },
  {
    table: 'automation',
    history: 'automation_history',
    key: [['id', 'automation_id']],
    columns: ['name', 'kind', 'state', 'schedule_cron', 'language', 'draft_only'],
    untracked: ['producer'],
    since: 't.created_at',
  },
  {
    table: 'automation_io',
    history: 'automation_io_history',
    key: [['automation_id', 'automation_id'], ['datasource_id', 'datasource_id'], ['direction', 'direction']],
    columns: ['position'],
    since: 'a.created_at',
    join: 'join automation a on a.id = t.automation_id',
  },
  {
    table: 'chain_step',
    history: 'chain_step_history',
    key: [['chain_id', 'chain_id'], ['step_id', 'step_id']],
    columns: ['position'],
    since: 'a.created_at',
    join: 'join automation a on a.id = t.chain_id',
  },
];

const historyColumns = (t: Tracked) => [...t.key.map(([, h]) => h), ...t.columns, ...(t.untracked ?? [])];
const tableColumns = (t: Tracked) => [...t.key.map(([c]) => c), ...t.columns, ...(t.untracked ?? [])];
/** What starts a new period when it changes. */
const trackedColumns = (t: Tracked) => [...t.key.map(([c]) => c), ...t.columns];
const openOf = (t: Tracked, row: string) => t.key.map(([c, h]) => `${h} = ${row}.${c}`).join(' and ');

/** The statements of the SQLite triggers, and the backfill dating every existing row from its creation. */
export function sqliteHistorySql(): string[] {
  // Milliseconds since the epoch, as MikroORM stores dates in SQLite; the same for the whole statement.
  const now = `cast(round((julianday('now') - 2440587.5) * 86400000) as integer)`;
  const sql: string[] = [];
  for (const t of TRACKED) {
    const insert = `insert into ${t.history} (${historyColumns(t).join(', ')}, valid_from) values (${tableColumns(t).map((c) => `new.${c}`).join(', ')}, ${now});`;
    const close = `update ${t.history} set valid_until = ${now} where ${openOf(t, 'old')} and valid_until is null;`;
    const changed = trackedColumns(t).map((c) => `old.${c} is not new.${c}`).join(' or ');
    sql.push(`drop trigger if exists ${t.history}_insert;`, `drop trigger if exists ${t.history}_update;`, `drop trigger if exists ${t.history}_delete;`);
    sql.push(`create trigger ${t.history}_insert after insert on ${t.table} begin ${insert} end;`);
    sql.push(`create trigger ${t.history}_update after update on ${t.table} when ${changed} begin ${close} ${insert} end;`);
    sql.push(`create trigger ${t.history}_delete after delete on ${t.table} begin ${close} end;`);
  }
  return sql;
}

/**
 * The statements of the PostgreSQL trigger functions and triggers. A change is dated when it is
 * made (`clock_timestamp()`), not when its transaction began (`now()`): transactions that began in
 * one order may change a row in the other, and periods must follow the order of the changes.
 */
export function postgresHistorySql(): string[] {
  const sql: string[] = [];
  for (const t of TRACKED) {
    const fn = `${t.history}_record`;
    const insert = `insert into ${t.history} (${historyColumns(t).join(', ')}, valid_from) values (${tableColumns(t).map((c) => `new.${c}`).join(', ')}, at);`;
    const close = `update ${t.history} set valid_until = greatest(at, valid_from) where ${openOf(t, 'old')} and valid_until is null;`;
    const changed = trackedColumns(t).map((c) => `old.${c} is distinct from new.${c}`).join(' or ');
    sql.push(
      `create or replace function ${fn}() returns trigger language plpgsql as $$
declare
  at timestamptz := clock_timestamp();
begin
  if tg_op in ('UPDATE', 'DELETE') then ${close} end if;
  if tg_op in ('INSERT', 'UPDATE') then ${insert} end if;
  return null;
end $$;`,
      `drop trigger if exists ${t.history}_write on ${t.table};`,
      `drop trigger if exists ${t.history}_update on ${t.table};`,
      `create trigger ${t.history}_write after insert or delete on ${t.table} for each row execute function ${fn}();`,
      `create trigger ${t.history}_update after update on ${t.table} for each row when (${changed}) execute function ${fn}();`,
    );
  }
  return sql;
}

/** The names of the triggers the history needs, per dialect: a startup or test check that none went missing. */
export function historyTriggerNames(dialect: 'sqlite' | 'postgresql'): string[] {
  return TRACKED.flatMap((t) => (dialect === 'sqlite' ? ['insert', 'update', 'delete'] : ['write', 'update']).map((suffix) => `${t.history}_${suffix}`));
}

/** Every existing row as one open period, dated from its creation (what came before history was kept is not known). */
export function backfillHistorySql(): string[] {
  return TRACKED.map(
    (t) => `insert into ${t.history} (${historyColumns(t).join(', ')}, valid_from) select ${tableColumns(t).map((c) => `t.${c}`).join(', ')}, ${t.since} from ${t.table} t ${t.join ?? ''};`,
  );
}
