/**
 * Import (the SDK flows seed, seeds/001: "import flows … conflict_resolution skip, replace or
 * rename"): POST /api/v1/import takes an export ZIP and answers a report per object; one
 * transaction, all or nothing; a dry run writes nothing and answers the same report. The archive
 * is untrusted: unreadable, oversized or malformed ones are refused with a coded error and write nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { factories, type Factories, type Ref } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { finished, runNow } from '../scheduler/helpers.js';
import { setApproval, versionsOf } from '../versions/helpers.js';
import { strToU8, zipSync } from 'fflate';
import { exportOf, importInto, objectFiles, tributaryCli, zipOf } from './helpers.js';

let source: TestServer;
let f: Factories;
let flows: { input: Ref; output: Ref; etl: Ref; chain: Ref; script: Ref; set: Ref };
let zip: Uint8Array;

beforeAll(async () => {
  source = await startTestServer();
  f = factories(source);
  writeFileSync(join(source.filesDir, 'orders.csv'), 'id,amount\n1,10\n2,20\n');
  const set = (await source.ok(`mutation { createParameterSet(input: { name: "rates", parameters: [{ name: "factor", value: "2" }] }) { id name } }`)).createParameterSet;
  const input = await f.file({ path: 'orders.csv', columns: [{ name: 'id', type: 'INTEGER' }, { name: 'amount', type: 'INTEGER' }] });
  const output = await f.storage();
  const etl = await f.etl(input, output, { parameterSetIds: [set.id], transform: { sql: 'select id, amount * ${rates__factor} as amount from input' }, schedule: { cron: '0 3 * * *' } });
  const script = await f.script({ language: 'JAVASCRIPT', inputIds: [output.id], code: `for await (const r of tributary.read('${output.id}')) console.log(r.id);` });
  const chain = await f.chain([etl, script]);
  flows = { input, output, etl, chain, script, set };
  zip = (await exportOf(source)).zip;
});
afterAll(() => source.close());

/** A fresh server whose FILE_ROOTS hold the source's files, so its FILE paths are valid there too. */
const target = () => startTestServer({ FILE_ROOTS: source.filesDir });
const counts = async (t: TestServer) => {
  const data = await t.ok(`{ datasources(first: 1) { totalCount } automations(first: 1) { totalCount } parameterSets { id } }`);
  return { datasources: data.datasources.totalCount, automations: data.automations.totalCount, sets: data.parameterSets.length };
};
const outcomes = (report: { objects: { type: string; name: string; outcome: string; as?: string }[] }) =>
  Object.fromEntries(report.objects.map((o) => [`${o.type} ${o.name}`, o.as ? `${o.outcome} ${o.as}` : o.outcome]));

