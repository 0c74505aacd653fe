import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bwrapArgs, DEFAULT_BWRAP, probeSandbox, sandboxCredentials, type SandboxLimits } from '../sandbox/bwrap.js';
import { seccompFilter } from '../sandbox/seccomp.js';
import { scriptTempPrefix } from '../sandbox/leftovers.js';
import { RunFailedError } from './runner.js';

/**
 * How a script's interpreter is started: inside the bubblewrap sandbox (SCRIPT_SANDBOX=on, the
 * default; see jobs/sandbox/bwrap.ts) or, when an administrator turned it off, directly as a
 * child of the server in a temp dir of its own. Either way the interpreter runs our bootstrap
 * (script-host/host.mjs or host.py), which talks to the runner over fd 3 only, under Node's
 * permission model or Python's audit hook: the second layer.
 */

export interface LaunchOptions {
  /** Python interpreter; default /usr/bin/python3 in the sandbox, else `python3` on the PATH. */
  python?: string;
  /** Node binary for JavaScript; default the server's own (or /usr/bin/node when the sandbox cannot reach it). */
  node?: string;
  sandbox: 'on' | 'off';
  /** bubblewrap binary (default /usr/bin/bwrap). */
  bwrap?: string;
}

export interface LaunchRequest {
  python: boolean;
  code: string;
  memoryMb: number;
  timeoutSeconds: number;
}

/** One prepared start of a script's interpreter. */
export interface Launch {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  uid?: number;
  gid?: number;
  /** Texts written (then closed) into the child's fds beyond 3, by fd number. */
  feeds: Map<number, string | Buffer>;
  /** The fd bwrap reports the sandbox's PID 1 and PID namespace on. */
  infoFd?: number;
  sandboxed: boolean;
  /** Removes what the start left on the host (the temp dir without the sandbox). */
  cleanup(): Promise<void>;
}

const HOST_DIR = fileURLToPath(new URL('./script-host/', import.meta.url));
const NO_PYTHON = 'python3 is not installed on this server; install it or write the script in JavaScript';
/** Inside the sandbox: the bootstrap (read-only) and the script's private directory. */
const SANDBOX_HOST_DIR = '/run/tributary';
const SANDBOX_WORK_DIR = '/tmp/tributary-script-sandbox';
const [INFO_FD, HOST_FD, CODE_FD, SECCOMP_FD] = [4, 5, 6, 7];
/** Memory a runtime needs before the script allocates anything (Node: thread stacks and heap reservations). */
const NODE_BASE_MB = 96;
const PYTHON_BASE_MB = 64;
/** Processes and threads of one sandbox (Node itself runs about 11 threads). */
const MAX_PROCESSES = 32;
const MAX_OPEN_FILES = 256;

export function sandboxUnavailable(problem: string): string {
  return `scripts cannot run: the script sandbox is unavailable: ${problem}. Fix that, or set SCRIPT_SANDBOX=off to run scripts without it (as the server's own user, with only in-process guards; not recommended)`;
}

export class ScriptLauncher {
  private sandboxNode: Promise<{ node: string; binds: string[]; note?: string }> | undefined;

  constructor(private readonly options: LaunchOptions) {}

  get sandboxed(): boolean {
    return this.options.sandbox === 'on';
  }

  get bwrap(): string {
    return this.options.bwrap ?? DEFAULT_BWRAP;
  }

  /** Why scripts cannot run now (the sandbox is on and cannot start), or null. */
  async problem(): Promise<string | null> {
    return this.sandboxed ? probeSandbox(this.bwrap) : null;
  }

  /** The interpreters scripts will use, in words (for the start-up log). */
  async describe(): Promise<string> {
    if (!this.sandboxed) return `Node ${this.options.node ?? process.execPath}, ${this.options.python ?? 'python3'} on the PATH, without the sandbox`;
    const node = await this.nodeInSandbox().catch((error: Error) => ({ node: `none (${error.message})`, note: undefined }));
    const python = this.options.python ?? '/usr/bin/python3';
    return `bubblewrap ${this.bwrap}; Node ${node.node}${node.note ? ` (${node.note})` : ''}; Python ${python}`;
  }

