import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Orm } from '../../core/db/orm.js';
import { openOrm, sqliteDatabase } from '../../core/db/orm.js';
import { generateWorkspace, type GeneratedWorkspace } from './generator.js';

/** Generated databases are kept here between runs. */
export const CACHE_DIR = join(tmpdir(), 'tributary-bench-lineage-v3');

/** Opens the cached workspace of `size` nodes, generating it (one bulk import) the first time. */
export async function openWorkspace(size: number): Promise<{ dir: string; orm: Orm; generated: GeneratedWorkspace }> {
  const dir = join(CACHE_DIR, String(size));
  const meta = join(dir, 'generated.json');
  if (!existsSync(meta)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const orm = await openOrm({ database: sqliteDatabase(join(dir, 'tributary.db')) });
    const generated = await generateWorkspace(orm, size);
    await orm.close();
    writeFileSync(meta, JSON.stringify({ ...generated, layers: undefined }));
    console.log(`  generated ${generated.nodes} nodes (one import) in ${generated.loadSeconds.toFixed(1)} s`);
  }
  const generated = JSON.parse(readFileSync(meta, 'utf8')) as GeneratedWorkspace;
  return { dir, orm: await openOrm({ database: sqliteDatabase(join(dir, 'tributary.db')) }), generated };
}

