import 'reflect-metadata';
/** `node --import tsx bench/lineage/pregenerate.ts 100000`: builds the cached workspace ahead of a bench run. */
const { openWorkspace } = await import('./cache.js');
for (const size of process.argv.slice(2).map(Number)) {
  const { orm, generated } = await openWorkspace(size);
  console.log(`${size}: ${generated.nodes} nodes, loaded in ${generated.loadSeconds.toFixed(1)} s`);
  await orm.close();
}