  async prepare(request: LaunchRequest): Promise<Launch> {
    if (!this.sandboxed) return this.direct(request);
    const problem = await probeSandbox(this.bwrap);
    if (problem) throw new RunFailedError(sandboxUnavailable(problem));
    const { python, memoryMb, timeoutSeconds } = request;
    const bootstrap = python ? 'host.py' : 'host.mjs';
    const host = join(SANDBOX_HOST_DIR, bootstrap);
    const script = join(SANDBOX_WORK_DIR, python ? 'script.py' : 'script.js');
    let command: string[];
    let binds: string[] = [];
    if (python) {
      const interpreter = await this.pythonInSandbox();
      binds = interpreter.binds;
      command = [interpreter.python, '-I', '-u', host, script];
    } else {
      const interpreter = await this.nodeInSandbox();
      binds = interpreter.binds;
      command = [interpreter.node, ...(await nodeFlags(interpreter.node, host, SANDBOX_WORK_DIR, memoryMb)), host, script];
    }
    const workBytes = memoryMb * 1024 * 1024;
    const memory = (memoryMb + (python ? PYTHON_BASE_MB : NODE_BASE_MB)) * 1024 * 1024;
    const limits: SandboxLimits = {
      // Python: the address space bounds everything, shared mappings too. Node: V8 reserves
      // gigabytes it never uses, so the data limit (every private writable mapping: the heap,
      // Buffers, thread stacks) bounds it instead.
      addressSpace: python ? memory : null,
      data: memory,
      processes: MAX_PROCESSES,
      openFiles: MAX_OPEN_FILES,
      cpuSeconds: timeoutSeconds * 2 + 10,
      fileSize: workBytes,
    };
    const filter = seccompFilter();
    const args = bwrapArgs({
      workDir: SANDBOX_WORK_DIR,
      workBytes,
      files: [
        { fd: HOST_FD, path: host },
        { fd: CODE_FD, path: script },
      ],
      binds,
      env: scriptEnv(SANDBOX_WORK_DIR, memoryMb, '/usr/local/bin:/usr/bin:/bin'),
      command,
      limits,
      infoFd: INFO_FD,
      seccompFd: filter ? SECCOMP_FD : undefined,
    });
    return {
      command: this.bwrap,
      args,
      env: {},
      cwd: '/',
      ...sandboxCredentials(),
      feeds: new Map<number, string | Buffer>([
        [HOST_FD, readFileSync(join(HOST_DIR, bootstrap), 'utf8')],
        [CODE_FD, request.code],
        ...(filter ? [[SECCOMP_FD, filter] as [number, Buffer]] : []),
      ]),
      infoFd: INFO_FD,
      sandboxed: true,
      cleanup: async () => undefined,
    };
  }

  /** SCRIPT_SANDBOX=off: the interpreter as the server's child, in a temp dir named after this process. */
  private async direct(request: LaunchRequest): Promise<Launch> {
    const { python, memoryMb } = request;
    let command: string;
    const host = realpathSync(join(HOST_DIR, python ? 'host.py' : 'host.mjs'));
    if (python) {
      const found = await resolvePython(this.options.python ?? 'python3');
      if (!found) throw new RunFailedError(NO_PYTHON);
      command = found;
    } else {
      command = this.options.node ?? process.execPath;
    }
    // Made after the interpreter is found: a missing one fails without leaving anything behind.
    const dir = await realpath(await mkdtemp(scriptTempPrefix()));
    const cleanup = () => rm(dir, { recursive: true, force: true });
    try {
      const script = join(dir, python ? 'script.py' : 'script.js');
      await writeFile(script, request.code, { mode: 0o600 });
      // -I: no PYTHON* variables, no user site-packages, no script directory on sys.path; -u: unbuffered prints.
      const args = python ? ['-I', '-u', host, script] : [...(await nodeFlags(command, host, dir, memoryMb)), host, script];
      return { command, args, env: scriptEnv(dir, memoryMb, process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'), cwd: dir, feeds: new Map(), sandboxed: false, cleanup };
    } catch (error) {
      await cleanup();
      throw error;
    }
  }

  /** /usr/bin/python3 unless another interpreter was configured (bound read-only with its prefix). */
  private async pythonInSandbox(): Promise<{ python: string; binds: string[] }> {
    if (!this.options.python && executable('/usr/bin/python3')) return { python: '/usr/bin/python3', binds: [] };
    const found = await resolvePython(this.options.python ?? 'python3', true);
    if (!found) throw new RunFailedError(NO_PYTHON);
    const [executablePath, prefix] = found.split('\n');
    const real = realpathSync(executablePath!);
    const root = realpathSync(prefix!);
    // Its prefix holds the standard library (and usually the interpreter itself).
    const binds = [root, ...(real.startsWith(`${root}/`) ? [] : [real])].filter((path) => !underUsr(path));
    return { python: real, binds };
  }

  /**
   * The server's Node when the sandbox can reach it (under /usr, or bound read-only from a
   * directory nobody may read), else /usr/bin/node: a Node under /root (nvm) is not readable by
   * the sandbox's unprivileged user.
   */
  private nodeInSandbox(): Promise<{ node: string; binds: string[]; note?: string }> {
    this.sandboxNode ??= (async () => {
      const own = realpathSync(this.options.node ?? process.execPath);
      if (underUsr(own)) return { node: own, binds: [] };
      if (await runsInSandbox(this.bwrap, own)) return { node: own, binds: [own] };
      if (executable('/usr/bin/node') && (await permissionFlags('/usr/bin/node'))) {
        return { node: '/usr/bin/node', binds: [], note: `the server's Node ${own} is not readable by the sandbox's user` };
      }
      throw new RunFailedError(
        `JavaScript scripts cannot run: the sandbox's unprivileged user cannot read this server's Node.js (${own}) and there is no /usr/bin/node; install Node.js 20 or later under /usr (e.g. Debian's nodejs package) or where uid ${65534} can read it`,
      );
    })();
    this.sandboxNode.catch(() => (this.sandboxNode = undefined));
    return this.sandboxNode;
  }
}

/** The child's whole environment: nothing of the server's (no secret key, database URL or data dir). */
function scriptEnv(dir: string, memoryMb: number, path: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: path,
    HOME: dir,
    TMPDIR: dir,
    LANG: process.env.LANG || 'C.UTF-8',
    TRIBUTARY_FD: '3',
    TRIBUTARY_MEMORY_MB: String(memoryMb),
  };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

/** Node's flags: the permission model (no child processes, workers or addons; files: the bootstrap, and the script's dir) and the heap cap. */
async function nodeFlags(node: string, host: string, dir: string, memoryMb: number): Promise<string[]> {
  const permission = await permissionFlags(node);
  if (!permission) {
    throw new RunFailedError(`this server's Node.js (${node}) has no permission model, so JavaScript scripts cannot be isolated; run the server on Node 20 or later`);
  }
  return [...permission, `--allow-fs-read=${host}`, `--allow-fs-read=${dir}`, `--allow-fs-write=${dir}`, `--max-old-space-size=${memoryMb}`];
}

const underUsr = (path: string) => path === '/usr' || path.startsWith('/usr/');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs a short command and returns its exit code and stdout (null when it cannot start). */
function probe(command: string, args: string[], env: NodeJS.ProcessEnv, extra: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stdout: string } | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, cwd: '/', stdio: ['ignore', 'pipe', 'ignore'], ...extra });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve({ code, stdout }));
  });
}

