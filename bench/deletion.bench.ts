/**
 * Deletion check with 10,000 scripts (issue #2): the check looks script references up in the
 * token index written when a script is saved. Baseline, in the same run over the same file:
 * what a check without the index must do, read every script's code and search it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { openOrm, sqliteDatabase } from '../core/db/orm.js';
import { DatasourceKind, ScriptLanguage } from '../core/db/entities/index.js';
import { AutomationService } from '../api/services/automation.service.js';
import { DatasourceService } from '../api/services/datasource.service.js';
import { SecretBox } from '../core/secrets.js';
import { LineageStore } from '../api/lineage/store.js';
import { measure, writeResult } from './stats.js';

const SCRIPTS = Number(process.env.BENCH_SCRIPTS ?? 10_000);
const DATASOURCES = Number(process.env.BENCH_DATASOURCES ?? 2_000);
const PROBES = 200;

/** A plausible Python script of ~60 lines naming two datasources and holding one id. */
function scriptCode(i: number, names: string[], ids: string[]): string {
  const a = names[(i * 7) % names.length]!;
  const b = names[(i * 13 + 5) % names.length]!;
  const id = ids[(i * 31 + 11) % ids.length]!;
  const body = Array.from({ length: 50 }, (_, line) => `    total_${line} = sum(row["amount_${line % 7}"] for row in rows if row.get("status") == 'ok')`);
  return [
    'import tributary',
    `SOURCE = "${a}"`,
    `TARGET = '${b}'`,
    `AUDIT_ID = "${id}"`,
    `def main(args, kwargs):`,
    `    rows = tributary.read(SOURCE)`,
    ...body,
    `    tributary.write(TARGET, rows)`,
    `    print(f"done {len(rows)} rows for job ${i}")`,
  ].join('\n');
}

/** The check without an index: read all script code, search each for the id or quoted name. */
async function scanScripts(em: EntityManager, id: string, name: string): Promise<string[]> {
  const rows: { id: string; code: string }[] = await em.getConnection().execute(`select id, code from automation where kind = 'SCRIPT'`);
  const quoted = [`'${name}'`, `"${name}"`, `\`${name}\``];
  const lowerId = id.toLowerCase();
  return rows.filter((row) => row.code.toLowerCase().includes(lowerId) || quoted.some((q) => row.code.includes(q))).map((row) => row.id);
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const orm = await openOrm({ database: sqliteDatabase(join(dir, 'tributary.db')) });
  try {
    const secrets = SecretBox.fromKey(Buffer.alloc(32, 1));
    const lineage = new LineageStore();
    const loadStart = performance.now();
    const datasources = new DatasourceService(orm.em.fork() as EntityManager, lineage);
    const names: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < DATASOURCES; i++) {
      const ds = await datasources.create({ name: `warehouse.table_${String(i).padStart(5, '0')}`, kind: DatasourceKind.STORAGE });
      names.push(ds.name);
      ids.push(ds.id);
    }
    for (let i = 0; i < SCRIPTS; i++) {
      // A fresh EntityManager per script, as each GraphQL request gets, so the identity map stays small.
      const automations = new AutomationService(orm.em.fork() as EntityManager, secrets, lineage);
      const declares = i % 3 === 0;
      await automations.createScript({
        name: `script ${String(i).padStart(5, '0')}`,
        language: ScriptLanguage.PYTHON,
        code: scriptCode(i, names, ids),
        inputIds: declares ? [ids[(i * 7) % ids.length]!] : null,
        outputIds: declares ? [ids[(i * 13 + 5) % ids.length]!] : null,
      });
    }
    const loadSeconds = (performance.now() - loadStart) / 1000;
    console.log(`loaded ${DATASOURCES} datasources and ${SCRIPTS} scripts through the service layer in ${loadSeconds.toFixed(1)} s`);

    // Every probe must agree with the scan before anything is timed.
    for (let p = 0; p < PROBES; p++) {
      const k = (p * 97) % ids.length;
      const indexed = (await new DatasourceService(orm.em.fork() as EntityManager, lineage).dependents(ids[k]!)).filter((d) => d.type === 'SCRIPT').map((d) => d.id);
      const scanned = await scanScripts(orm.em.fork() as EntityManager, ids[k]!, names[k]!);
      const declared = new Set(indexed);
      const missing = scanned.filter((id) => !declared.has(id));
      if (missing.length > 0) throw new Error(`index missed script(s) ${missing.join(', ')} referencing ${names[k]}`);
    }

    const indexed = await measure(PROBES, async (p) => {
      const k = (p * 97) % ids.length;
      await new DatasourceService(orm.em.fork() as EntityManager, lineage).dependents(ids[k]!);
    });
    const scan = await measure(Math.min(PROBES, 50), async (p) => {
      const k = (p * 97) % ids.length;
      await scanScripts(orm.em.fork() as EntityManager, ids[k]!, names[k]!);
    }, 3);

    const ratio = Math.round((scan.p50Ms / indexed.p50Ms) * 10) / 10;
    const result = {
      scripts: SCRIPTS,
      datasources: DATASOURCES,
      loadSeconds: Math.round(loadSeconds * 10) / 10,
      deletionCheck: { description: 'DatasourceService.dependents: the lineage graph (one version check, then links read off the graph)', ...indexed },
      baselineScan: { description: 'read every script\'s code and search it (script references only)', ...scan },
      scanOverCheckRatio: ratio,
      target: 'deletion check p50 under a few milliseconds with 10,000 scripts',
    };
    console.log(`deletion check  p50 ${indexed.p50Ms} ms  p95 ${indexed.p95Ms} ms`);
    console.log(`baseline scan   p50 ${scan.p50Ms} ms  p95 ${scan.p95Ms} ms`);
    console.log(`the scan is ${ratio}x slower than the check`);
    console.log(`wrote ${writeResult('deletion', result)}`);
  } finally {
    await orm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
