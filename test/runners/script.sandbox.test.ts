import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptLanguage } from '../../core/db/entities/index.js';
import { RunCancelledError } from '../../jobs/runners/runner.js';
import { ScriptRunner } from '../../jobs/runners/script.runner.js';
import { openScripts } from '../../jobs/sandbox/setup.js';
import { SqliteDb } from '../../jobs/warehouse/sqlite-db.js';
import { SqliteWarehouse } from '../../jobs/warehouse/sqlite-warehouse.js';
import { hostUid, processesWith, stillRunningAfter } from '../helpers/procs.js';
import { eventually } from '../helpers/eventually.js';
import { context, plan, PY_ESCAPE, python, sleepMarker, storage } from './sandbox-helpers.js';

/**
 * The attacks that worked before scripts ran in bubblewrap, each tried again with the sandbox on
 * (the default). Python attacks go around the audit hook with _posixsubprocess.fork_exec, so
 * what they show is what the OS sandbox alone allows. Everything here is real: bwrap, the
 * interpreters, the processes; nothing of ours is mocked.
 */

const SECRET = `sealed-${randomBytes(12).toString('hex')}`;
let dataDir: string;
let warehouse: SqliteWarehouse;
let runner: ScriptRunner;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'tributary-sandbox-test-'));
  writeFileSync(join(dataDir, 'secret.key'), SECRET, { mode: 0o600 });
  // Tributary's metadata database, with a "sealed secret" in it.
  const db = await SqliteDb.open(join(dataDir, 'tributary.db'));
  await db.exec(`create table secrets (sealed text); insert into secrets values ('${SECRET}')`);
  await db.close();
  warehouse = await SqliteWarehouse.open(dataDir);
  runner = new ScriptRunner(warehouse, { dataDir });
});
afterAll(async () => {
  await warehouse.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a Python script that escapes the audit hook (_posixsubprocess.fork_exec)', () => {
  it('gets a shell that runs as nobody and sees neither DATA_DIR, /root nor the secret key, in a run and in a preview', async () => {
    const code = `${PY_ESCAPE}
print(shell("echo uid=$(id -u) gid=$(id -g); cat ${dataDir}/secret.key; ls ${dataDir}; ls /root; ls /tmp; echo x >> /usr/bin/env; echo shell done"))`;
    const { ctx, log } = context();
    await runner.run(python(code), ctx);
    const preview = await runner.preview(python(code), 1);
    for (const lines of [log, preview.log]) {
      const text = lines.join('\n');
      expect(text).toContain('uid=65534 gid=65534'); // the attack ran: a shell, as nobody
      expect(text).toContain('shell done');
      expect(text).toMatch(new RegExp(`cat: ${dataDir}/secret.key: No such file or directory`));
      expect(text).toMatch(/ls: cannot access '\/root': No such file or directory/);
      expect(text).toMatch(/\/usr\/bin\/env: (Read-only file system|Permission denied)/);
      expect(text).not.toContain(SECRET);
    }
  });

  it('cannot open Tributary\'s databases with sqlite3: no secret read, nothing written to the warehouse', async () => {
    const code = `
import sqlite3
for uri in ["file:${dataDir}/tributary.db?mode=ro", "file:${dataDir}/warehouse.db"]:
    try:
        db = sqlite3.connect(uri, uri=True)
        print("read", db.execute("select * from sqlite_master").fetchall())
        db.execute("create table pwned (x)")
        db.commit()
        print("wrote", uri)
    except Exception as error:
        print("refused", uri, error)`;
    const { ctx, log } = context();
    await runner.run(python(code), ctx);
    const text = log.join('\n');
    expect(text).toContain(`refused file:${dataDir}/tributary.db?mode=ro unable to open database file`);
    expect(text).toContain(`refused file:${dataDir}/warehouse.db unable to open database file`);
    expect(text).not.toContain(SECRET);
    expect(text).not.toMatch(/^wrote/m);
    const db = await SqliteDb.open(warehouse.file);
    expect(await db.all(`select name from sqlite_master where name = 'pwned'`)).toEqual([]);
    await db.close();
  });

  it('cannot move a file out of its directory with os.rename, nor write anywhere but there', async () => {
    const elsewhere = join(tmpdir(), `tributary-elsewhere-${randomUUID()}`);
    const code = `${PY_ESCAPE}
import os
open("mine.txt", "w").write("payload")
for target in ["${elsewhere}", "${dataDir}/moved.txt", "/moved.txt"]:
    try:
        os.rename("mine.txt", target)
        print("renamed to", target)
    except OSError as error:
        print("refused", target, error.strerror)
print(shell("echo x > ${dataDir}/shell.txt; echo x > /tmp/shell.txt; touch /usr/shell.txt; touch /dev/shm/x; echo wrote ok > written.txt; cat written.txt"))`;
    const { ctx, log } = context();
    await runner.run(python(code), ctx);
    const text = log.join('\n');
    expect(text).toMatch(new RegExp(`refused ${elsewhere} (Invalid cross-device link|Read-only file system)`));
    expect(text).toMatch(new RegExp(`refused ${dataDir}/moved.txt No such file or directory`));
    expect(text).toMatch(/refused \/moved.txt (Invalid cross-device link|Read-only file system)/);
    expect(text).not.toContain('renamed to');
    expect(text).toContain('wrote ok'); // its own directory is writable
    expect(existsSync(elsewhere)).toBe(false);
    expect(readdirSync(dataDir).filter((f) => /moved|shell/.test(f))).toEqual([]);
    expect(existsSync('/usr/shell.txt')).toBe(false);
  });

  it('sees only its own processes in /proc: readlink of the parent\'s and every fd names nothing of DATA_DIR', async () => {
    const code = `${PY_ESCAPE}
import os
links = []
for pid in [os.getppid(), 1, os.getpid(), "self"]:
    for fd in range(0, 64):
        try:
            links.append("%s/%s -> %s" % (pid, fd, os.readlink("/proc/%s/fd/%d" % (pid, fd))))
        except OSError:
            pass
print("\\n".join(links))
print("ppid", os.getppid())
print(shell("echo processes $(ls /proc | grep -c '^[0-9]'); ls -l /proc/*/fd/ 2>&1 | grep -c ' -> '; cat /proc/1/cmdline | tr '\\\\0' ' '"))`;
    const { ctx, log } = context();
    await runner.run(python(code), ctx);
    const text = log.join('\n');
    expect(text).toMatch(/self\/3 -> socket:/); // the attack ran: fds were read
    expect(text).not.toContain(dataDir);
    expect(text).not.toMatch(/\.db\b/);
    const processes = Number(/processes (\d+)/.exec(text)?.[1]);
    expect(processes).toBeGreaterThan(0);
    expect(processes).toBeLessThan(8); // bwrap's init, prlimit→python, the shell and its children: not the host's
  });

  it('a grandchild started with start_new_session dies with the run at its timeout, and at a cancel', async () => {
    for (const how of ['timeout', 'cancel'] as const) {
      const marker = sleepMarker();
      const controller = new AbortController();
      let seen: number[] = [];
      let uids: (number | null)[] = [];
      const { ctx } = context((line) => {
        if (line !== 'grandchild started') return;
        seen = processesWith(`sleep ${marker}`);
        uids = seen.map(hostUid);
        if (how === 'cancel') controller.abort();
      }, controller.signal);
      const code = `${PY_ESCAPE}
shell("sleep ${marker} > /dev/null 2>&1 &", setsid=True)
print("grandchild started", flush=True)
while True:
    pass`;
      const run = runner.run(python(code, { timeoutSeconds: 3 }), ctx);
      if (how === 'timeout') await expect(run).rejects.toThrow('the script ran longer than its timeout of 3 s');
      else await expect(run).rejects.toBeInstanceOf(RunCancelledError);
      expect(seen).toHaveLength(1);
      expect(uids).toEqual([65534]); // on the host too it was nobody, not the server's root
      expect(await stillRunningAfter(seen)).toEqual([]);
      expect(await stillRunningAfter(processesWith(`sleep ${marker}`))).toEqual([]);
    }
  });
});

