/**
 * Synthetic workspaces shaped like real ones: a layered DAG (raw files and SFTP drops at the top),
 * ETL steps with one input, scripts reading several inputs from nearby upstream datasources and
 * writing one or two outputs (fan-in and fan-out), joins (and joins of joins), scripts whose code
 * names datasources they do not declare, and chain tasks nested two deep, a few of them scheduled.
 * The workspace is made as an export archive and loaded through the import's bulk path, as a team
 * moving its flows to Tributary would load them (bench/portability.bench.ts measures that path).
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../../core/db/orm.js';
import { AutomationKind, DatasourceKind, ErrorPolicy, ErrorRecordFormat, JoinType, ScriptLanguage, WriteMode } from '../../core/db/entities/index.js';
import { LineageStore } from '../../api/lineage/store.js';
import { SecretBox } from '../../core/secrets.js';
import { FileRoots } from '../../jobs/warehouse/file-roots.js';
import { importArchive } from '../../api/services/portability/import.js';
import { EXPORT_FORMAT, FORMAT_VERSION, type ExportedAutomation, type ExportedDatasource, type ExportedObject, type Manifest } from '../../api/services/portability/format.js';
import type { ExportArchive } from '../../api/services/portability/read.js';

export const LAYERS = 24;

export interface GeneratedWorkspace {
  nodes: number;
  datasources: number;
  automations: number;
  /** Datasource ids per layer; the last layer holds the deepest leaves. */
  layers: string[][];
  loadSeconds: number;
}

/** Small deterministic PRNG (mulberry32), so every run builds the same workspace. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What the import needs besides the archive, for a workspace with no server around it. */
export function benchImportDeps() {
  return {
    secrets: SecretBox.fromKey(Buffer.alloc(32, 3)),
    // FILE paths must lie in a FILE root; these files are never read (relative paths land in it).
    files: new FileRoots({ dataDir: join(tmpdir(), 'tributary-bench-files') }),
    warehouse: { dialect: 'sqlite' as const },
    lineage: new LineageStore(),
    actorId: null,
  };
}

/** Loads a workspace of about `target` nodes (datasources + automations) into the ORM's database, in one import. */
export async function generateWorkspace(orm: Orm, target: number, seed = 42): Promise<GeneratedWorkspace> {
  const started = performance.now();
  const { archive, layers, datasources, automations } = generateArchive(target, seed);
  const report = await importArchive(orm.em.fork() as EntityManager, benchImportDeps(), archive, { conflict: 'SKIP', dryRun: false });
  if (!report.committed) throw new Error(`the generated workspace was refused: ${JSON.stringify(report.objects.filter((o) => o.outcome === 'REFUSED').slice(0, 3))}`);
  return { nodes: datasources + automations, datasources, automations, layers, loadSeconds: (performance.now() - started) / 1000 };
}

