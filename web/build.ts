/**
 * Builds the web UI into web/dist with Vite. `--if-stale` skips the build when web/dist is newer
 * than every source file (what `npm start` and the e2e tests run).
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB = fileURLToPath(new URL('.', import.meta.url));
const STAMP = join(WEB, 'dist', '.built');
const INPUTS = ['index.html', 'graphiql.html', 'vite.config.ts', 'src', '../package-lock.json'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newestMtime(join(path, name))), stat.mtimeMs);
}

/** True when web/dist is missing or older than a source of the bundle. */
export function isStale(): boolean {
  if (!existsSync(STAMP)) return true;
  const built = statSync(STAMP).mtimeMs;
  return INPUTS.some((input) => existsSync(join(WEB, input)) && newestMtime(join(WEB, input)) > built);
}

export async function buildWeb(): Promise<void> {
  const started = Date.now();
  await build({ configFile: join(WEB, 'vite.config.ts') });
  writeFileSync(STAMP, `${new Date().toISOString()}\n`);
  console.log(`web UI built into web/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--if-stale') && !isStale()) {
    console.log('web UI is up to date (web/dist)');
  } else {
    await buildWeb();
  }
}
