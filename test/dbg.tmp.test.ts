import { it } from 'vitest';
import { startTestServer } from './helpers/server.js';
it('dbg', async () => {
  const t = await startTestServer();
  try {
    const r = await t.gql(`mutation { createDatasource(input: { name: "a", kind: STORAGE }) { id name } }`);
    console.log(JSON.stringify(r));
    for (const l of t.logs) if (l.level >= 50) console.log(JSON.stringify(l).slice(0, 1500));
  } finally { await t.close(); }
});
