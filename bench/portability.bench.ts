/**
 * Import speed (issue #16): a 10,000-object workspace (the lineage bench's generator: files,
 * tables, joins, ETL steps, scripts, SFTP imports, chains) imported in one transaction through the
 * bulk path, against the per-object API path (each object through its create mutation's service,
 * one transaction each) on the first objects of the same archive, in the same run on fresh SQLite
 * databases. Also: exporting the imported workspace, and whether that export equals the archive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import { openOrm, sqliteDatabase } from '../core/db/orm.js';
import { AutomationKind, DatasourceKind, type Datasource } from '../core/db/entities/index.js';
import { AutomationService } from '../api/services/automation.service.js';
import { DatasourceService } from '../api/services/datasource.service.js';
import { importArchive } from '../api/services/portability/import.js';
import { exportWorkspace } from '../api/services/portability/export.js';
import type { ExportedAutomation, ExportedDatasource } from '../api/services/portability/format.js';
import { benchImportDeps, generateArchive } from './lineage/generator.js';
import { writeResult } from './stats.js';

const OBJECTS = Number(process.env.BENCH_IMPORT_OBJECTS ?? 10_000);
const BASELINE_OBJECTS = Number(process.env.BENCH_IMPORT_BASELINE ?? 1_000);

async function freshOrm(dir: string, name: string) {
  return openOrm({ database: sqliteDatabase(join(dir, `${name}.db`)) });
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-portability-'));
  try {
    const { archive } = generateArchive(OBJECTS);
    const objects = archive.objects.length;
    const deps = benchImportDeps();

    // The bulk path: one import of everything.
    const bulkOrm = await freshOrm(dir, 'bulk');
    const t0 = performance.now();
    const report = await importArchive(bulkOrm.em.fork() as EntityManager, deps, archive, { conflict: 'SKIP', dryRun: false });
    const bulkMs = performance.now() - t0;
    if (!report.committed) throw new Error(`the import was refused: ${JSON.stringify(report.objects.filter((o) => o.outcome === 'REFUSED').slice(0, 3))}`);
    const t1 = performance.now();
    const dryRun = await importArchive(bulkOrm.em.fork() as EntityManager, deps, archive, { conflict: 'RENAME', dryRun: true });
    const dryRunMs = performance.now() - t1;
    const t2 = performance.now();
    const exported = await exportWorkspace(bulkOrm.em.fork() as EntityManager, deps.secrets, { dependencies: true, withPlainTextCredentials: true, source: { version: 'bench', url: null } });
    const exportMs = performance.now() - t2;
    await bulkOrm.close();

    // The per-object path: the same objects, in order, each through its service (as the API does).
    const baseOrm = await freshOrm(dir, 'per-object');
    const ids = new Map<string, string>();
    const baseline = archive.objects.slice(0, BASELINE_OBJECTS);
    const t3 = performance.now();
    for (const object of baseline) {
      const em = baseOrm.em.fork() as EntityManager;
      if (object.type === 'DATASOURCE') ids.set(object.name, (await createDatasource(new DatasourceService(em, deps.lineage, deps.files), object, ids)).id);
      else if (object.type === 'AUTOMATION') ids.set(object.name, await createAutomation(new AutomationService(em, deps.secrets, deps.lineage), object, ids));
    }
    const baselineMs = performance.now() - t3;
    await baseOrm.close();

    const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
    const result = {
      objects,
      bulkImport: { description: `importArchive of ${objects} objects, one transaction (bulk path)`, seconds: round(bulkMs / 1000), objectsPerSecond: perSecond(objects, bulkMs) },
      dryRun: { description: 'the same archive again with RENAME, dry run (every object checked and written, then rolled back)', seconds: round(dryRunMs / 1000) },
      perObjectApiPath: {
        description: `the first ${baseline.length} objects through the services' create methods, one transaction each`,
        seconds: round(baselineMs / 1000),
        objectsPerSecond: perSecond(baseline.length, baselineMs),
        projectedSecondsForAll: round((baselineMs / baseline.length) * objects / 1000),
      },
      bulkOverPerObject: round(perSecond(objects, bulkMs) / perSecond(baseline.length, baselineMs)),
      export: { description: `exportWorkspace of the imported ${objects} objects (ZIP built)`, seconds: round(exportMs / 1000), zipBytes: exported.zip.length },
      exportHasEveryObject: exported.manifest.objects.length === objects,
      dryRunObjects: dryRun.objects.length,
      targetSeconds: 10,
      meetsTarget: bulkMs / 1000 <= 10,
    };
    console.log(JSON.stringify(result, null, 2));
    writeResult('portability', result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

function createDatasource(service: DatasourceService, d: ExportedDatasource, ids: Map<string, string>): Promise<Datasource> {
  return service.create({
    name: d.name,
    kind: d.kind,
    tags: d.tags,
    columns: d.columns,
    ...(d.kind === DatasourceKind.FILE ? { path: d.path } : {}),
    ...(d.join ? { join: { leftId: ids.get(d.join.left)!, rightId: ids.get(d.join.right)!, leftKey: d.join.leftKey, rightKey: d.join.rightKey, type: d.join.type } } : {}),
  });
}

async function createAutomation(service: AutomationService, a: ExportedAutomation, ids: Map<string, string>): Promise<string> {
  const s = a.settings as Record<string, any>;
  const common = { name: a.name, schedule: a.schedule };
  switch (a.kind) {
    case AutomationKind.ETL_STEP:
      return (await service.createEtlStep({ ...common, inputId: ids.get(a.inputs[0]!)!, outputId: ids.get(a.outputs[0]!)!, transform: s.transform })).id;
    case AutomationKind.SFTP_IMPORT:
      return (await service.createSftpImport({ ...common, host: s.host, username: s.username, password: s.password, remoteDir: s.remoteDir, filePattern: s.filePattern, outputId: ids.get(a.outputs[0]!)! })).id;
    case AutomationKind.SCRIPT:
      return (await service.createScript({ ...common, language: s.language, code: s.code, inputIds: a.inputs.map((n) => ids.get(n)!), outputIds: a.outputs.map((n) => ids.get(n)!) })).id;
    case AutomationKind.CHAIN_TASK:
      return (await service.createChainTask({ ...common, stepIds: (s.steps as string[]).map((n) => ids.get(n)!) })).id;
    case AutomationKind.DATABASE_TABLE:
    case AutomationKind.EXTERNAL_JOB:
      throw new Error(`the generated workspace has no ${a.kind}`);
  }
}
