import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasourceKind, ScriptLanguage, WriteMode } from '../../core/db/entities/index.js';
import { RunCancelledError, RunFailedError } from '../../jobs/runners/runner.js';
import { ScriptRunner } from '../../jobs/runners/script.runner.js';
import { SqliteWarehouse } from '../../jobs/warehouse/sqlite-warehouse.js';
import type { DatasourceSpec, Row } from '../../jobs/warehouse/warehouse.js';
import { processesWith, stillRunningAfter } from '../helpers/procs.js';
import { context, plan as sharedPlan } from './sandbox-helpers.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;
if (!hasPython) console.warn('python3 is not installed on this machine: the Python script tests are skipped');

let dataDir: string;
let warehouse: SqliteWarehouse;
let runner: ScriptRunner;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tributary-script-test-'));
  warehouse = await SqliteWarehouse.open(dataDir);
  runner = new ScriptRunner(warehouse);
});
afterAll(async () => {
  await warehouse.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A STORAGE datasource with a name the script can use. */
function storage(name: string): DatasourceSpec & { name: string } {
  return { id: randomUUID(), kind: DatasourceKind.STORAGE, name };
}

async function seed(ds: DatasourceSpec, rows: Row[]) {
  const write = await warehouse.openWrite(ds, WriteMode.REPLACE);
  await write.write(rows);
  await write.commit();
}

async function rowsOf(ds: DatasourceSpec): Promise<Row[]> {
  return (await warehouse.page(ds, 100_000)).rows;
}

/** The shared plan, with room for the tests' larger inputs (256 MB). */
const plan: typeof sharedPlan = (code, io, script = {}) => sharedPlan(code, io, { memoryMb: 256, ...script });

describe(`${ScriptRunner.name} (JavaScript)`, () => {
  it('reads two inputs and writes two outputs, by name and by id, with args, kwargs and job_config', async () => {
    const [customers, orders, totals, audit] = [storage('customers'), storage('orders'), storage('totals'), storage('audit')];
    await seed(customers, [{ id: 1, name: 'Ada' }, { id: 2, name: 'Bob' }]);
    await seed(orders, [{ customer: 1, amount: 10 }, { customer: 2, amount: 5 }, { customer: 1, amount: 7 }]);
    const code = `
      const names = new Map();
      for await (const c of tributary.read('customers')) names.set(c.id, c.name);
      const sums = new Map();
      for await (const o of tributary.read('${orders.id}')) sums.set(o.customer, (sums.get(o.customer) ?? 0) + o.amount * tributary.kwargs.factor);
      for (const [id, total] of sums) await tributary.write('totals', { customer: names.get(id), total });
      await tributary.write('${audit.id}', [{ args: tributary.args.join('+'), env: tributary.job_config.env }]);
      tributary.log('summed', sums.size, 'customers');
    `;
    const variables = { args: ['a', 'b'], kwargs: { factor: 2 }, job_config: { env: 'prod' } };
    const { ctx, log, progress } = context();
    const result = await runner.run(plan(code, { inputs: [customers, orders], outputs: [totals, audit] }, { variables }), ctx);

    expect(result).toMatchObject({ rowsRead: 5, rowsWritten: 3, errorRecords: 0 });
    expect(result.outputs).toEqual([
      { datasourceId: totals.id, stats: { columns: [{ name: 'customer', type: 'text' }, { name: 'total', type: 'integer' }], rowCount: 2 } },
      { datasourceId: audit.id, stats: { columns: [{ name: 'args', type: 'text' }, { name: 'env', type: 'text' }], rowCount: 1 } },
    ]);
    expect(await rowsOf(totals)).toEqual([{ customer: 'Ada', total: 34 }, { customer: 'Bob', total: 10 }]);
    expect(await rowsOf(audit)).toEqual([{ args: 'a+b', env: 'prod' }]);
    expect(log).toContain('summed 2 customers');
    expect(log).toContain('wrote 2 row(s) to "totals" with REPLACE; it now holds 2');
    expect(progress.at(-1)).toBe(3);
  });

  it('streams 10,000 rows through in pages and batches', async () => {
    const [input, output] = [storage('big in'), storage('big out')];
    await seed(input, Array.from({ length: 10_000 }, (_, i) => ({ n: i, label: `row ${i}` })));
    const code = `
      let count = 0, sum = 0;
      for await (const row of tributary.read('big in')) {
        count++;
        sum += row.n;
        tributary.write('big out', { n: row.n * 2 }); // not awaited: the runtime batches and keeps order
      }
      console.log('counted', count, 'sum', sum);
    `;
    const { ctx, log } = context();
    const result = await runner.run(plan(code, { inputs: [input], outputs: [output] }), ctx);
    expect(result).toMatchObject({ rowsRead: 10_000, rowsWritten: 10_000 });
    expect(log).toContain(`counted 10000 sum ${(9999 * 10_000) / 2}`);
    const rows = await rowsOf(output);
    expect(rows).toHaveLength(10_000);
    expect(rows[9999]).toEqual({ n: 19_998 });
  });

  it('captures console output in the run log and truncates a huge log', async () => {
    const { ctx, log } = context();
    await runner.run(plan(`console.log('hello from the script'); console.error('a warning');`, {}), ctx);
    expect(log).toEqual(expect.arrayContaining(['hello from the script', 'stderr: a warning']));

    const many = context();
    await runner.run(plan(`for (let i = 0; i < 5000; i++) console.log('line ' + i);`, {}), many.ctx);
    const scriptLines = many.log.slice(1); // after "running the JavaScript script …"
    expect(scriptLines).toHaveLength(1001);
    expect(scriptLines.at(-2)).toBe('line 999');
    expect(scriptLines.at(-1)).toBe('… log truncated');

    const wide = context();
    await runner.run(plan(`for (let i = 0; i < 3; i++) console.log('x'.repeat(200000));`, {}), wide.ctx);
    const bytes = wide.log.slice(1).reduce((sum, line) => sum + Buffer.byteLength(line), 0);
    expect(bytes).toBeLessThanOrEqual(256 * 1024 + 100);
    expect(wide.log.at(-1)).toBe('… log truncated');
  });

  it('refuses a write to an undeclared datasource and leaves the outputs untouched', async () => {
    const [input, output] = [storage('in'), storage('out')];
    await seed(input, [{ a: 1 }]);
    await seed(output, [{ old: true }]);
    const code = `await tributary.write('out', { a: 2 }); await tributary.write('audit', { a: 3 });`;
    const run = runner.run(plan(code, { inputs: [input], outputs: [output] }), context().ctx);
    await expect(run).rejects.toThrow(RunFailedError);
    await expect(run).rejects.toThrow('the script wrote to "audit", which it does not declare as an output; add it to the script\'s outputs (Usage)');
    expect(await rowsOf(output)).toEqual([{ old: 1 }]);
    expect(readdirSync(join(dataDir, 'staging'))).toEqual([]);
  });

  it('refuses a read of an undeclared datasource, even one it declares as an output', async () => {
    const [input, output] = [storage('in'), storage('out')];
    const undeclared = runner.run(plan(`for await (const r of tributary.read('secrets')) {}`, { inputs: [input], outputs: [output] }), context().ctx);
    await expect(undeclared).rejects.toThrow('the script read from "secrets", which it does not declare as an input; add it to the script\'s inputs (Usage)');
    // Catching the error does not help: the runner fails the run itself.
    const caught = `try { for await (const r of tributary.read('out')) {} } catch { console.log('ignored'); }`;
    await expect(runner.run(plan(caught, { inputs: [input], outputs: [output] }), context().ctx)).rejects.toThrow(/"out", which it does not declare as an input/);
  });

  it('fails with the script\'s error when it throws, keeping the old data under REPLACE', async () => {
    const output = storage('kept');
    await seed(output, [{ v: 'old' }]);
    const code = `await tributary.write('kept', [{ v: 'new' }, { v: 'newer' }]);\nthrow new Error('the upstream API said no');`;
    const { ctx, log } = context();
    const run = runner.run(plan(code, { outputs: [output] }), ctx);
    await expect(run).rejects.toThrow(RunFailedError);
    await expect(run).rejects.toThrow(/the script failed \(exit code 1\):\nError: the upstream API said no\n\s+at main \(script\.js:2:7\)/);
    expect(log.join('\n')).toMatch(/stderr: Error: the upstream API said no/);
    expect(await rowsOf(output)).toEqual([{ v: 'old' }]);
  });

  it('kills a script that runs past its timeout', async () => {
    // In the sandbox's PID namespace process.pid means nothing on the host: the test finds the script by its title.
    const marker = `tributary-timeout-${randomUUID()}`;
    let seen: number[] = [];
    const { ctx } = context((line) => line === 'titled' && (seen = processesWith(marker)));
    const started = Date.now();
    await expect(runner.run(plan(`process.title = '${marker}'; console.log('titled'); while (true) {}`, {}, { timeoutSeconds: 1 }), ctx)).rejects.toThrow(
      'the script ran longer than its timeout of 1 s',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(seen.length).toBeGreaterThan(0);
    expect(await stillRunningAfter(seen)).toEqual([]);
  });

  it('cancels mid-run: kills the child, writes nothing, throws RunCancelledError', async () => {
    const output = storage('cancelled');
    await seed(output, [{ v: 'old' }]);
    const controller = new AbortController();
    const marker = `tributary-cancel-${randomUUID()}`;
    let seen: number[] = [];
    const { ctx } = context((line) => {
      if (line === 'started') {
        seen = processesWith(marker);
        controller.abort();
      }
    }, controller.signal);
    const code = `process.title = '${marker}'; await tributary.write('cancelled', { v: 'new' }); console.log('started'); await new Promise((r) => setTimeout(r, 60000));`;
    await expect(runner.run(plan(code, { outputs: [output] }), ctx)).rejects.toBeInstanceOf(RunCancelledError);
    expect(seen.length).toBeGreaterThan(0);
    expect(await stillRunningAfter(seen)).toEqual([]);
    expect(await rowsOf(output)).toEqual([{ v: 'old' }]);
  });

  it('honours a cancel that comes while the script is still being started, however early', { timeout: 60_000 }, async () => {
    const marker = `tributary-early-cancel-${randomUUID()}`;
    for (const delayMs of [0, 1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 65, 80, 100]) {
      const controller = new AbortController();
      const run = runner.run(plan(`process.title = '${marker}'; await new Promise((r) => setTimeout(r, 600000));`, {}, { timeoutSeconds: 600 }), context(undefined, controller.signal).ctx);
      setTimeout(() => controller.abort(), delayMs);
      // Lost, the cancel would leave the script sleeping its 600 s and this test would time out.
      await expect(run, `cancelled after ${delayMs} ms`).rejects.toBeInstanceOf(RunCancelledError);
    }
    expect(await stillRunningAfter(processesWith(marker))).toEqual([]);
  });

  it('cannot read files outside its temp dir (the permission model), nor start processes', async () => {
    const outside = join(dataDir, 'outside.txt');
    writeFileSync(outside, 'secret');
    for (const code of [
      `require('node:fs').readFileSync(${JSON.stringify(outside)}, 'utf8');`,
      `require('node:fs').readFileSync('/etc/hostname', 'utf8');`,
      `require('node:fs').readFileSync(${JSON.stringify(warehouse.file)});`,
      `await import('node:fs/promises').then((fs) => fs.readdir(${JSON.stringify(dataDir)}));`,
      `require('node:child_process').execSync('id');`,
    ]) {
      const run = runner.run(plan(code, {}), context().ctx);
      // Without a permission model the runner refuses to run JavaScript, and this says so.
      await expect(run, code).rejects.toThrow(/ERR_ACCESS_DENIED/);
    }
    // Its own temp dir is its to use.
    const { ctx, log } = context();
    await runner.run(plan(`const fs = require('node:fs'); fs.writeFileSync('scratch.txt', 'ok'); console.log(fs.readFileSync('scratch.txt', 'utf8'), process.cwd() === process.env.HOME);`, {}), ctx);
    expect(log).toContain('ok true');
  });

  it('gives the script none of the server\'s environment', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { TRIBUTARY_SECRET_KEY: 'k'.repeat(64), DATABASE_URL: 'sqlite:///secret.db', DATA_DIR: dataDir, NODE_OPTIONS: '--inspect' });
    try {
      const output = storage('env');
      await runner.run(plan(`await tributary.write('env', Object.entries(process.env).map(([name, value]) => ({ name, value })));`, { outputs: [output] }), context().ctx);
      const env = Object.fromEntries((await rowsOf(output)).map((r) => [r.name, r.value]));
      expect(Object.keys(env).sort()).toEqual(expect.arrayContaining(['HOME', 'PATH', 'TRIBUTARY_FD']));
      expect(env).not.toHaveProperty('TRIBUTARY_SECRET_KEY');
      expect(env).not.toHaveProperty('DATABASE_URL');
      expect(env).not.toHaveProperty('DATA_DIR');
      expect(env).not.toHaveProperty('NODE_OPTIONS');
      expect(String(env.HOME)).toMatch(/tributary-script-/);
    } finally {
      process.env = saved;
    }
  });

  it('stops a script that goes past its memory cap', async () => {
    const code = `const keep = []; for (;;) keep.push(new Array(100000).fill(keep.length));`;
    await expect(runner.run(plan(code, {}, { memoryMb: 64 }), context().ctx)).rejects.toThrow('the script ran out of memory: it may use at most 64 MB');
  });

  it('fails a script that ends itself with process.exit() before its writes are flushed', async () => {
    const output = storage('exited');
    await expect(runner.run(plan(`tributary.write('exited', { a: 1 }); tributary.write('exited', { a: 2 }); process.exit(0);`, { outputs: [output] }), context().ctx)).rejects.toThrow(
      /exited before it finished/,
    );
    expect(await rowsOf(output)).toEqual([]);
  });

  it('previews on a sample: returns inputs, outputs and log, and writes nothing', async () => {
    const [input, output] = [storage('sample in'), storage('sample out')];
    await seed(input, Array.from({ length: 10 }, (_, i) => ({ id: i, price: i * 10 })));
    const code = `
      let seen = 0;
      for await (const row of tributary.read('sample in')) { seen++; await tributary.write('sample out', { id: row.id, gross: row.price * 1.2 }); }
      await tributary.write('sample out', { id: -1, note: 'extra column' });
      console.log('saw', seen);
    `;
    const preview = await runner.preview(plan(code, { inputs: [input], outputs: [output] }), 3);
    expect(preview.inputs).toEqual([{ datasourceId: input.id, columns: ['id', 'price'], rows: [{ id: 0, price: 0 }, { id: 1, price: 10 }, { id: 2, price: 20 }] }]);
    expect(preview.outputs).toEqual([
      {
        datasourceId: output.id,
        columns: ['id', 'gross', 'note'],
        rows: [{ id: 0, gross: 0 }, { id: 1, gross: 12 }, { id: 2, gross: 24 }, { id: -1, note: 'extra column' }],
      },
    ]);
    expect(preview.log).toContain('saw 3');
    expect(await warehouse.stats(output)).toBeNull();
    expect(readdirSync(join(dataDir, 'staging'))).toEqual([]);
  });
});

describe(`${ScriptRunner.name} (Python)`, () => {
  it.skipIf(!hasPython)('reads, writes by name and by id, and sees args, kwargs and job_config', async () => {
    const [input, byName, byId] = [storage('py in'), storage('py out'), storage('py meta')];
    await seed(input, [{ x: 1 }, { x: 2 }, { x: 3 }]);
    const code = [
      'import os, tributary as t',
      'total = 0',
      'for row in tributary.read("py in"):',
      '    total += row["x"]',
      '    t.write("py out", {"x": row["x"], "scaled": row["x"] * t.kwargs["factor"]})',
      `tributary.write("${byId.id}", [{"args": ",".join(tributary.args), "env": tributary.job_config["env"], "total": total, "secret": "TRIBUTARY_SECRET_KEY" in os.environ, "cwd_is_home": os.getcwd() == os.environ["HOME"]}])`,
      'print("python says", total)',
      'tributary.log("logged", total)',
    ].join('\n');
    const variables = { args: ['x', 'y'], kwargs: { factor: 10 }, job_config: { env: 'dev' } };
    process.env.TRIBUTARY_SECRET_KEY = 'k'.repeat(64);
    const { ctx, log } = context();
    try {
      const result = await runner.run(plan(code, { inputs: [input], outputs: [byName, byId] }, { language: ScriptLanguage.PYTHON, variables }), ctx);
      expect(result).toMatchObject({ rowsRead: 3, rowsWritten: 4 });
    } finally {
      delete process.env.TRIBUTARY_SECRET_KEY;
    }
    expect(await rowsOf(byName)).toEqual([{ x: 1, scaled: 10 }, { x: 2, scaled: 20 }, { x: 3, scaled: 30 }]);
    expect(await rowsOf(byId)).toEqual([{ args: 'x,y', env: 'dev', total: 6, secret: 0, cwd_is_home: 1 }]);
    expect(log).toEqual(expect.arrayContaining(['running the Python script (timeout 20 s, memory 256 MB)', 'python says 6', 'logged 6']));
  });

  it.skipIf(!hasPython)('fails with the traceback when the script raises, keeping the old data', async () => {
    const output = storage('py kept');
    await seed(output, [{ v: 'old' }]);
    const code = 'import tributary\ntributary.write("py kept", {"v": "new"})\nraise ValueError("bad input")';
    const run = runner.run(plan(code, { outputs: [output] }, { language: ScriptLanguage.PYTHON }), context().ctx);
    await expect(run).rejects.toThrow(RunFailedError);
    await expect(run).rejects.toThrow(/the script failed \(exit code 1\):\nTraceback \(most recent call last\):\n {2}File "script\.py", line 3, in <module>\n.*\nValueError: bad input$/);
    expect(await rowsOf(output)).toEqual([{ v: 'old' }]);
  });

  it.skipIf(!hasPython)('refuses a write to an undeclared datasource', async () => {
    const output = storage('py out2');
    const code = 'tributary.write("py out2", {"a": 1})\ntry:\n    tributary.write("audit", {"a": 2})\nexcept Exception:\n    pass';
    await expect(runner.run(plan(code, { outputs: [output] }, { language: ScriptLanguage.PYTHON }), context().ctx)).rejects.toThrow(
      'the script wrote to "audit", which it does not declare as an output; add it to the script\'s outputs (Usage)',
    );
    expect(await rowsOf(output)).toEqual([]);
  });

  it.skipIf(!hasPython)('confines the script to its own directory: no reading the server\'s files, no processes', async () => {
    const secret = join(dataDir, 'secret.key');
    writeFileSync(secret, 'do not read');
    const reads = `print(open(${JSON.stringify(secret)}).read())`;
    await expect(runner.run(plan(reads, {}, { language: ScriptLanguage.PYTHON }), context().ctx)).rejects.toThrow(/may only read files in its own directory/);
    const lists = `import os\nprint(os.listdir(${JSON.stringify(dataDir)}))`;
    await expect(runner.run(plan(lists, {}, { language: ScriptLanguage.PYTHON }), context().ctx)).rejects.toThrow(/may only list files/);
    const spawns = 'import subprocess\nsubprocess.run(["id"])';
    await expect(runner.run(plan(spawns, {}, { language: ScriptLanguage.PYTHON }), context().ctx)).rejects.toThrow(/scripts may not use subprocess.Popen/);
    const own = 'import json, datetime\nopen("scratch.txt", "w").write("ok")\nprint(open("scratch.txt").read(), json.dumps([1]), datetime.date(2026, 1, 1))';
    const { ctx, log } = context();
    await runner.run(plan(own, {}, { language: ScriptLanguage.PYTHON }), ctx);
    expect(log).toEqual(expect.arrayContaining(['ok [1] 2026-01-01']));
  });

  it.skipIf(!hasPython)('caps the memory and the run time', async () => {
    await expect(runner.run(plan('x = bytearray(512 * 1024 * 1024)', {}, { language: ScriptLanguage.PYTHON, memoryMb: 64 }), context().ctx)).rejects.toThrow(
      'the script ran out of memory: it may use at most 64 MB',
    );
    await expect(runner.run(plan('while True:\n    pass', {}, { language: ScriptLanguage.PYTHON, timeoutSeconds: 1 }), context().ctx)).rejects.toThrow(
      'the script ran longer than its timeout of 1 s',
    );
  });

  it.skipIf(!hasPython)('previews without writing', async () => {
    const [input, output] = [storage('py sample'), storage('py sample out')];
    await seed(input, [{ a: 1 }, { a: 2 }, { a: 3 }]);
    const code = 'for row in tributary.read("py sample"):\n    tributary.write("py sample out", {"b": row["a"] * 2})';
    const preview = await runner.preview(plan(code, { inputs: [input], outputs: [output] }, { language: ScriptLanguage.PYTHON }), 2);
    expect(preview.inputs[0]!.rows).toEqual([{ a: 1 }, { a: 2 }]);
    expect(preview.outputs).toEqual([{ datasourceId: output.id, columns: ['b'], rows: [{ b: 2 }, { b: 4 }] }]);
    expect(await warehouse.stats(output)).toBeNull();
  });

  it('says how to fix a missing python3', async () => {
    const missing = new ScriptRunner(warehouse, { python: '/nonexistent/python3' });
    await expect(missing.run(plan('print(1)', {}, { language: ScriptLanguage.PYTHON }), context().ctx)).rejects.toThrow(
      'python3 is not installed on this server; install it or write the script in JavaScript',
    );
  });
});