/** The workspace of about `target` nodes as an export archive (objects refer to each other by name). */
export function generateArchive(target: number, seed = 42): { archive: ExportArchive; layers: string[][]; datasources: number; automations: number } {
  const rand = random(seed);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const objects: ExportedObject[] = [];
  const names = new Map<string, string>();
  let counter = 0;
  const datasource = (kind: DatasourceKind, prefix: string, extra: Partial<ExportedDatasource> = {}): string => {
    const id = randomUUID();
    const name = `${prefix}_${String(++counter).padStart(6, '0')}`;
    names.set(id, name);
    objects.push({ type: 'DATASOURCE', id, name, kind, description: null, tags: [], path: null, columns: [], join: null, ...extra });
    return id;
  };
  const automation = (kind: AutomationKind, prefix: string, io: { inputs?: string[]; outputs?: string[] }, settings: Record<string, unknown>, schedule?: { cron: string; timezone: string }): string => {
    const id = randomUUID();
    const name = `${prefix}_${String(++counter).padStart(6, '0')}`;
    names.set(id, name);
    objects.push({
      type: 'AUTOMATION', id, name, kind, description: null, schedule: schedule ?? null,
      writeMode: WriteMode.REPLACE, writeKeys: [], errorPolicy: ErrorPolicy.FAIL_RUN, errorRecordFormat: ErrorRecordFormat.ORIGINAL_RECORD, errorDatasource: null,
      inputs: (io.inputs ?? []).map((i) => names.get(i)!), outputs: (io.outputs ?? []).map((o) => names.get(o)!), parameterSets: [], settings,
    } satisfies ExportedAutomation);
    return id;
  };
  // Each layer: ~half datasources, ~half automations producing them.
  const width = Math.max(2, Math.round(target / (LAYERS * 1.9)));
  const layers: string[][] = [];
  const automationIds: string[] = [];
  const scheduledEvery = 12;
  /** A datasource from layer `layer`, near relative position `at` (locality keeps lineage cones realistic). */
  const near = (layer: number, at: number) => {
    const list = layers[layer]!;
    const centre = Math.round(at * (list.length - 1));
    const index = Math.min(list.length - 1, Math.max(0, centre + Math.round((rand() - 0.5) * 6)));
    return list[index]!;
  };

  // Layer 0: raw files and SFTP drops.
  layers.push([]);
  for (let i = 0; i < width; i++) {
    const isFile = i % 3 !== 0;
    const raw = datasource(isFile ? DatasourceKind.FILE : DatasourceKind.STORAGE, isFile ? 'raw_file' : 'drop', { path: isFile ? `in/${counter + 1}.csv` : null, tags: i % 5 === 0 ? ['finance'] : [] });
    layers[0]!.push(raw);
    if (!isFile) {
      const sftp = automation(
        AutomationKind.SFTP_IMPORT,
        'import',
        { outputs: [raw] },
        { host: 'sftp.example.test', port: 22, username: 'loader', password: 'secret', remoteDir: '/out', filePattern: '*.csv', hostKeyFingerprint: null, afterImport: 'KEEP', moveToDir: null },
        i % scheduledEvery === 0 ? { cron: '0 * * * *', timezone: 'UTC' } : undefined,
      );
      automationIds.push(sftp);
    }
  }

  for (let layer = 1; layer < LAYERS; layer++) {
    layers.push([]);
    for (let i = 0; i < width; i++) {
      const at = i / Math.max(1, width - 1);
      const schedule = rand() < 1 / scheduledEvery ? { cron: `${i % 60} ${layer % 24} * * *`, timezone: 'Europe/Paris' } : undefined;
      const roll = rand();
      if (roll < 0.1 && layer > 1) {
        // A join of two nearby datasources (possibly joins themselves).
        const left = near(layer - 1, at);
        let right = near(layer - 1 - Math.floor(rand() * Math.min(2, layer - 1)), at);
        if (right === left) right = near(layer - 1, 1 - at);
        if (right === left) continue;
        const join = datasource(DatasourceKind.JOIN, 'join', { join: { left: names.get(left)!, right: names.get(right)!, leftKey: 'id', rightKey: 'id', type: JoinType.LEFT } });
        layers[layer]!.push(join);
      } else if (roll < 0.7) {
        const output = datasource(DatasourceKind.STORAGE, 'table', { tags: rand() < 0.1 ? ['finance'] : [] });
        const etl = automation(AutomationKind.ETL_STEP, 'etl', { inputs: [near(layer - 1, at)], outputs: [output] }, { transform: {} }, schedule);
        layers[layer]!.push(output);
        automationIds.push(etl);
      } else {
        // A script with 2–4 inputs from the last few layers and one or two outputs.
        const inputs = new Set<string>();
        const wanted = 2 + Math.floor(rand() * 3);
        for (let k = 0; k < wanted; k++) inputs.add(near(Math.max(0, layer - 1 - Math.floor(rand() * 3)), at));
        const outputs = [datasource(DatasourceKind.STORAGE, 'table')];
        if (rand() < 0.3) outputs.push(datasource(DatasourceKind.STORAGE, 'table'));
        const undeclaredRef = pick(layers[Math.max(0, layer - 2)]!);
        const script = automation(
          AutomationKind.SCRIPT,
          'script',
          { inputs: [...inputs], outputs },
          {
            language: rand() < 0.7 ? ScriptLanguage.PYTHON : ScriptLanguage.JAVASCRIPT,
            code: `# reads ${inputs.size} inputs\naudit = "${undeclaredRef}"\nrows = read_all()\nwrite(rows)\n`,
            variables: null,
            timeoutSeconds: 600,
            memoryMb: 512,
          },
          schedule,
        );
        layers[layer]!.push(...outputs);
        automationIds.push(script);
      }
    }
  }

  // Chains: each triggers 3–6 automations; every fourth chain nests the previous three; a few are scheduled.
  const chains: string[] = [];
  const chainCount = Math.max(1, Math.round(automationIds.length / 40));
  for (let c = 0; c < chainCount; c++) {
    const nested = c % 4 === 3;
    const steps = nested ? chains.slice(-3) : Array.from(new Set(Array.from({ length: 3 + Math.floor(rand() * 4) }, () => pick(automationIds))));
    const chain = automation(AutomationKind.CHAIN_TASK, 'chain', {}, { steps: steps.map((id) => names.get(id)!), continueOnFailure: false }, nested && c % 8 === 3 ? { cron: '0 2 * * *', timezone: 'UTC' } : undefined);
    chains.push(chain);
  }

  const datasources = layers.reduce((n, l) => n + l.length, 0);
  const manifest: Manifest = { format: EXPORT_FORMAT, formatVersion: FORMAT_VERSION, source: { product: 'tributary' as const, version: 'bench', url: null }, exportedAt: new Date(0).toISOString(), withPlainTextCredentials: true, objects: [] };
  return { archive: { manifest, objects }, layers, datasources, automations: automationIds.length + chains.length };
}