describe('POST /api/v1/import', () => {
  it('imports into an empty workspace: the same ids, a graph that runs, and an export equal to the first', async () => {
    const t = await target();
    try {
      const { status, body } = await importInto(t, zip);
      expect(status).toBe(200);
      expect(body).toMatchObject({ committed: true, dryRun: false });
      expect(new Set(body.objects.map((o: { outcome: string }) => o.outcome))).toEqual(new Set(['CREATED']));
      expect(body.objects.find((o: { name: string }) => o.name === flows.etl.name).id).toBe(flows.etl.id);

      expect(objectFiles((await exportOf(t)).files)).toEqual(objectFiles((await exportOf(source)).files));
      const { lineage } = await t.ok(`{ lineage(filter: { includeChainTasks: true }) { nodes { id } } }`);
      expect(lineage.nodes.map((n: Ref) => n.id)).toEqual(expect.arrayContaining([flows.input.id, flows.output.id, flows.etl.id, flows.chain.id, flows.script.id]));
      expect((await t.ok(`query($id: ID!) { automation(id: $id) { schedule { cron nextRunAt } versions { number status } } }`, { id: flows.etl.id })).automation).toMatchObject({
        schedule: { cron: '0 3 * * *', nextRunAt: expect.any(String) },
        versions: [{ number: 1, status: 'LIVE' }],
      });
      const run = await finished(t, (await runNow(t, flows.chain.id)).id);
      expect(run.status, run.error ?? '').toBe('SUCCESS');
      const rows = (await t.ok(`query($id: ID!) { rows(datasourceId: $id, first: 10) { nodes } }`, { id: flows.output.id })).rows.nodes;
      expect(rows).toEqual([{ id: 1, amount: 20 }, { id: 2, amount: 40 }]);
    } finally {
      await t.close();
    }
  });

  it('SKIP keeps what is there, REPLACE changes it, RENAME imports beside it with references following', async () => {
    const t = await target();
    try {
      await importInto(t, zip);
      await t.ok(`mutation($id: ID!) { updateDatasource(id: $id, input: { description: "changed here" }) { id } }`, { id: flows.output.id });
      await t.ok(`mutation($id: ID!) { updateEtlStep(id: $id, input: { transform: { sql: "select id, amount from input" } }) { id } }`, { id: flows.etl.id });
      await t.ok(`mutation($id: ID!) { updateParameterSet(id: $id, input: { parameters: [{ name: "factor", value: "5" }] }) { id } }`, { id: flows.set.id });
      const before = await counts(t);

      const skipped = (await importInto(t, zip, { conflict: 'SKIP' })).body;
      expect(new Set(Object.values(outcomes(skipped)))).toEqual(new Set(['SKIPPED']));
      expect(await counts(t)).toEqual(before);
      expect((await t.ok(`query($id: ID!) { automation(id: $id) { ... on EtlStep { transform } } }`, { id: flows.etl.id })).automation.transform.sql).toBe('select id, amount from input');

      const replaced = (await importInto(t, zip, { conflict: 'REPLACE' })).body;
      expect(new Set(Object.values(outcomes(replaced)))).toEqual(new Set(['REPLACED']));
      expect(await counts(t)).toEqual(before);
      expect((await t.ok(`query($id: ID!) { automation(id: $id) { ... on EtlStep { transform } versions { number status } } }`, { id: flows.etl.id })).automation).toMatchObject({
        transform: { sql: expect.stringContaining('${rates__factor}') },
        versions: expect.arrayContaining([expect.objectContaining({ number: 3, status: 'LIVE' })]),
      });
      expect((await t.ok(`query($id: ID!) { datasource(id: $id) { description } }`, { id: flows.output.id })).datasource.description).toBeNull();
      expect((await t.ok(`query($id: ID!) { parameterSet(id: $id) { parameters { value } } }`, { id: flows.set.id })).parameterSet.parameters).toEqual([{ value: '2' }]);

      const renamed = (await importInto(t, zip, { conflict: 'RENAME' })).body;
      expect(outcomes(renamed)).toMatchObject({
        [`DATASOURCE ${flows.output.name}`]: `RENAMED ${flows.output.name} (2)`,
        [`AUTOMATION ${flows.etl.name}`]: `RENAMED ${flows.etl.name} (2)`,
        'PARAMETER_SET rates': 'RENAMED rates_2',
      });
      expect(await counts(t)).toEqual({ datasources: before.datasources * 2, automations: before.automations * 2, sets: 2 });
      const copy = await t.ok(`query($name: String!) { automationByName: automations(search: $name, first: 5) { nodes { name inputs { name } outputs { name } parameterSets { name } ... on EtlStep { transform } } } }`, { name: `${flows.etl.name} (2)` });
      expect(copy.automationByName.nodes[0]).toMatchObject({
        inputs: [{ name: `${flows.input.name} (2)` }],
        outputs: [{ name: `${flows.output.name} (2)` }],
        parameterSets: [{ name: 'rates_2' }],
        transform: { sql: 'select id, amount * ${rates_2__factor} as amount from input' },
      });
      const chainCopy = await t.ok(`query($name: String!) { automations(search: $name, first: 5) { nodes { name ... on ChainTask { steps { name } } } } }`, { name: `${flows.chain.name} (2)` });
      expect(chainCopy.automations.nodes[0].steps.map((s: Ref) => s.name)).toEqual([`${flows.etl.name} (2)`, `${flows.script.name} (2)`]);
    } finally {
      await t.close();
    }
  });

  it('answers a dry run with the report a real import gives, writing nothing', async () => {
    const t = await target();
    try {
      const before = await counts(t);
      const dry = (await importInto(t, zip, { dryRun: 'true' })).body;
      expect(dry).toMatchObject({ dryRun: true, committed: false });
      expect(await counts(t)).toEqual(before);
      const real = (await importInto(t, zip)).body;
      expect(real).toMatchObject({ dryRun: false, committed: true });
      expect(real.objects).toEqual(dry.objects);
    } finally {
      await t.close();
    }
  });

  it('rolls everything back when one object is refused, and says which and why', async () => {
    const t = await target();
    try {
      const { files } = await exportOf(source);
      const broken = { ...files };
      const etlFile = files['manifest.json'].objects.find((o: { name: string }) => o.name === flows.etl.name).file;
      broken[etlFile] = { ...files[etlFile], inputs: ['no such datasource'] };
      const before = await counts(t);
      const { status, body } = await importInto(t, zipOf(broken));
      expect(status).toBe(200);
      expect(body.committed).toBe(false);
      expect(body.objects.find((o: { name: string }) => o.name === flows.etl.name)).toMatchObject({ outcome: 'REFUSED', field: 'inputs[0]', reason: expect.stringContaining('"no such datasource"') });
      expect(await counts(t)).toEqual(before);
      // A chain that would trigger itself through the import is refused too.
      const chainFile = files['manifest.json'].objects.find((o: { name: string }) => o.name === flows.chain.name).file;
      const loop = { ...files, [chainFile]: { ...files[chainFile], settings: { steps: [flows.etl.name, flows.chain.name], continueOnFailure: false } } };
      expect((await importInto(t, zipOf(loop))).body.objects.find((o: { name: string }) => o.name === flows.chain.name)).toMatchObject({ outcome: 'REFUSED' });
      expect(await counts(t)).toEqual(before);
    } finally {
      await t.close();
    }
  });

  it('imports joins nested thousands deep without running out of stack, and exports them again', async () => {
    const t = await target();
    try {
      const depth = 3_000;
      const objects: Record<string, unknown>[] = [{ type: 'DATASOURCE', id: '', name: 'j0', kind: 'STORAGE', description: null, tags: [], path: null, columns: [], join: null }];
      for (let i = 1; i <= depth; i += 1) objects.push({ type: 'DATASOURCE', id: '', name: `j${i}`, kind: 'JOIN', description: null, tags: [], path: null, columns: [], join: { left: `j${i - 1}`, right: 'j0', leftKey: 'id', rightKey: 'id', type: 'INNER' } });
      const files: Record<string, unknown> = Object.fromEntries(objects.map((o) => [`datasources/${o.name}.json`, o]));
      files['manifest.json'] = { format: 'tributary-export', formatVersion: 1, source: { product: 'tributary', version: 'test', url: null }, exportedAt: new Date().toISOString(), withPlainTextCredentials: false, objects: objects.map((o) => ({ type: 'DATASOURCE', name: o.name, file: `datasources/${o.name}.json` })) };
      const { status, body } = await importInto(t, zipOf(files));
      expect(status).toBe(200);
      expect(body.committed).toBe(true);
      expect((await counts(t)).datasources).toBe(depth + 1);
      const deepest = body.objects.find((o: { name: string }) => o.name === `j${depth}`).id;
      const again = await exportOf(t, { datasourceIds: deepest });
      expect(again.status).toBe(200);
      expect(again.files['manifest.json'].objects).toHaveLength(depth + 1);
    } finally {
      await t.close();
    }
  });

  it('REPLACE of an automation under review makes the import its draft, and leaves the live version in force', async () => {
    const t = await target();
    try {
      await importInto(t, zip);
      await t.ok(`mutation($id: ID!) { updateEtlStep(id: $id, input: { transform: { sql: "select id, amount from input" } }) { id } }`, { id: flows.etl.id });
      await setApproval(t, true);
      const replaced = (await importInto(t, zip, { conflict: 'REPLACE' })).body;
      expect(replaced.objects.find((o: { name: string }) => o.name === flows.etl.name)).toMatchObject({ outcome: 'REPLACED', draft: true });
      const { liveVersion, draft } = await versionsOf(t, flows.etl.id);
      expect((liveVersion!.definition.transform as { sql: string }).sql).toBe('select id, amount from input');
      expect((draft!.definition.transform as { sql: string }).sql).toContain('${rates__factor}');
      // New objects come in as drafts as well.
      const fresh = await target();
      try {
        await setApproval(fresh, true);
        const created = (await importInto(fresh, zip)).body;
        expect(created.objects.filter((o: { type: string }) => o.type === 'AUTOMATION').every((o: { draft?: boolean }) => o.draft)).toBe(true);
        expect((await versionsOf(fresh, flows.etl.id)).liveVersion).toBeNull();
        const { lineage } = await fresh.ok(`{ lineage { nodes { id } } }`);
        expect(lineage.nodes.map((n: Ref) => n.id)).not.toContain(flows.etl.id);
      } finally {
        await fresh.close();
      }
    } finally {
      await t.close();
    }
  });

  it('refuses an archive it cannot trust with a coded error, writes nothing and stays up', async () => {
    const t = await target();
    try {
      const before = await counts(t);
      const { files } = await exportOf(source);
      const etlFile = files['manifest.json'].objects.find((o: { name: string }) => o.name === flows.etl.name).file;
      const attempts: [string, Uint8Array, RegExp, number][] = [
        ['not a ZIP', new TextEncoder().encode('PK definitely not a zip'), /not a readable ZIP/, 400],
        ['an unknown format version', zipOf({ ...files, 'manifest.json': { ...files['manifest.json'], formatVersion: 99 } }), /format version 1/, 400],
        ['a manifest pointing outside its folders', zipOf({ ...files, 'manifest.json': { ...files['manifest.json'], objects: [{ type: 'AUTOMATION', name: 'x', file: '../../etc/passwd' }] } }), /known type/, 400],
        ['a file of the wrong shape', zipOf({ ...files, [files['manifest.json'].objects[0].file]: { type: 'DATASOURCE', name: 5 } }), /must be a string/, 400],
        ['a ZIP bomb', zipBomb(), /automations\/bomb\.json is larger than 4194304 bytes unpacked/, 400],
        ['a ZIP bomb lying about its size', zipBomb(true), /larger than 4194304 bytes unpacked|cannot be unpacked|not a readable ZIP/, 400],
        ['two objects of one name', zipOf({ ...files, 'manifest.json': { ...files['manifest.json'], objects: [...files['manifest.json'].objects, { ...files['manifest.json'].objects.find((o: { file: string }) => o.file === etlFile), file: 'automations/again.json' }] }, 'automations/again.json': files[etlFile] }), /two AUTOMATION objects named/, 400],
        ['settings of the wrong types', zipOf({ ...files, [etlFile]: { ...files[etlFile], settings: { transform: 'DROP TABLE input' } } }), /settings\.transform must be object or null/, 400],
      ];
      for (const [what, body, message, status] of attempts) {
        const response = await importInto(t, body);
        expect(response.status, what).toBe(status);
        expect(response.body.errors[0].extensions.code, what).toBe('BAD_USER_INPUT');
        expect(response.body.errors[0].message, what).toMatch(message);
      }
      expect((await importInto(t, zip, {}, t.auth, 'application/json')).status).toBe(415);
      expect((await importInto(t, zip, { conflict: 'MERGE' })).body.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'conflict' });
      const viewer = await t.addUser(Role.VIEWER);
      expect((await importInto(t, zip, {}, { authorization: `Bearer ${viewer.token}` })).status).toBe(403);
      expect((await importInto(t, zip, {}, {})).status).toBe(401);
      expect(await counts(t)).toEqual(before);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('is what `npm run tributary -- import` sends', async () => {
    const t = await target();
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'tributary-cli-')), 'flows.zip');
      writeFileSync(file, zip);
      const dry = await tributaryCli(t, ['import', file, '--dry-run'], t.admin.token);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/CREATED\tAUTOMATION/);
      expect(dry.stdout).toContain('dry run: nothing was written');
      expect((await counts(t)).automations).toBe(0);
      const real = await tributaryCli(t, ['import', file, '--conflict', 'rename'], t.admin.token);
      expect(real.code, real.stderr).toBe(0);
      expect(real.stdout).toContain('imported');
      expect((await counts(t)).automations).toBe(3);
    } finally {
      await t.close();
    }
  });
});

/**
 * ZIP bombs: 5 MB of zeros in a few KB, under a name the manifest may list; and the same entry
 * declaring 10 bytes in its headers (fflate's one-shot unzip trusted that size for its buffer, not
 * for its work). Both are refused once 4 MB have been unpacked, whatever the headers say.
 */
function zipBomb(lie = false): Uint8Array {
  const z = zipSync({ 'manifest.json': strToU8('{}'), 'automations/bomb.json': new Uint8Array(5 * 1024 * 1024) }, { level: 9 });
  if (!lie) return z;
  const view = new DataView(z.buffer, z.byteOffset, z.byteLength);
  for (let i = 0; i + 4 <= z.length; i += 1) {
    const signature = view.getUint32(i, true);
    if (signature === 0x04034b50) view.setUint32(i + 22, 10, true); // local header: uncompressed size
    if (signature === 0x02014b50) view.setUint32(i + 24, 10, true); // central directory: uncompressed size
  }
  return z;
}
