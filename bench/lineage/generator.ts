/**
 * Synthetic workspaces shaped like real ones, loaded through the service layer: a layered DAG
 * (raw files and SFTP drops at the top), ETL steps with one input, scripts reading several
 * inputs from nearby upstream datasources and writing one or two outputs (fan-in and fan-out),
 * joins (and joins of joins), scripts whose code names datasources they do not declare, and
 * chain tasks nested two deep, a few of them scheduled.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../../core/db/orm.js';
import { DatasourceKind, JoinType, ScriptLanguage } from '../../core/db/entities/index.js';
import { LineageStore } from '../../api/lineage/store.js';
import { AutomationService } from '../../api/services/automation.service.js';
import { DatasourceService } from '../../api/services/datasource.service.js';
import { SecretBox } from '../../core/secrets.js';
import { FileRoots } from '../../jobs/warehouse/file-roots.js';

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

/** Loads a workspace of about `target` nodes (datasources + automations) into the ORM's database. */
export async function generateWorkspace(orm: Orm, target: number, seed = 42): Promise<GeneratedWorkspace> {
  const rand = random(seed);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  const started = performance.now();
  const lineage = new LineageStore();
  const secrets = SecretBox.fromKey(Buffer.alloc(32, 3));
  // FILE paths must lie in a FILE root; these files are never read (relative paths land in it).
  const files = new FileRoots({ dataDir: join(tmpdir(), 'tributary-bench-files') });
  // A fresh EntityManager every 200 writes keeps the identity map small, as per-request forks do.
  let em = orm.em.fork() as EntityManager;
  let ds = new DatasourceService(em, lineage, files);
  let auto = new AutomationService(em, secrets, lineage);
  let pending = 0;

  // Each layer: ~half datasources, ~half automations producing them.
  const width = Math.max(2, Math.round(target / (LAYERS * 1.9)));
  const layers: string[][] = [];
  const automationIds: string[] = [];
  const scheduledEvery = 12;
  let counter = 0;
  const name = (prefix: string) => `${prefix}_${String(++counter).padStart(6, '0')}`;
  /** A datasource from layer `layer`, near relative position `at` (locality keeps lineage cones realistic). */
  const near = (layer: number, at: number) => {
    const list = layers[layer]!;
    const centre = Math.round(at * (list.length - 1));
    const index = Math.min(list.length - 1, Math.max(0, centre + Math.round((rand() - 0.5) * 6)));
    return list[index]!;
  };

  const flush = async () => {
    pending = 0;
    em = orm.em.fork() as EntityManager;
    ds = new DatasourceService(em, lineage, files);
    auto = new AutomationService(em, secrets, lineage);
  };
  const step = async () => {
    if (++pending >= 200) await flush();
  };

  // Layer 0: raw files and SFTP drops.
  layers.push([]);
  for (let i = 0; i < width; i++) {
    const isFile = i % 3 !== 0;
    const raw = await ds.create({ name: name(isFile ? 'raw_file' : 'drop'), kind: isFile ? DatasourceKind.FILE : DatasourceKind.STORAGE, path: isFile ? `in/${counter}.csv` : undefined, tags: i % 5 === 0 ? ['finance'] : [] });
    layers[0]!.push(raw.id);
    if (!isFile) {
      const sftp = await auto.createSftpImport({
        name: name('import'),
        host: 'sftp.example.test',
        username: 'loader',
        password: 'secret',
        remoteDir: '/out',
        filePattern: '*.csv',
        outputId: raw.id,
        schedule: i % scheduledEvery === 0 ? { cron: '0 * * * *', timezone: 'UTC' } : undefined,
      });
      automationIds.push(sftp.id);
      await step();
    }
    await step();
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
        const join = await ds.create({ name: name('join'), kind: DatasourceKind.JOIN, join: { leftId: left, rightId: right, leftKey: 'id', rightKey: 'id', type: JoinType.LEFT } });
        layers[layer]!.push(join.id);
      } else if (roll < 0.7) {
        const output = await ds.create({ name: name('table'), kind: DatasourceKind.STORAGE, tags: rand() < 0.1 ? ['finance'] : [] });
        const etl = await auto.createEtlStep({ name: name('etl'), inputId: near(layer - 1, at), outputId: output.id, schedule });
        layers[layer]!.push(output.id);
        automationIds.push(etl.id);
        await step();
      } else {
        // A script with 2–4 inputs from the last few layers and one or two outputs.
        const inputs = new Set<string>();
        const wanted = 2 + Math.floor(rand() * 3);
        for (let k = 0; k < wanted; k++) inputs.add(near(Math.max(0, layer - 1 - Math.floor(rand() * 3)), at));
        const outputs = [await ds.create({ name: name('table'), kind: DatasourceKind.STORAGE })];
        if (rand() < 0.3) outputs.push(await ds.create({ name: name('table'), kind: DatasourceKind.STORAGE }));
        const undeclaredRef = pick(layers[Math.max(0, layer - 2)]!);
        const script = await auto.createScript({
          name: name('script'),
          language: rand() < 0.7 ? ScriptLanguage.PYTHON : ScriptLanguage.JAVASCRIPT,
          code: `# reads ${inputs.size} inputs\naudit = "${undeclaredRef}"\nrows = read_all()\nwrite(rows)\n`,
          inputIds: [...inputs],
          outputIds: outputs.map((o) => o.id),
          schedule,
        });
        layers[layer]!.push(...outputs.map((o) => o.id));
        automationIds.push(script.id);
        await step();
      }
      await step();
    }
  }

  // Chains: each triggers 3–6 automations; every fourth chain nests the previous three; a few are scheduled.
  const chains: string[] = [];
  const chainCount = Math.max(1, Math.round(automationIds.length / 40));
  for (let c = 0; c < chainCount; c++) {
    const nested = c % 4 === 3;
    const steps = nested ? chains.slice(-3) : Array.from(new Set(Array.from({ length: 3 + Math.floor(rand() * 4) }, () => pick(automationIds))));
    const chain = await auto.createChainTask({ name: name('chain'), stepIds: steps, schedule: nested && c % 8 === 3 ? { cron: '0 2 * * *', timezone: 'UTC' } : undefined });
    chains.push(chain.id);
    await step();
  }
  await flush();

  const datasources = layers.reduce((n, l) => n + l.length, 0);
  const automations = automationIds.length + chains.length;
  return { nodes: datasources + automations, datasources, automations, layers, loadSeconds: (performance.now() - started) / 1000 };
}
