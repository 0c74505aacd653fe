/**
 * What versions cost an edit (issue #15). Every `update…` now snapshots the definition and writes
 * a version; with approval required it also writes the draft onto the row and the live definition
 * back, in the same transaction. Baseline, in the same run on the same database: a datasource
 * edit, the same kind of one-transaction write without versions. Also the datasource deletion
 * check, which now reads the versions not live yet: with none, and with one draft per ETL step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { openOrm, sqliteDatabase, type Orm } from '../core/db/orm.js';
import { DatasourceKind } from '../core/db/entities/index.js';
import { AutomationService } from '../api/services/automation.service.js';
import { DatasourceService } from '../api/services/datasource.service.js';
import { writeSettings } from '../api/services/versions/settings.js';
import { SecretBox } from '../core/secrets.js';
import { LineageStore } from '../api/lineage/store.js';
import { measure, writeResult } from './stats.js';

const STEPS = Number(process.env.BENCH_VERSION_STEPS ?? 1_000);
const EDITS = 300;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-'));
  const orm: Orm = await openOrm({ database: sqliteDatabase(join(dir, 'tributary.db')) });
  try {
    const secrets = SecretBox.fromKey(Buffer.alloc(32, 1));
    const lineage = new LineageStore();
    const fork = () => orm.em.fork() as EntityManager;
    const datasources = () => new DatasourceService(fork(), lineage);
    const automations = () => new AutomationService(fork(), secrets, lineage);
    const input = await datasources().create({ name: 'orders', kind: DatasourceKind.STORAGE, columns: [{ name: 'id', type: 'INTEGER' }] });
    const outputs: { id: string }[] = [];
    for (let i = 0; i < 50; i++) outputs.push(await datasources().create({ name: `out_${i}`, kind: DatasourceKind.STORAGE }));
    const steps: string[] = [];
    for (let i = 0; i < STEPS; i++) {
      const step = await automations().createEtlStep({ name: `step ${String(i).padStart(5, '0')}`, inputId: input.id, outputId: outputs[i % outputs.length]!.id, transform: { steps: [] } });
      steps.push(step.id);
    }
    const transform = (i: number) => ({ steps: [{ op: 'filter', where: `id > ${i}` }] });
    const probe = outputs[7]!.id;

    const baseline = await measure(EDITS, (i) => datasources().update(outputs[i % outputs.length]!.id, { description: `edit ${i}` }));
    const live = await measure(EDITS, (i) => automations().updateEtlStep(steps[i % steps.length]!, { transform: transform(i) }));
    const checkWithoutDrafts = await measure(EDITS, () => datasources().dependents(probe));
    await fork().transactional((em) => writeSettings(em as EntityManager, { approvalRequired: true }));
    const draft = await measure(EDITS, (i) => automations().updateEtlStep(steps[(i * 7) % steps.length]!, { transform: transform(i + 1) }));
    for (const id of steps) await automations().updateEtlStep(id, { description: 'every step has a draft' });
    const checkWithDrafts = await measure(EDITS, () => datasources().dependents(probe));

    const ratio = (a: { p50Ms: number }, b: { p50Ms: number }) => Math.round((a.p50Ms / b.p50Ms) * 100) / 100;
    const result = {
      etlSteps: STEPS,
      baselineDatasourceEdit: { description: 'updateDatasource (description): one write transaction, no versions', ...baseline },
      editLive: { description: 'updateEtlStep without approval: the edit and a new LIVE version', ...live, overBaseline: ratio(live, baseline) },
      editDraft: { description: 'updateEtlStep with approval required: the draft written, the live definition restored', ...draft, overBaseline: ratio(draft, baseline) },
      deletionCheckNoDrafts: { description: 'DatasourceService.dependents, no version awaiting', ...checkWithoutDrafts },
      deletionCheckWithDrafts: { description: `the same with ${STEPS} drafts to read`, ...checkWithDrafts, overNoDrafts: ratio(checkWithDrafts, checkWithoutDrafts) },
    };
    console.log(`baseline datasource edit  p50 ${baseline.p50Ms} ms  p95 ${baseline.p95Ms} ms`);
    console.log(`edit, live at once        p50 ${live.p50Ms} ms  (${result.editLive.overBaseline}x the baseline)`);
    console.log(`edit of a draft           p50 ${draft.p50Ms} ms  (${result.editDraft.overBaseline}x the baseline)`);
    console.log(`deletion check            p50 ${checkWithoutDrafts.p50Ms} ms without drafts, ${checkWithDrafts.p50Ms} ms with ${STEPS} (${result.deletionCheckWithDrafts.overNoDrafts}x)`);
    console.log(`wrote ${writeResult('versions', result)}`);
  } finally {
    await orm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