describe('limits', () => {
  it('the memory limit holds for Buffer.alloc, not only for the V8 heap', async () => {
    const big = context();
    const code = `const kept = []; for (let i = 0; i < 4; i++) { kept.push(Buffer.alloc(256 * 1024 * 1024)); console.log('allocated', i); }`;
    await expect(runner.run(plan(code, {}, { memoryMb: 64 }), big.ctx)).rejects.toThrow('the script ran out of memory: it may use at most 64 MB');
    expect(big.log.join('\n')).not.toContain('allocated');

    // Many small ones add up: the limit is on the total.
    const small = context();
    const many = `const kept = []; for (let i = 0; i < 64; i++) { kept.push(Buffer.alloc(8 * 1024 * 1024, 1)); console.log('allocated', i); }`;
    await expect(runner.run(plan(many, {}, { memoryMb: 64 }), small.ctx)).rejects.toThrow('the script ran out of memory');
    const allocated = small.log.filter((l) => l.startsWith('allocated')).length;
    expect(allocated).toBeGreaterThan(4);
    expect(allocated).toBeLessThan(24); // 64 MB + the runtime's allowance, in 8 MB pieces
  });

  it('the memory limit holds for Python too, even in a process the audit hook does not watch, and cannot be raised', async () => {
    const code = `${PY_ESCAPE}
import resource
try:
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    print("raised the limit")
except (ValueError, OSError) as error:
    print("refused to raise:", error)
print(shell("/usr/bin/python3 -I -c 'import resource; s, h = resource.getrlimit(resource.RLIMIT_AS); resource.setrlimit(resource.RLIMIT_AS, (h, h)); bytearray(1 << 30); print(\\"got 1 GB\\")' 2>&1 | tail -1"))
print(shell("/usr/bin/python3 -I -c 'import mmap; m = mmap.mmap(-1, 1 << 30); print(\\"got a shared 1 GB map\\")' 2>&1 | tail -1"))`;
    const { ctx, log } = context();
    await runner.run(python(code, { memoryMb: 64 }), ctx);
    const text = log.join('\n');
    expect(text).toMatch(/refused to raise: not allowed to raise maximum limit/);
    expect(text).toMatch(/^MemoryError/m);
    expect(text).toMatch(/OSError: \[Errno 12\] Cannot allocate memory/);
    expect(text).not.toMatch(/got 1 GB|got a shared 1 GB map|raised the limit/);
  });

  it('memory outside every mapping limit is refused: memfd_create and System V shared memory answer EPERM', async () => {
    // An attacker's pass held 2.1 GB of host memory from one 512 MB script with five memfds.
    const code = `${PY_ESCAPE}
import os
try:
    fd = os.memfd_create("hold")
    os.write(fd, b"x" * (1 << 20))
    print("got a memfd")
except OSError as error:
    print("memfd refused, errno", error.errno)
print(shell("/usr/bin/python3 -I -c 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); print(\\"shmget\\", libc.shmget(0, 1 << 20, 0o1600), ctypes.get_errno())' 2>&1 | tail -1"))`;
    const { ctx, log } = context();
    await runner.run(python(code, { memoryMb: 64 }), ctx);
    const text = log.join('\n');
    expect(text).toMatch(/memfd refused, errno 1\b/);
    expect(text).toMatch(/shmget -1 1\b/);
    expect(text).not.toMatch(/got a memfd/);

    // The same code without the sandbox gets its memfd: the refusal is the filter's doing.
    const unsandboxed = new ScriptRunner(warehouse, { dataDir, sandbox: 'off' });
    const direct = context();
    await unsandboxed.run(python(`import os\nfd = os.memfd_create("hold")\nos.write(fd, b"x" * 1024)\nprint("got a memfd")`, { memoryMb: 64 }), direct.ctx);
    expect(direct.log.join('\n')).toMatch(/got a memfd/);
  });

  it('a fork bomb stays within the sandbox\'s process limit, and other scripts still run meanwhile', async () => {
    const marker = sleepMarker();
    let during: number[] = [];
    let uids = new Set<number | null>();
    let other: Promise<unknown> | undefined;
    const { ctx, log } = context((line) => {
      if (line !== 'bomb done') return;
      during = processesWith(`sleep ${marker}`);
      uids = new Set(during.map(hostUid));
      other = runner.run(plan(`console.log('the other script ran')`), context().ctx);
    });
    const code = `${PY_ESCAPE}
print(shell("i=0; while [ $i -lt 300 ]; do sleep ${marker} > /dev/null 2>&1 & i=$((i+1)); done 2>&1 | tail -1"))
print("bomb done", flush=True)
import time
time.sleep(60)`;
    await expect(runner.run(python(code, { timeoutSeconds: 4 }), ctx)).rejects.toThrow(/timeout of 4 s/);
    await expect(other).resolves.toMatchObject({ rowsRead: 0 });
    expect(log.join('\n')).toMatch(/Cannot fork|Resource temporarily unavailable/);
    expect(during.length).toBeGreaterThan(5);
    expect(during.length).toBeLessThanOrEqual(32);
    expect([...uids]).toEqual([65534]);
    // The kernel kills the namespace's processes once its init is gone; that takes a moment under load.
    await eventually(async () => processesWith(`sleep ${marker}`), (left) => left.length === 0, 5_000);
  });

  it('gives no network: a port listening on the host\'s 127.0.0.1 cannot be reached', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections += 1;
      socket.end('hello\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const js = context();
      await runner.run(plan(`try { await fetch('http://127.0.0.1:${port}/'); console.log('connected'); } catch (error) { console.log('refused', error.cause?.code); }`), js.ctx);
      expect(js.log).toContain('refused ECONNREFUSED');
      const py = context();
      const code = `import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=3)\n    print("connected")\nexcept OSError as error:\n    print("refused", error.strerror)`;
      await runner.run(python(code), py.ctx);
      expect(py.log).toContain('refused Connection refused');
      const dns = context();
      await runner.run(python(`import socket\ntry:\n    socket.getaddrinfo("example.com", 80)\n    print("resolved")\nexcept OSError as error:\n    print("no dns")`), dns.ctx);
      expect(dns.log).toContain('no dns');
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('a script can signal only its own sandbox: kill(ppid) and kill(-1) leave the server and other scripts alone', async () => {
    const marker = `tributary-victim-${randomUUID()}`;
    const controller = new AbortController();
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const victim = runner.run(plan(`process.title = '${marker}'; console.log('victim up'); await new Promise((r) => setTimeout(r, 60000));`), context((l) => l === 'victim up' && started(), controller.signal).ctx);
    await ready;
    const { ctx, log } = context();
    const code = `for (const [pid, sig] of [[process.ppid, 'SIGTERM'], [process.ppid, 'SIGKILL'], [-1, 'SIGKILL'], [1, 'SIGKILL']]) {
      try { process.kill(pid, sig); console.log('sent', sig, 'to', pid); } catch (error) { console.log('refused', pid, error.code); }
    }
    console.log('still here');`;
    await runner.run(plan(code), ctx);
    expect(log).toContain('still here');
    expect(processesWith(marker)).toHaveLength(1); // the other script runs on
    controller.abort();
    await expect(victim).rejects.toBeInstanceOf(RunCancelledError);
    expect(processesWith(marker)).toEqual([]);
  });
});

describe('configuration', () => {
  function logger() {
    const lines: Record<string, any>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
        done();
      },
    });
    return { logger: pino({ level: 'info' }, sink), lines };
  }

  it('bwrap missing: no script runs, the run and the start-up log say what to install or set', async () => {
    const missing = new ScriptRunner(warehouse, { dataDir, bwrap: '/nonexistent/bwrap' });
    const expected =
      'scripts cannot run: the script sandbox is unavailable: bubblewrap is not installed (/nonexistent/bwrap was not found): install it (Debian/Ubuntu: apt-get install bubblewrap). Fix that, or set SCRIPT_SANDBOX=off to run scripts without it';
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('tributary-script-')).length;
    for (const language of [ScriptLanguage.JAVASCRIPT, ScriptLanguage.PYTHON]) {
      await expect(missing.run(plan(`console.log('ran')`, {}, { language }), context().ctx)).rejects.toThrow(expected);
      await expect(missing.preview(plan(`print('ran')`, {}, { language }), 1)).rejects.toThrow(expected);
    }
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('tributary-script-')).length).toBe(before);

    const { logger: log, lines } = logger();
    await openScripts({ dataDir, scriptSandbox: 'on' }, warehouse, log, { bwrap: '/nonexistent/bwrap' });
    expect(lines.find((l) => l.level === 50)?.msg).toContain(expected);
  });

  it('user namespaces refused: the error says which setting to change', async () => {
    // A stand-in for a bwrap the kernel refuses, printing Debian bwrap's own message.
    const dir = mkdtempSync(join(tmpdir(), 'tributary-fake-bwrap-'));
    try {
      chmodSync(dir, 0o755); // bwrap is started as nobody
      const fake = join(dir, 'bwrap');
      writeFileSync(fake, `#!/bin/sh\necho "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces." >&2\nexit 1\n`);
      chmodSync(fake, 0o755);
      const refused = new ScriptRunner(warehouse, { bwrap: fake });
      await expect(refused.run(plan(`console.log('ran')`), context().ctx)).rejects.toThrow(
        /the script sandbox is unavailable: bubblewrap \(.*\) cannot create the sandbox: No permissions to creating new namespace.*: unprivileged user namespaces must be allowed \(Debian: sysctl kernel.unprivileged_userns_clone=1/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SCRIPT_SANDBOX=off: scripts run the old way, as the server\'s child, and every start warns', async () => {
    const { logger: log, lines } = logger();
    const off = await openScripts({ dataDir, scriptSandbox: 'off' }, warehouse, log);
    expect(lines.find((l) => l.level === 40)?.msg).toMatch(/^SCRIPT_SANDBOX=off: scripts run WITHOUT the OS sandbox/);
    const output = storage('off');
    await off.run(plan(`await tributary.write('off', { uid: process.getuid(), home: process.env.HOME });`, { outputs: [output] }), context().ctx);
    const [row] = (await warehouse.page(output, 10)).rows as { uid: number; home: string }[];
    expect(row!.uid).toBe(process.getuid!()); // no uid change without the sandbox
    expect(row!.home).toMatch(new RegExp(`^${tmpdir()}/tributary-script-${process.pid}\\.\\d+@`));
    expect(existsSync(row!.home)).toBe(false); // its temp dir is gone after the run

    const on = logger();
    const sandboxed = await openScripts({ dataDir, scriptSandbox: 'on' }, warehouse, on.logger);
    expect(on.lines.find((l) => l.msg === 'scripts run in the bubblewrap sandbox')?.sandbox).toMatch(/bubblewrap \/usr\/bin\/bwrap; Node \/usr\/bin\/node; Python \/usr\/bin\/python3/);
    const inside = storage('on');
    await sandboxed.run(plan(`await tributary.write('on', { uid: process.getuid(), home: process.env.HOME });`, { outputs: [inside] }), context().ctx);
    expect((await warehouse.page(inside, 10)).rows).toEqual([{ uid: 65534, home: '/tmp/tributary-script-sandbox' }]);
  });

  it('a Node outside /usr is bound read-only when the sandbox\'s user can read it; otherwise scripts use /usr/bin/node', async () => {
    const readable = mkdtempSync(join(tmpdir(), 'tributary-node-open-'));
    const hidden = mkdtempSync(join(tmpdir(), 'tributary-node-hidden-')); // 0700, root's: nobody cannot reach it
    chmodSync(readable, 0o755);
    try {
      for (const dir of [readable, hidden]) {
        try {
          linkSync('/usr/bin/node', join(dir, 'node'));
        } catch {
          copyFileSync('/usr/bin/node', join(dir, 'node'));
          chmodSync(join(dir, 'node'), 0o755);
        }
      }
      const bound = new ScriptRunner(warehouse, { node: join(readable, 'node') });
      expect(await bound.describe()).toContain(`Node ${readable}/node;`);
      const used = context();
      await bound.run(plan(`console.log('node', process.execPath)`), used.ctx);
      expect(used.log).toContain(`node ${readable}/node`);

      const fallback = new ScriptRunner(warehouse, { node: join(hidden, 'node') });
      expect(await fallback.describe()).toContain(`Node /usr/bin/node (the server's Node ${hidden}/node is not readable by the sandbox's user)`);
      const instead = context();
      await fallback.run(plan(`console.log('node', process.execPath)`), instead.ctx);
      expect(instead.log).toContain('node /usr/bin/node');
    } finally {
      rmSync(readable, { recursive: true, force: true });
      rmSync(hidden, { recursive: true, force: true });
    }
  });

  it('keeps running writes staged in a file named after its owner, and removes it after', async () => {
    const output = storage('staged');
    let staged: string[] = [];
    const { ctx } = context((line) => line === 'wrote' && (staged = readdirSync(join(dataDir, 'staging'))));
    await runner.run(plan(`await tributary.write('staged', [{ a: 1 }]); console.log('wrote'); await new Promise((r) => setTimeout(r, 300));`, { outputs: [output] }), ctx);
    expect(staged.some((name) => name.startsWith(`${process.pid}.`))).toBe(true);
    expect(readdirSync(join(dataDir, 'staging'))).toEqual([]);
  });
});
