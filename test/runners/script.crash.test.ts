import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanLeftovers, RECORD_DIR, type ScriptRecord } from '../../jobs/sandbox/leftovers.js';
import { HOST, ownerTag, processStart } from '../../jobs/sandbox/owner.js';
import { backendEnv, TEST_BACKEND, temporaryRelations } from '../helpers/postgres.js';
import { startServerProcess, type ServerProcess, type Spawned } from '../helpers/process.js';
import { processesInNamespace, processesWith, running } from '../helpers/procs.js';
import { eventually } from '../scheduler/helpers.js';
import { PY_ESCAPE, sleepMarker } from './sandbox-helpers.js';

/**
 * kill -9 of a real server while a script runs, then a restart: nothing the script started may
 * be left running, and neither its temp dir nor the half-written staging file may stay behind.
 */

const dirs: string[] = [];
const procs: Spawned[] = [];
const pids: number[] = [];
const drops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  for (const pid of pids.splice(0)) if (running(pid)) process.kill(pid, 'SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const drop of drops.splice(0)) await drop();
});

/** A data dir and a TMPDIR, and on TRIBUTARY_TEST_BACKEND=postgres a fresh database for the stores (`backend`). */
async function workspace() {
  const root = mkdtempSync(join(tmpdir(), 'tributary-crash-'));
  dirs.push(root);
  const dataDir = join(root, 'data');
  const tmp = join(root, 'tmp'); // the server's TMPDIR: its scripts' temp dirs (without the sandbox) go there
  mkdirSync(dataDir);
  mkdirSync(tmp);
  const backend = await backendEnv();
  drops.push(backend.drop);
  return { dataDir, tmp, backend: backend.env };
}

/** `npm start` in a child process; resolves once it listens, with a GraphQL client. */
function server(space: { dataDir: string; tmp: string; backend: Record<string, string> }, env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServerProcess({ DATA_DIR: space.dataDir, TMPDIR: space.tmp, ...space.backend, ...env }, procs);
}

type Api = ServerProcess;

/** Starts a script that writes rows (a staging file opens), says "ready" and then runs on for minutes. */
async function startLongRun(api: Api, language: 'PYTHON' | 'JAVASCRIPT', code: string): Promise<string> {
  const out = (await api.ok(`mutation { createDatasource(input: { name: "out", kind: STORAGE }) { id } }`)).createDatasource;
  const script = (
    await api.ok(`mutation($input: CreateScriptInput!) { createScript(input: $input) { id } }`, {
      input: { name: 'long', language, code, outputIds: [out.id], timeoutSeconds: 600 },
    })
  ).createScript;
  const run = (await api.ok(`mutation($id: ID!) { runAutomation(id: $id) { id } }`, { id: script.id })).runAutomation;
  await eventually(
    async () => (await api.ok(`query($id: ID!) { run(id: $id) { status log } }`, { id: run.id })).run,
    (r) => r.log.some((line: string) => line.endsWith(' ready')),
    30_000,
  );
  return run.id;
}

const stagingOf = (dataDir: string, pid: number) => readdirSync(join(dataDir, 'staging')).filter((n) => n.startsWith(`${pid}.`));
/**
 * The half-written rows of the server `pid`: SQLite stages them in a file of DATA_DIR/staging
 * named after it; PostgreSQL in a temporary table of the write's connection (`staged_rows`), which
 * lives as long as that connection.
 */
const stagedOf = async (space: { dataDir: string; backend: Record<string, string> }, pid: number) =>
  TEST_BACKEND === 'postgres' ? (await temporaryRelations(space.backend.WAREHOUSE_URL!)).filter((n) => n === 'staged_rows') : stagingOf(space.dataDir, pid);
/** Staging files a restart removes: none on PostgreSQL, whose staged rows went with the killed server's connection. */
const STAGING_FILES = TEST_BACKEND === 'postgres' ? 0 : 1;
const recordsOf = (dataDir: string, pid: number) => (existsSync(join(dataDir, RECORD_DIR)) ? readdirSync(join(dataDir, RECORD_DIR)).filter((n) => n.startsWith(`${pid}.`)) : []);
const tempDirsOf = (tmp: string, pid: number) => readdirSync(tmp).filter((n) => n.startsWith(`tributary-script-${pid}.`));

