/**
 * Export (the SDK flows seed, seeds/001: "export flows to a ZIP … with_plain_text_credentials"):
 * GET /api/v1/export answers a ZIP with a manifest and one JSON file per object, with what the
 * chosen automations use; secrets stay out unless an admin asks, which the audit log records.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../core/enums.js';
import { factories, type Factories } from '../factories/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { exportOf, tributaryCli } from './helpers.js';

let t: TestServer;
let f: Factories;
beforeAll(async () => {
  t = await startTestServer();
  f = factories(t);
});
afterAll(() => t.close());

const audit = async (action: string) =>
  (await t.ok(`query($action: String) { auditLog(action: $action, first: 20) { nodes { outcome errorCode objectName actorEmail } } }`, { action })).auditLog.nodes as { outcome: string; errorCode: string | null; objectName: string | null }[];

describe('GET /api/v1/export', () => {
  it('answers a ZIP: a manifest, and each chosen automation with what it uses, by name', async () => {
    const set = (await t.ok(`mutation { createParameterSet(input: { name: "export_set", parameters: [{ name: "dir", value: "in" }] }) { id } }`)).createParameterSet;
    const pathSet = (await t.ok(`mutation { createParameterSet(input: { name: "path_set", parameters: [{ name: "d", value: "x" }] }) { id } }`)).createParameterSet;
    const [left, right] = [await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }] }), await f.file({ path: '${path_set__d}/r.csv', columns: [{ name: 'id', type: 'INTEGER' }] })];
    const joined = await f.join(left, right);
    const out = await f.storage();
    const etl = await f.etl(joined, out, { parameterSetIds: [set.id], transform: { sql: "select id from input where '${export_set__dir}' = 'in'" } });
    const chain = await f.chain([etl]);
    const unrelated = await f.storage();

    const { status, files } = await exportOf(t, { automationIds: chain.id });
    expect(status).toBe(200);
    const manifest = files['manifest.json'];
    expect(manifest).toMatchObject({ format: 'tributary-export', formatVersion: 1, withPlainTextCredentials: false, source: { product: 'tributary' } });
    expect(new Date(manifest.exportedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const names = manifest.objects.map((o: { type: string; name: string }) => `${o.type} ${o.name}`).sort();
    expect(names).toEqual(
      [`AUTOMATION ${chain.name}`, `AUTOMATION ${etl.name}`, `DATASOURCE ${joined.name}`, `DATASOURCE ${left.name}`, `DATASOURCE ${out.name}`, `DATASOURCE ${right.name}`, 'PARAMETER_SET export_set', 'PARAMETER_SET path_set'].sort(),
    );
    expect(names.join()).not.toContain(unrelated.name);
    const etlFile = files[manifest.objects.find((o: { name: string }) => o.name === etl.name).file];
    expect(etlFile).toMatchObject({ type: 'AUTOMATION', id: etl.id, kind: 'ETL_STEP', inputs: [joined.name], outputs: [out.name], parameterSets: ['export_set'], settings: { transform: { sql: expect.stringContaining('${export_set__dir}') } } });
    expect(files[manifest.objects.find((o: { name: string }) => o.name === chain.name).file].settings).toEqual({ steps: [etl.name], continueOnFailure: false });
    expect(files[manifest.objects.find((o: { name: string }) => o.name === joined.name).file].join).toMatchObject({ left: left.name, right: right.name, leftKey: 'id' });

    // Without dependencies: only what was chosen.
    const alone = await exportOf(t, { automationIds: etl.id, datasourceIds: unrelated.id, dependencies: 'false' });
    expect(alone.files['manifest.json'].objects.map((o: { name: string }) => o.name).sort()).toEqual([etl.name, unrelated.name].sort());
  });

  it('exports a chosen version instead of the live one', async () => {
    const [a, b] = [await f.storage({ columns: [{ name: 'id', type: 'INTEGER' }] }), await f.storage()];
    const etl = await f.etl(a, b, { transform: { sql: 'select id from input' } });
    await t.ok(`mutation($id: ID!) { updateEtlStep(id: $id, input: { transform: { sql: "select id + 1 as id from input" } }) { id } }`, { id: etl.id });
    const { automation } = await t.ok(`query($id: ID!) { automation(id: $id) { versions { id number status } } }`, { id: etl.id });
    const v1 = automation.versions.find((v: { number: number }) => v.number === 1);
    const { files } = await exportOf(t, { versionIds: v1.id, dependencies: 'false' });
    const entry = files['manifest.json'].objects[0];
    expect(entry).toMatchObject({ name: etl.name, version: 1 });
    expect(files[entry.file].settings.transform).toEqual({ sql: 'select id from input' });
    expect((await exportOf(t, { automationIds: etl.id, dependencies: 'false' })).files['manifest.json'].objects[0].version).toBe(2);
  });

  it('leaves secrets out unless an admin asks for them, and audits both', async () => {
    const out = await f.storage();
    const sftp = await f.sftp(out, { password: 'pa55-word-export', privateKey: null });
    const plain = await exportOf(t, { automationIds: sftp.id });
    const text = Object.values(unzipSync(plain.zip)).map((bytes) => strFromU8(bytes)).join('\n');
    expect(text).not.toContain('pa55-word-export');
    expect(text).not.toMatch(/Sealed|passwordSet|"password"/);

    const editor = await t.addUser(Role.EDITOR);
    const refused = await exportOf(t, { automationIds: sftp.id, withPlainTextCredentials: 'true' }, { authorization: `Bearer ${editor.token}` });
    expect(refused.status).toBe(403);
    expect(refused.files.errors[0].extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'ADMIN' });

    const clear = await exportOf(t, { automationIds: sftp.id, withPlainTextCredentials: 'true' });
    expect(clear.files['manifest.json'].withPlainTextCredentials).toBe(true);
    const file = clear.files[clear.files['manifest.json'].objects.find((o: { type: string }) => o.type === 'AUTOMATION').file];
    expect(file.settings).toMatchObject({ password: 'pa55-word-export', privateKey: null });
    const entries = await audit('exportWorkspace');
    expect(entries).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'REFUSED', errorCode: 'FORBIDDEN' }), expect.objectContaining({ outcome: 'OK', objectName: expect.stringContaining('plain-text credentials') })]));
    // The secret never reaches the server's log.
    expect(JSON.stringify(t.logs)).not.toContain('pa55-word-export');
  });

  it('refuses without credentials, and an unknown id, with a coded error', async () => {
    const anonymous = await exportOf(t, {}, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.files.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const unknown = await exportOf(t, { automationIds: 'no-such-id' });
    expect(unknown.status).toBe(400);
    expect(unknown.files.errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'automationIds' });
  });

  it('is what `npm run tributary -- export` writes', async () => {
    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b);
    const out = join(mkdtempSync(join(tmpdir(), 'tributary-cli-')), 'flows.zip');
    // Asynchronously: the server answering the CLI runs in this very process.
    const cli = await tributaryCli(t, ['export', '--automations', etl.id, '--out', out], t.admin.token);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`wrote ${out}`);
    const files = unzipSync(new Uint8Array(readFileSync(out)));
    const manifest = JSON.parse(strFromU8(files['manifest.json']!));
    expect(manifest.objects.map((o: { name: string }) => o.name).sort()).toEqual([etl.name, a.name, b.name].sort());
    const noToken = await tributaryCli(t, ['export'], '');
    expect(noToken.code).toBe(64);
    expect(noToken.stderr).toContain('TRIBUTARY_TOKEN is not set');
  });
});
