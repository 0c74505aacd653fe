import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BACKEND_FREE } from '../backend-free.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** What opens the metadata database on the suite's backend, or picks the backend. */
const BACKEND = /startTestServer|serverWithFactories|demoInBrowser|backendEnv|TEST_BACKEND|TRIBUTARY_TEST_BACKEND|openOrm|initOrm|openRuntime|startServer/;

/** A file and the test helpers it imports (relative imports under test/), transitively. */
function withHelpers(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const [, spec] of text.matchAll(/from '(\.[^']+)'/g)) {
    const target = resolve(dirname(file), spec!.replace(/\.js$/, '.ts'));
    if (target.startsWith(join(ROOT, 'test'))) withHelpers(target, seen);
  }
  return [...seen];
}

describe('the files the PostgreSQL run leaves out', () => {
  it('exist, and neither they nor their test helpers reach for the backend', () => {
    const all = (readdirSync(join(ROOT, 'test'), { recursive: true }) as string[]).map((f) => `test/${f}`).filter((f) => f.endsWith('.test.ts'));
    const listed = (entry: string) => (f: string) => (entry.endsWith('/') ? f.startsWith(entry) : f === entry);
    for (const entry of BACKEND_FREE) expect(all.some(listed(entry)), `${entry} names no test file`).toBe(true);
    const files = all.filter((f) => BACKEND_FREE.some((entry) => listed(entry)(f)));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      for (const used of withHelpers(join(ROOT, file))) {
        expect(BACKEND.exec(readFileSync(used, 'utf8'))?.[0], `${file} (through ${relative(ROOT, used)})`).toBeUndefined();
      }
    }
  });
});