describe('kill -9 of the server while a script runs', () => {
  it('sandbox on: after a restart no process of the sandbox (not even a setsid grandchild), no staging file, no record is left', { timeout: 120_000 }, async () => {
    const space = await workspace();
    const first = await server(space);
    const marker = sleepMarker();
    const code = `${PY_ESCAPE}
import time
for i in range(50):
    tributary.write("out", {"i": i})
shell("sleep ${marker} > /dev/null 2>&1 &", setsid=True)
print("ready", flush=True)
time.sleep(600)`;
    await startLongRun(first, 'PYTHON', code);

    const [recordName] = recordsOf(space.dataDir, first.pid);
    const record = JSON.parse(readFileSync(join(space.dataDir, RECORD_DIR, recordName!), 'utf8')) as ScriptRecord;
    expect(record.pidNamespace).toBeGreaterThan(0);
    expect(processesInNamespace(record.pidNamespace!).length).toBeGreaterThanOrEqual(3); // bwrap's init, python, the grandchild
    expect(processesWith(`sleep ${marker}`)).toHaveLength(1);
    expect(await stagedOf(space, first.pid)).toHaveLength(1); // the half-written rows
    expect(tempDirsOf(space.tmp, first.pid)).toEqual([]); // the code is piped into the sandbox: no copy on the host's disk

    first.proc.child.kill('SIGKILL');
    await first.proc.exited;

    const second = await server(space);
    expect(processesInNamespace(record.pidNamespace!)).toEqual([]);
    expect(processesWith(`sleep ${marker}`)).toEqual([]);
    expect(await eventually(() => stagedOf(space, first.pid), (left) => left.length === 0, 5_000)).toEqual([]);
    expect(recordsOf(space.dataDir, first.pid)).toEqual([]);
    expect(tempDirsOf(space.tmp, first.pid)).toEqual([]);
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited, second.proc.output().slice(-3000)).toBe(0);
  });

  it('SCRIPT_SANDBOX=off: the script outlives the server, and the restart kills it and removes its temp dir and staging file', { timeout: 120_000 }, async () => {
    const space = await workspace();
    const first = await server(space, { SCRIPT_SANDBOX: 'off' });
    const marker = sleepMarker();
    // Python notices the server is gone only at its next request: it sleeps on, and so does its child.
    const code = `${PY_ESCAPE}
import time
for i in range(50):
    tributary.write("out", {"i": i})
shell("sleep ${marker} > /dev/null 2>&1 &")
print("ready", flush=True)
time.sleep(600)`;
    await startLongRun(first, 'PYTHON', code);
    const [tempDir] = tempDirsOf(space.tmp, first.pid); // holding the code
    expect(tempDir).toBeDefined();
    expect(await stagedOf(space, first.pid)).toHaveLength(1);

    first.proc.child.kill('SIGKILL');
    await first.proc.exited;
    // Without the sandbox nothing ties the script to the server: it runs on, until the next start.
    const orphans = [...processesWith(tempDir!), ...processesWith(`sleep ${marker}`)];
    pids.push(...orphans);
    expect(orphans).toHaveLength(2);

    const second = await server(space, { SCRIPT_SANDBOX: 'off' });
    expect(second.proc.output()).toMatch(/SCRIPT_SANDBOX=off: scripts run WITHOUT the OS sandbox/);
    const cleaned = second.proc.output().split('\n').find((l) => l.includes('removed what stopped Tributary processes left'));
    expect(JSON.parse(cleaned!)).toMatchObject({ killed: 1, tempDirs: 1, stagingFiles: STAGING_FILES });
    await eventually(async () => orphans.filter(running), (p) => p.length === 0, 5_000);
    expect(tempDirsOf(space.tmp, first.pid)).toEqual([]);
    expect(await eventually(() => stagedOf(space, first.pid), (left) => left.length === 0, 5_000)).toEqual([]);
    expect(recordsOf(space.dataDir, first.pid)).toEqual([]);
    second.proc.child.kill('SIGTERM');
    expect(await second.proc.exited, second.proc.output().slice(-3000)).toBe(0);
  });
});

