import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverWithFactories, type Factories } from '../factories/index.js';
import type { TestServer } from '../helpers/server.js';

const PREVIEW = `query($id: ID!, $size: Int) { previewAutomation(id: $id, sampleSize: $size) {
  inputs { datasource { name } columns rows } outputs { datasource { name } columns rows } log errorRecords } }`;
const ROWS = `query($id: ID!) { rows(datasourceId: $id) { nodes } }`;

let t: TestServer;
let f: Factories;
beforeAll(async () => ({ t, f } = await serverWithFactories()));
afterAll(() => t.close());

describe('previewAutomation', () => {
  it('runs a script on a sample of its inputs in a child process and writes nothing', async () => {
    const path = join(t.filesDir, 'scores.csv');
    writeFileSync(path, 'name,score\nann,3\nbob,9\ncy,5\n');
    const input = await f.file({ path });
    const output = await f.storage();
    const code = `
      for await (const row of tributary.read(${JSON.stringify(input.name)})) {
        console.log('saw', row.name);
        await tributary.write(${JSON.stringify(output.name)}, { name: row.name.toUpperCase(), double: row.score * 2 });
      }`;
    const script = await f.script({ language: 'JAVASCRIPT', code, inputIds: [input.id], outputIds: [output.id] });
    const { previewAutomation } = await t.ok(PREVIEW, { id: script.id, size: 2 });
    expect(previewAutomation.inputs).toEqual([{ datasource: { name: input.name }, columns: ['name', 'score'], rows: [{ name: 'ann', score: 3 }, { name: 'bob', score: 9 }] }]);
    expect(previewAutomation.outputs).toEqual([{ datasource: { name: output.name }, columns: ['name', 'double'], rows: [{ name: 'ANN', double: 6 }, { name: 'BOB', double: 18 }] }]);
    expect(previewAutomation.log.join('\n')).toMatch(/saw ann[\s\S]*saw bob/);
    expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toEqual([]);
  });

  it('answers PREVIEW_FAILED with the reason when the automation cannot run, and refuses chains', async () => {
    const output = await f.storage();
    const failing = await f.script({ language: 'JAVASCRIPT', code: `throw new Error('no luck')`, outputIds: [output.id] });
    const error = await t.fail(PREVIEW, { id: failing.id });
    expect(error.extensions?.code).toBe('PREVIEW_FAILED');
    expect(error.message).toMatch(/no luck/);

    const [a, b] = [await f.storage(), await f.storage()];
    const etl = await f.etl(a, b);
    expect((await t.fail(PREVIEW, { id: etl.id })).message).toMatch(/no data yet/);
    const chain = await f.chain([etl]);
    expect((await t.fail(PREVIEW, { id: chain.id })).extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
  });
});

describe('previewAutomation of an SFTP import', () => {
  it('logs in with the stored (sealed) key and shows the first rows of a remote file, importing nothing', async () => {
    const { startSshd } = await import('../helpers/sshd.js');
    const sshd = await startSshd();
    try {
      const remoteDir = sshd.newDir();
      writeFileSync(join(remoteDir, 'orders-1.csv'), 'id,amount\n1,9.5\n2,3\n3,7\n');
      writeFileSync(join(remoteDir, 'notes.txt'), 'not an import\n');
      const output = await f.storage();
      const sftp = await f.sftp(output, {
        host: sshd.host,
        port: sshd.port,
        username: sshd.username,
        password: null,
        privateKey: sshd.privateKey,
        remoteDir,
        filePattern: 'orders-*.csv',
        hostKeyFingerprint: sshd.hostKeyFingerprint,
      });
      const { previewAutomation } = await t.ok(`query($id: ID!) { previewAutomation(id: $id, sampleSize: 2) { file inputs { columns } outputs { datasource { name } columns rows } } }`, { id: sftp.id });
      expect(previewAutomation).toEqual({
        file: expect.stringMatching(/orders-1\.csv$/),
        inputs: [],
        outputs: [{ datasource: { name: output.name }, columns: ['id', 'amount'], rows: [{ id: 1, amount: 9.5 }, { id: 2, amount: 3 }] }],
      });
      expect((await t.ok(ROWS, { id: output.id })).rows.nodes).toEqual([]);
    } finally {
      await sshd.stop();
    }
  });
});

describe('previewAutomation with a draft (unsaved edits)', () => {
  const DRAFT = `query($id: ID!, $draft: PreviewDraftInput) { previewAutomation(id: $id, sampleSize: 5, draft: $draft) {
    outputs { columns rows } log } }`;
  const SAVED = `query($id: ID!) { automation(id: $id) { ... on EtlStep { transform } ... on Script { code } } }`;

  it('previews an ETL step with an unsaved transform, checked as saving would, and keeps the saved one', async () => {
    const path = join(t.filesDir, 'draft-scores.csv');
    writeFileSync(path, 'name,score\nann,3\nbob,9\ncy,5\n');
    const input = await f.file({ path, columns: [{ name: 'name', type: 'TEXT' }, { name: 'score', type: 'INTEGER' }] });
    const etl = await f.etl(input, await f.storage());
    const transform = { steps: [{ op: 'filter', where: 'score > 4' }, { op: 'select', columns: ['name'] }] };
    const { previewAutomation } = await t.ok(DRAFT, { id: etl.id, draft: { transform } });
    expect(previewAutomation.outputs).toEqual([{ columns: ['name'], rows: [{ name: 'bob' }, { name: 'cy' }] }]);
    expect((await t.ok(SAVED, { id: etl.id })).automation.transform).toEqual({});

    const bad = await t.fail(DRAFT, { id: etl.id, draft: { transform: { steps: [{ op: 'select', columns: ['nope'] }] } } });
    expect(bad.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(String(bad.extensions?.field)).toMatch(/^draft\.transform\.steps\[0\]/);
    expect(bad.message).toMatch(/nope/);
  });

  it('reads a FILE input of an ETL step only as far as its sample, so a huge file previews at once', async () => {
    const path = join(t.filesDir, 'long-with-a-bad-tail.csv');
    // 50,000 rows, then a line FAIL_RUN would stop at: a preview of 3 rows never gets there.
    writeFileSync(path, `id,label\n${Array.from({ length: 50_000 }, (_, i) => `${i},row ${i}`).join('\n')}\n"broken,line\n`);
    const etl = await f.etl(await f.file({ path }), await f.storage());
    const { previewAutomation } = await t.ok(PREVIEW, { id: etl.id, size: 3 });
    expect(previewAutomation.inputs[0].rows).toEqual([{ id: 0, label: 'row 0' }, { id: 1, label: 'row 1' }, { id: 2, label: 'row 2' }]);
    expect(previewAutomation.errorRecords).toBe(0);
    // A run reads it all and meets the broken line: the same file was really read to its end there.
    const { runAutomation } = await t.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: etl.id });
    let run = { status: 'QUEUED', error: '' };
    for (let i = 0; i < 200 && ['QUEUED', 'RUNNING'].includes(run.status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await t.ok(`query($id: ID!) { run(id: $id) { status error } }`, { id: runAutomation.id })).run;
    }
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/line 50002/);
  });

  it('previews a script with unsaved code and variables, and refuses a draft field its kind does not have', async () => {
    const output = await f.storage();
    const script = await f.script({ language: 'JAVASCRIPT', code: `console.log('saved')`, outputIds: [output.id] });
    const code = `console.log('draft', JSON.stringify(tributary.kwargs));`;
    const { previewAutomation } = await t.ok(DRAFT, { id: script.id, draft: { code, variables: { kwargs: { city: 'Lyon' } } } });
    expect(previewAutomation.log.join('\n')).toMatch(/draft .*Lyon/);
    expect((await t.ok(SAVED, { id: script.id })).automation.code).toBe(`console.log('saved')`);

    const wrongKind = await t.fail(DRAFT, { id: script.id, draft: { transform: { steps: [] } } });
    expect(wrongKind.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'draft.transform' });
    const badVars = await t.fail(DRAFT, { id: script.id, draft: { variables: { args: 'x' } } });
    expect(badVars.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'draft.variables.args' });
  });
});
