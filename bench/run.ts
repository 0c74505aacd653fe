import 'reflect-metadata';

/**
 * `npm run bench [-- name…]`: runs the named benchmarks (all when none is named), prints
 * their figures and writes `bench/results/<name>.json`.
 */
const BENCHMARKS: Record<string, () => Promise<void>> = {
  deletion: async () => (await import('./deletion.bench.js')).run(),
  lineage: async () => (await import('./lineage.bench.js')).run(),
  etl: async () => (await import('./etl.bench.js')).run(),
  scheduler: async () => (await import('./scheduler.bench.js')).run(),
  abuse: async () => (await import('./abuse.bench.js')).run(),
  sandbox: async () => (await import('./sandbox.bench.js')).run(),
  scale: async () => (await import('./scale.bench.js')).run(),
  versions: async () => (await import('./versions.bench.js')).run(),
  portability: async () => (await import('./portability.bench.js')).run(),
  openlineage: async () => (await import('./openlineage.bench.js')).run(),
};

const requested = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const unknown = requested.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  console.error(`Unknown benchmark(s): ${unknown.join(', ')}. Available: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
for (const name of requested.length > 0 ? requested : Object.keys(BENCHMARKS)) {
  console.log(`\n== ${name} ==`);
  await BENCHMARKS[name]!();
}