describe('the start-up clean-up', () => {
  function quietLogger() {
    const lines: string[] = [];
    return { logger: pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) })), lines };
  }

  /** A detached `sleep` in a process group of its own: a stand-in for a script's processes. */
  function sleeper(): { pid: number; start: number } {
    const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    child.unref();
    pids.push(child.pid!);
    return { pid: child.pid!, start: processStart(child.pid!)! };
  }

  it('touches only what dead owners left: a live process sharing DATA_DIR keeps its processes, temp dirs and staging files', async () => {
    const space = await workspace();
    mkdirSync(join(space.dataDir, 'staging'));
    mkdirSync(join(space.dataDir, RECORD_DIR));
    // Another live Tributary process on this host (a worker), and one that died.
    const liveOwner = sleeper();
    const deadChild = spawn('true');
    await new Promise((r) => deadChild.once('exit', r));
    const tags = {
      self: ownerTag(),
      live: ownerTag({ pid: liveOwner.pid, start: liveOwner.start, host: HOST }),
      dead: ownerTag({ pid: deadChild.pid!, start: 12345, host: HOST }),
      reused: ownerTag({ pid: liveOwner.pid, start: liveOwner.start + 1, host: HOST }), // the pid now names another process
      elsewhere: ownerTag({ pid: deadChild.pid!, start: 12345, host: `${HOST}-elsewhere` }), // only its host can tell
    };
    const scripts = { self: sleeper(), live: sleeper(), dead: sleeper(), reused: sleeper(), elsewhere: sleeper() };
    for (const [who, tag] of Object.entries(tags) as [keyof typeof tags, string][]) {
      const script = scripts[who];
      writeFileSync(join(space.dataDir, RECORD_DIR, `${tag}-${script.pid}.json`), JSON.stringify({ owner: tag, startedAt: '', processes: [{ ...script, group: true }] }));
      writeFileSync(join(space.dataDir, 'staging', `${tag}-${randomUUID()}.db`), 'half-written');
      mkdirSync(join(space.tmp, `tributary-script-${tag}-Ab12Cd`));
    }
    // A pid recorded with another start time is never killed, even for a dead owner.
    const stranger = sleeper();
    writeFileSync(join(space.dataDir, RECORD_DIR, `${tags.dead}-${stranger.pid}.json`), JSON.stringify({ owner: tags.dead, startedAt: '', processes: [{ pid: stranger.pid, start: stranger.start + 7 }] }));
    // Not ours at all: a test's data dir that merely starts alike.
    mkdirSync(join(space.tmp, 'tributary-script-test-Ab12Cd'));

    const report = cleanLeftovers(space.dataDir, quietLogger().logger, space.tmp);
    expect(report).toEqual({ killed: 2, tempDirs: 2, stagingFiles: 2 });
    await eventually(async () => [scripts.dead, scripts.reused].filter((s) => running(s.pid)), (alive) => alive.length === 0, 5_000);
    for (const who of ['self', 'live', 'elsewhere'] as const) expect(running(scripts[who].pid), who).toBe(true);
    expect(running(stranger.pid)).toBe(true);
    const kept = (dir: string) => readdirSync(dir).map((n) => n.replace(/-[0-9a-f-]{36}\.db$|-\d+\.json$|-Ab12Cd$/, ''));
    expect(kept(join(space.dataDir, 'staging')).sort()).toEqual([tags.elsewhere, tags.live, tags.self].sort());
    expect(kept(join(space.dataDir, RECORD_DIR)).sort()).toEqual([tags.elsewhere, tags.live, tags.self].sort());
    expect(kept(space.tmp).sort()).toEqual(['tributary-script-test', `tributary-script-${tags.elsewhere}`, `tributary-script-${tags.live}`, `tributary-script-${tags.self}`].sort());
  });
});
