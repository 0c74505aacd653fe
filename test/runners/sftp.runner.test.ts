import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AutomationKind, DatasourceKind, WriteMode } from '../../core/db/entities/index.js';
import { RunCancelledError, RunFailedError, type AutomationPlan, type RunContext, type SftpSettings } from '../../jobs/runners/runner.js';
import { openSftpState, type SftpState } from '../../jobs/runners/sftp-state.js';
import { SftpImportRunner } from '../../jobs/runners/sftp.runner.js';
import { SqliteWarehouse } from '../../jobs/warehouse/sqlite-warehouse.js';
import { IS_ROOT, freePort, startSshd, type SshServer } from '../helpers/sshd.js';

let sshd: SshServer;
let dataDir: string;
let warehouse: SqliteWarehouse;
let state: SftpState;
let runner: SftpImportRunner;

beforeAll(async () => {
  sshd = await startSshd(); // fails (never skips) when openssh-server is missing
  dataDir = mkdtempSync(join(tmpdir(), 'tributary-sftp-test-'));
  warehouse = await SqliteWarehouse.open(dataDir);
  state = await openSftpState({ dialect: 'sqlite', file: join(dataDir, 'sftp-state.db') });
  runner = new SftpImportRunner(warehouse, state, { connectTimeoutMs: 5_000 });
});
afterAll(async () => {
  await state?.close();
  await warehouse?.close();
  await sshd?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

type PlanOptions = Partial<SftpSettings> & { writeMode?: WriteMode; writeKeys?: string[]; server?: SshServer };

/** An SFTP import plan logging in with the test key, into a fresh STORAGE output. */
function plan(remoteDir: string, options: PlanOptions = {}): AutomationPlan {
  const { writeMode = WriteMode.REPLACE, writeKeys = [], server = sshd, ...sftp } = options;
  return {
    id: randomUUID(),
    name: 'import',
    kind: AutomationKind.SFTP_IMPORT,
    inputs: [],
    outputs: [{ id: randomUUID(), kind: DatasourceKind.STORAGE }],
    writeMode,
    writeKeys,
    sftp: {
      host: server.host,
      port: server.port,
      username: server.username,
      password: null,
      privateKey: server.privateKey,
      remoteDir,
      filePattern: '*.csv',
      hostKeyFingerprint: null,
      afterImport: 'KEEP',
      moveToDir: null,
      ...sftp,
    },
  };
}

function context(signal = new AbortController().signal, onProgress: (rows: number) => void = () => undefined) {
  const log: string[] = [];
  const ctx: RunContext = { signal, log: (line) => log.push(line), progress: onProgress };
  return { ctx, log };
}

async function run(p: AutomationPlan, signal?: AbortSignal, onProgress?: (rows: number) => void) {
  const { ctx, log } = context(signal, onProgress);
  const result = await runner.run(p, ctx);
  return { result, log: log.join('\n') };
}

const rows = async (p: AutomationPlan) => (await warehouse.page(p.outputs[0]!, 1_000)).rows;

/** A remote dir holding the given files (the sshd serves the local file system). */
function dirWith(files: Record<string, string>): string {
  const dir = sshd.newDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe(SftpImportRunner.name, () => {
  it('imports only the files matching the pattern, CSV and JSON lines, and trusts the host key on first use', async () => {
    const dir = dirWith({
      'a.csv': 'id,name\n1,ann\n2,bob\n',
      'b.jsonl': '{"id":3,"name":"cy"}\n{"id":4,"name":"di","extra":true}\n',
      'notes.txt': 'not data\n',
      'c.csv.bak': 'id\n99\n',
    });
    const p = plan(dir, { filePattern: '*.{csv,jsonl}' });
    const { result, log } = await run(p);
    expect(result).toMatchObject({ rowsRead: 4, rowsWritten: 4, errorRecords: 0 });
    expect(result.outputs[0]).toMatchObject({ datasourceId: p.outputs[0]!.id, stats: { rowCount: 4 } });
    expect(log).toMatch(/imported a\.csv: 2 row/);
    expect(log).toMatch(/imported b\.jsonl: 2 row/);
    expect(log).not.toMatch(/notes|bak/);
    expect(await rows(p)).toEqual([
      { id: 1, name: 'ann', extra: null },
      { id: 2, name: 'bob', extra: null },
      { id: 3, name: 'cy', extra: null },
      { id: 4, name: 'di', extra: 1 },
    ]);
    expect(await state.knownHostKey(p.id, sshd.host, sshd.port)).toBe(sshd.hostKeyFingerprint);
  });

  it('skips files already imported, takes a changed file again, and REPLACE keeps only the run’s files', async () => {
    const dir = dirWith({ 'a.csv': 'id\n1\n2\n' });
    const p = plan(dir);
    await run(p);
    const second = await run(p);
    expect(second.result).toMatchObject({ rowsWritten: 0, outputs: [] });
    expect(second.log).toMatch(/skipped a\.csv: already imported/);
    expect(second.log).toMatch(/no new file/);
    expect(await rows(p)).toEqual([{ id: 1 }, { id: 2 }]); // nothing new: the output is not emptied

    writeFileSync(join(dir, 'b.csv'), 'id\n3\n');
    expect((await run(p)).result.rowsWritten).toBe(1);
    expect(await rows(p)).toEqual([{ id: 3 }]);

    writeFileSync(join(dir, 'a.csv'), 'id\n10\n20\n30\n'); // re-uploaded with new content: a new size
    const fourth = await run(p);
    expect(fourth.log).toMatch(/imported a\.csv: 3 row/);
    expect(fourth.log).toMatch(/skipped b\.csv/);
    expect(await rows(p)).toEqual([{ id: 10 }, { id: 20 }, { id: 30 }]);
  });

  it('accumulates with APPEND', async () => {
    const dir = dirWith({ 'day1.csv': 'id,qty\n1,5\n' });
    const p = plan(dir, { writeMode: WriteMode.APPEND });
    await run(p);
    writeFileSync(join(dir, 'day2.csv'), 'id,qty\n2,7\n3,1\n');
    await run(p);
    expect(await rows(p)).toEqual([
      { id: 1, qty: 5 },
      { id: 2, qty: 7 },
      { id: 3, qty: 1 },
    ]);
  });

  it('deletes the imported files with DELETE and moves them, creating the directory, with MOVE', async () => {
    const deleted = dirWith({ 'a.csv': 'id\n1\n', 'keep.txt': 'x' });
    const { log } = await run(plan(deleted, { afterImport: 'DELETE' }));
    expect(log).toMatch(/deleted a\.csv/);
    expect(readdirSync(deleted)).toEqual(['keep.txt']);

    const moved = dirWith({ 'a.csv': 'id\n1\n', 'b.csv': 'id\n2\n', 'keep.txt': 'x' });
    const target = join(moved, 'done', '2024');
    const p = plan(moved, { afterImport: 'MOVE', moveToDir: target });
    await run(p);
    expect(readdirSync(moved).sort()).toEqual(['done', 'keep.txt']);
    expect(readdirSync(target).sort()).toEqual(['a.csv', 'b.csv']);
    writeFileSync(join(moved, 'a.csv'), 'id\n30\n'); // same name again: the archived one is not overwritten
    await run(p);
    expect(readdirSync(target).sort()).toEqual(['a.1.csv', 'a.csv', 'b.csv']);
    expect(await rows(p)).toEqual([{ id: 30 }]);
  });

  it.skipIf(!IS_ROOT)('logs in with a password (needs root: sshd checks system passwords, so the test creates a throwaway user)', async () => {
    const user = sshd.createPasswordUser();
    writeFileSync(join(user.dir, 'a.csv'), 'id\n1\n');
    const p = plan(user.dir, { username: user.username, password: user.password, privateKey: null, afterImport: 'DELETE' });
    expect((await run(p)).result.rowsWritten).toBe(1);
    expect(readdirSync(user.dir)).toEqual([]);
    const wrong = plan(user.dir, { username: user.username, password: 'wrong', privateKey: null });
    await expect(run(wrong)).rejects.toThrow(new RegExp(`authentication failed for user ${user.username} at 127\\.0\\.0\\.1:${sshd.port}`));
  });

  it('fails clearly on a wrong password', async () => {
    const p = plan(dirWith({ 'a.csv': 'id\n1\n' }), { password: 'not-the-password', privateKey: null });
    const error = await runner.run(p, context().ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(new RegExp(`^authentication failed for user ${sshd.username} at 127\\.0\\.0\\.1:${sshd.port}`));
  });

  it('fails clearly on a missing remote directory and an unreachable port', async () => {
    const missing = join(sshd.newDir(), 'nope');
    await expect(run(plan(missing))).rejects.toThrow(`remote directory ${missing} does not exist`);
    const port = await freePort();
    const error = await run(plan(sshd.newDir(), { port })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(new RegExp(`^cannot connect to 127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it('times out on a server that never answers, and stops at once when cancelled while connecting', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket)); // accepts TCP, never speaks SSH
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const impatient = new SftpImportRunner(warehouse, state, { connectTimeoutMs: 300 });
      const p = plan(sshd.newDir(), { port });
      await expect(impatient.run(p, context().ctx)).rejects.toThrow(`cannot connect to 127.0.0.1:${port}: no answer within 300 ms`);

      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      await expect(run(p, controller.signal)).rejects.toBeInstanceOf(RunCancelledError); // the shared runner waits 5 s
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await warehouse.stats(p.outputs[0]!)).toBeNull();
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('checks a pinned host key fingerprint', async () => {
    const dir = dirWith({ 'a.csv': 'id\n1\n' });
    const pinned = plan(dir, { hostKeyFingerprint: `${sshd.hostKeyFingerprint}=` }); // padding as some tools print it
    expect((await run(pinned)).result.rowsWritten).toBe(1);
    expect(await state.knownHostKey(pinned.id, sshd.host, sshd.port)).toBeNull(); // pinned: nothing trusted on first use

    const wrong = plan(dir, { hostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    await expect(run(wrong)).rejects.toThrow(
      `the host key of 127.0.0.1:${sshd.port} does not match the pinned fingerprint: expected SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA, got ${sshd.hostKeyFingerprint}`,
    );
    expect(await rows(wrong)).toEqual([]);
  });

  it('refuses a server whose host key changed after the first connection', async () => {
    const other = await startSshd(); // its own server: restarting it leaves the shared one alone
    try {
      const dir = other.newDir();
      writeFileSync(join(dir, 'a.csv'), 'id\n1\n');
      const p = plan(dir, { server: other });
      const first = await run(p);
      expect(first.log).toMatch(/trusted the host key SHA256:/);
      const trusted = other.hostKeyFingerprint;
      expect(await state.knownHostKey(p.id, other.host, other.port)).toBe(trusted);

      await other.restart({ newHostKey: true });
      writeFileSync(join(dir, 'b.csv'), 'id\n2\n');
      const error = await run(p).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RunFailedError);
      expect((error as Error).message).toBe(
        `the host key of 127.0.0.1:${other.port} changed: expected ${trusted}, got ${other.hostKeyFingerprint}; if the server's key was changed on purpose, pin the new fingerprint in the import's connection settings, otherwise someone may be impersonating the server`,
      );
      expect(await rows(p)).toEqual([{ id: 1 }]);
    } finally {
      await other.stop();
    }
  });

  it('fails on a malformed file with its name and line, leaving the old data and state intact', async () => {
    const dir = dirWith({ 'a.csv': 'id,name\n1,ann\n' });
    const p = plan(dir);
    await run(p);
    const lines = Array.from({ length: 3000 }, (_, i) => (i === 2500 ? `${i},"broken` : `${i},x`)); // fails after staging rows
    writeFileSync(join(dir, 'b.csv'), `id,name\n${lines.join('\n')}\n`);
    writeFileSync(join(dir, 'c.jsonl'), '{"id":1}\n');
    const error = await run(p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect((error as Error).message).toMatch(/^cannot read b\.csv: line \d+/);
    expect(await rows(p)).toEqual([{ id: 1, name: 'ann' }]);
    expect(readdirSync(join(dataDir, 'staging'))).toEqual([]);

    const jsonl = plan(dirWith({ 'bad.jsonl': '{"id":1}\nnot json\n' }), { filePattern: '*.jsonl' });
    await expect(run(jsonl)).rejects.toThrow(/^cannot read bad\.jsonl: line 2: not valid JSON/);
    expect(await warehouse.stats(jsonl.outputs[0]!)).toBeNull();
  });

  it('previews the first rows of a file, writing and remembering nothing', async () => {
    const dir = dirWith({ 'a.csv': 'id,name\n1,ann\n2,bob\n3,cy\n', 'b.jsonl': '{"id":9,"tag":"x"}\n' });
    const p = plan(dir, { filePattern: '*.{csv,jsonl}' });
    expect(await runner.preview(p, 2)).toEqual({
      file: join(dir, 'a.csv'),
      columns: ['id', 'name'],
      rows: [
        { id: 1, name: 'ann' },
        { id: 2, name: 'bob' },
      ],
    });
    expect(await runner.preview(p, 5, 'b.jsonl')).toEqual({ file: join(dir, 'b.jsonl'), columns: ['id', 'tag'], rows: [{ id: 9, tag: 'x' }] });
    expect(await warehouse.stats(p.outputs[0]!)).toBeNull();
    expect(await state.knownHostKey(p.id, sshd.host, sshd.port)).toBeNull();
    expect(readdirSync(dir).sort()).toEqual(['a.csv', 'b.jsonl']);

    // Once a.csv is imported, the preview picks the first file not imported yet.
    await state.markImported(p.id, [listed(p, 'a.csv')]);
    expect((await runner.preview(p, 1)).file).toBe(join(dir, 'b.jsonl'));
    await expect(runner.preview(plan(sshd.newDir()), 1)).rejects.toThrow(/no file in .* matches \*\.csv/);
  });

  it('ends with RunCancelledError and leaves the output untouched when cancelled before or while running', async () => {
    const dir = dirWith({ 'a.csv': 'id\n1\n' });
    const p = plan(dir, { afterImport: 'DELETE' });
    await run(p);
    const big = Array.from({ length: 50_000 }, (_, i) => `${i}`).join('\n');
    writeFileSync(join(dir, 'big.csv'), `id\n${big}\n`);

    const before = new AbortController();
    before.abort();
    await expect(run(p, before.signal)).rejects.toBeInstanceOf(RunCancelledError);

    const during = new AbortController();
    await expect(run(p, during.signal, () => during.abort())).rejects.toBeInstanceOf(RunCancelledError);
    expect(await rows(p)).toEqual([{ id: 1 }]);
    expect(existsSync(join(dir, 'big.csv'))).toBe(true); // neither imported nor deleted
    expect(readdirSync(join(dataDir, 'staging'))).toEqual([]);
    expect((await run(p)).result.rowsWritten).toBe(50_000); // and a later run still takes it
  });
});

/** A file's identity as the SFTP listing reports it (mtime in whole seconds, as milliseconds). */
function listed(p: AutomationPlan, name: string) {
  const stat = statSync(join(p.sftp!.remoteDir, name));
  return { name, size: stat.size, mtime: Math.floor(stat.mtimeMs / 1000) * 1000 };
}