/** Whether this binary runs in the sandbox bound at its own path (its directories may not be readable by nobody). */
async function runsInSandbox(bwrap: string, binary: string): Promise<boolean> {
  const args = bwrapArgs({
    workDir: '/tmp/probe',
    workBytes: 1 << 20,
    files: [],
    binds: [binary],
    env: { PATH: '/usr/bin:/bin' },
    command: [binary, '--version'],
    limits: { addressSpace: null, data: 512 << 20, processes: MAX_PROCESSES, openFiles: 64, cpuSeconds: 10, fileSize: 1 << 20 },
  });
  return (await probe(bwrap, args, {}, sandboxCredentials()))?.code === 0;
}

const permissionCache = new Map<string, Promise<string[] | null>>();

/**
 * The flags that turn on this Node's permission model, probed once per binary: `--permission`
 * (Node 22.13+/23.5+), else `--experimental-permission` (Node 20–22); null when neither works.
 */
function permissionFlags(node: string): Promise<string[] | null> {
  let cached = permissionCache.get(node);
  if (!cached) {
    cached = (async () => {
      const env = { PATH: process.env.PATH };
      for (const flags of [['--permission'], ['--experimental-permission', '--disable-warning=ExperimentalWarning'], ['--experimental-permission']]) {
        if ((await probe(node, [...flags, '-e', 'process.exit(process.permission?.has("fs.read", "/") === false ? 0 : 1)'], env))?.code === 0) return flags;
      }
      return null;
    })();
    permissionCache.set(node, cached);
  }
  return cached;
}

const pythonCache = new Map<string, Promise<string | null>>();

/**
 * The real interpreter behind `python3` (skipping shims such as pyenv's), or null when there is
 * none; with `prefix`, its sys.base_prefix on a second line.
 */
function resolvePython(command: string, prefix = false): Promise<string | null> {
  const key = `${command}\0${prefix}`;
  let cached = pythonCache.get(key);
  if (!cached) {
    const code = prefix ? 'import sys; print(sys.executable); print(sys.base_prefix)' : 'import sys; print(sys.executable)';
    cached = probe(command, ['-I', '-c', code], process.env).then((r) => (r?.code === 0 && r.stdout.trim() ? r.stdout.trim() : null));
    pythonCache.set(key, cached);
  }
  return cached;
}
