import { spawn, type ChildProcess } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ScriptLanguage } from '../../api/entities/index.js';
import { MissingDataError } from '../warehouse/sqlite-warehouse.js';
import type { DataStats, Row, RowPage, Warehouse, WarehouseWrite } from '../warehouse/warehouse.js';
import { RunCancelledError, RunFailedError, type AutomationPlan, type RunContext, type RunResult, type Runner } from './runner.js';
import { DatasourceRefs, LogCapture, PAGE_ROWS, ScriptChannel, scriptVariables, type ScriptIo } from './script-protocol.js';

/** A script's plan with the names its code may use for its datasources (id → name); ids always work. */
export interface ScriptPlan extends AutomationPlan {
  datasourceNames: Record<string, string>;
}

export interface ScriptRunnerOptions {
  /** Python interpreter (default `python3` on the PATH). */
  python?: string;
  /** Node binary for JavaScript scripts (default: the server's own). */
  node?: string;
}

/** One datasource's rows in a preview. */
export interface ScriptPreviewData {
  datasourceId: string;
  columns: string[];
  rows: Row[];
}

/** What a script does with a sample of its inputs, writing nothing. */
export interface ScriptPreview {
  inputs: ScriptPreviewData[];
  outputs: ScriptPreviewData[];
  log: string[];
}

/** Rows of each output a preview keeps. */
export const PREVIEW_OUTPUT_ROWS = 1000;
/** After the child exits, how long a grandchild may hold its pipes open before they are closed. */
const CLOSE_GRACE_MS = 2000;
const HOST_DIR = fileURLToPath(new URL('./script-host/', import.meta.url));
const NO_PYTHON = 'python3 is not installed on this server; install it or write the script in JavaScript';

/**
 * Runs a SCRIPT automation in a child process (Node for JavaScript, python3 for Python), never in
 * the server. The child streams its declared inputs and sends rows for its declared outputs over
 * fd 3 (see script-protocol.ts); the runner owns the warehouse, so the child never sees a
 * database file, the secret key or the server's environment. Writes are staged per output and
 * committed only when the script ends successfully.
 */
export class ScriptRunner implements Runner {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly options: ScriptRunnerOptions = {},
  ) {}

  async run(plan: AutomationPlan, ctx: RunContext): Promise<RunResult> {
    const writes = new Map<string, WarehouseWrite>();
    const staged = () => [...writes.values()].reduce((sum, w) => sum + w.rowsWritten, 0);
    const io: ScriptIo = {
      read: async (ds, cursor) => {
        const page = await this.warehouse.page(ds, PAGE_ROWS, cursor);
        return { rows: page.rows, cursor: page.endCursor };
      },
      write: async (ds, rows) => {
        let write = writes.get(ds.id);
        if (!write) writes.set(ds.id, (write = await this.warehouse.openWrite(ds, plan.writeMode, plan.writeKeys)));
        await write.write(rows);
        ctx.progress(staged());
      },
    };
    const interrupt = () => writes.forEach((w) => w.interrupt());
    ctx.signal.addEventListener('abort', interrupt);
    try {
      const { rowsRead, refs } = await this.execute(plan, io, ctx.log, ctx.signal);
      if (ctx.signal.aborted) throw new RunCancelledError();
      const outputs: { datasourceId: string; stats: DataStats }[] = [];
      for (const [datasourceId, write] of writes) {
        const stats = await write.commit();
        outputs.push({ datasourceId, stats });
        const ds = plan.outputs.find((o) => o.id === datasourceId)!;
        ctx.log(`wrote ${write.rowsWritten} row(s) to "${refs.nameOf(ds)}" with ${plan.writeMode}; it now holds ${stats.rowCount}`);
      }
      return { rowsRead, rowsWritten: staged(), errorRecords: 0, errorSamples: [], outputs };
    } catch (error) {
      for (const write of writes.values()) await write.abort().catch(() => undefined);
      if (ctx.signal.aborted) throw new RunCancelledError();
      throw explain(error);
    } finally {
      ctx.signal.removeEventListener('abort', interrupt);
    }
  }

  /**
   * Runs the script on the first `sampleSize` rows of each input and returns what it writes (at
   * most PREVIEW_OUTPUT_ROWS per output), without opening any warehouse write.
   */
  async preview(plan: AutomationPlan, sampleSize: number, signal: AbortSignal = new AbortController().signal): Promise<ScriptPreview> {
    const size = Math.max(0, Math.floor(sampleSize));
    const samples = new Map<string, RowPage>();
    try {
      for (const ds of plan.inputs) samples.set(ds.id, await this.warehouse.page(ds, size));
    } catch (error) {
      throw explain(error);
    }
    const written = new Map<string, { columns: Set<string>; rows: Row[] }>();
    const io: ScriptIo = {
      read: async (ds, cursor) => {
        const rows = samples.get(ds.id)!.rows;
        const from = Number(cursor ?? 0) || 0;
        return { rows: rows.slice(from, from + PAGE_ROWS), cursor: from + PAGE_ROWS < rows.length ? String(from + PAGE_ROWS) : null };
      },
      write: async (ds, rows) => {
        const out = written.get(ds.id) ?? { columns: new Set<string>(), rows: [] };
        written.set(ds.id, out);
        for (const row of rows) {
          // Columns of every row, even past the kept ones: the preview shows the output's full shape.
          for (const column of Object.keys(row)) out.columns.add(column);
          if (out.rows.length < PREVIEW_OUTPUT_ROWS) out.rows.push(row);
        }
      },
    };
    const log: string[] = [];
    await this.execute(plan, io, (line) => log.push(line), signal).catch((error: unknown) => {
      throw explain(error);
    });
    return {
      inputs: plan.inputs.map((ds) => ({ datasourceId: ds.id, columns: samples.get(ds.id)!.columns, rows: samples.get(ds.id)!.rows })),
      outputs: plan.outputs.map((ds) => ({ datasourceId: ds.id, columns: [...(written.get(ds.id)?.columns ?? [])], rows: written.get(ds.id)?.rows ?? [] })),
      log,
    };
  }

  /** Runs the script to its end in a private temp directory; throws unless it finished cleanly. */
  private async execute(plan: AutomationPlan, io: ScriptIo, log: (line: string) => void, signal: AbortSignal): Promise<{ rowsRead: number; refs: DatasourceRefs }> {
    const settings = plan.script;
    if (!settings) throw new RunFailedError('the automation has no script settings');
    if (signal.aborted) throw new RunCancelledError();
    const variables = scriptVariables(settings.variables);
    const refs = new DatasourceRefs(plan.inputs, plan.outputs, (plan as Partial<ScriptPlan>).datasourceNames ?? {});
    const timeoutSeconds = Math.max(1, settings.timeoutSeconds);
    const memoryMb = Math.max(16, Math.floor(settings.memoryMb));
    const language = settings.language === ScriptLanguage.PYTHON ? 'Python' : 'JavaScript';
    // Resolved before the temp dir exists: a missing interpreter fails without leaving anything behind.
    const launch = settings.language === ScriptLanguage.PYTHON ? await this.pythonLaunch() : await this.nodeLaunch();
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'tributary-script-')));
    try {
      const scriptFile = join(dir, settings.language === ScriptLanguage.PYTHON ? 'script.py' : 'script.js');
      await writeFile(scriptFile, settings.code, { mode: 0o600 });
      log(`running the ${language} script (timeout ${timeoutSeconds} s, memory ${memoryMb} MB)`);
      const child = spawn(launch.command, launch.args(dir, scriptFile, memoryMb), {
        cwd: dir,
        env: childEnv(dir, memoryMb),
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
        // Its own process group, so a timeout or cancel kills whatever the script started too.
        detached: process.platform !== 'win32',
      });
      return await this.supervise(child, { refs, variables, io, log, signal, timeoutSeconds, memoryMb });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Serves the child's protocol, captures its output, enforces timeout and cancel, and judges its exit. */
  private async supervise(
    child: ChildProcess,
    run: { refs: DatasourceRefs; variables: ReturnType<typeof scriptVariables>; io: ScriptIo; log: (line: string) => void; signal: AbortSignal; timeoutSeconds: number; memoryMb: number },
  ): Promise<{ rowsRead: number; refs: DatasourceRefs }> {
    live.add(child);
    const capture = new LogCapture(run.log);
    let [timedOut, cancelled] = [false, false];
    const channel = new ScriptChannel(child.stdio[3] as Readable, child.stdio[3] as Writable, {
      variables: run.variables,
      refs: run.refs,
      io: run.io,
      log: (message) => capture.line('stdout', message),
      onFailure: () => killTree(child),
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => capture.feed('stdout', chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => capture.feed('stderr', chunk));
    const timer = setTimeout(() => ((timedOut = true), killTree(child)), run.timeoutSeconds * 1000);
    const cancel = () => ((cancelled = true), killTree(child));
    run.signal.addEventListener('abort', cancel);
    try {
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', () => {
          killTree(child); // leftovers of the script's process group
          // A grandchild outside the group may hold the pipes: stop waiting for it after a grace period.
          setTimeout(() => child.stdio.forEach((s) => s?.destroy()), CLOSE_GRACE_MS).unref();
        });
        child.once('close', (code, signal) => resolve({ code, signal }));
      });
      await channel.idle();
      capture.end();
      if (cancelled || run.signal.aborted) throw new RunCancelledError();
      if (channel.failure) throw channel.failure;
      if (timedOut) throw new RunFailedError(`the script ran longer than its timeout of ${run.timeoutSeconds} s`);
      if (capture.outOfMemory) throw new RunFailedError(`the script ran out of memory: it may use at most ${run.memoryMb} MB`);
      if (exit.code !== 0) {
        const how = exit.signal ? `was killed by ${exit.signal}` : `failed (exit code ${exit.code})`;
        const tail = capture.stderrTail();
        // The permission model's error names no rule: say which one the script broke.
        const hint = tail.includes('ERR_ACCESS_DENIED') ? ' because it tried to reach a file outside its temporary directory or to start a process' : '';
        throw new RunFailedError(`the script ${how}${hint}${tail ? `:\n${tail}` : ''}`);
      }
      if (!channel.done) throw new RunFailedError('the script exited before it finished (do not call process.exit() or os._exit(); end the script normally)');
      return { rowsRead: channel.rowsRead, refs: run.refs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (error as NodeJS.ErrnoException).syscall?.startsWith('spawn')) {
        throw new RunFailedError(`cannot start the script's interpreter: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      run.signal.removeEventListener('abort', cancel);
      killTree(child);
      live.delete(child);
    }
  }

  private async nodeLaunch(): Promise<Launch> {
    const node = this.options.node ?? process.execPath;
    const permission = await permissionFlags(node);
    if (!permission) {
      throw new RunFailedError(`this server's Node.js (${node}) has no permission model, so JavaScript scripts cannot be isolated; run the server on Node 20 or later`);
    }
    const host = realpathSync(join(HOST_DIR, 'host.mjs'));
    return {
      command: node,
      // No --allow-child-process, --allow-worker or --allow-addons: the script can do none of those.
      args: (dir, scriptFile, memoryMb) => [
        ...permission,
        `--allow-fs-read=${host}`,
        `--allow-fs-read=${dir}`,
        `--allow-fs-write=${dir}`,
        `--max-old-space-size=${memoryMb}`,
        host,
        scriptFile,
      ],
    };
  }

  private async pythonLaunch(): Promise<Launch> {
    const python = await resolvePython(this.options.python ?? 'python3');
    if (!python) throw new RunFailedError(NO_PYTHON);
    const host = realpathSync(join(HOST_DIR, 'host.py'));
    // -I: no PYTHON* variables, no user site-packages, no script directory on sys.path; -u: unbuffered prints.
    return { command: python, args: (_dir, scriptFile) => ['-I', '-u', host, scriptFile] };
  }
}

interface Launch {
  command: string;
  args(dir: string, scriptFile: string, memoryMb: number): string[];
}

/** The child's whole environment: nothing of the server's (no secret key, database URL or data dir). */
function childEnv(dir: string, memoryMb: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: dir,
    TMPDIR: dir,
    LANG: process.env.LANG || 'C.UTF-8',
    TRIBUTARY_FD: '3',
    TRIBUTARY_MEMORY_MB: String(memoryMb),
  };
  if (process.env.TZ) env.TZ = process.env.TZ;
  return env;
}

/** Children alive now: killed if the server exits, so no script outlives it. */
const live = new Set<ChildProcess>();
process.once('exit', () => live.forEach(killTree));

/** SIGKILL to the child's process group (the child and anything it started). */
function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill('SIGKILL');
    else process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Runs a short command and returns its exit code and stdout (null when it cannot start). */
function probe(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string } | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve({ code, stdout }));
  });
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

/** The real interpreter behind `python3` (skipping shims such as pyenv's), or null when there is none. */
function resolvePython(command: string): Promise<string | null> {
  let cached = pythonCache.get(command);
  if (!cached) {
    cached = probe(command, ['-I', '-c', 'import sys; print(sys.executable)'], process.env).then((r) => (r?.code === 0 && r.stdout.trim() ? r.stdout.trim() : null));
    pythonCache.set(command, cached);
  }
  return cached;
}

/** Warehouse errors the user can act on become RunFailedError; cancellation and run failures pass through. */
function explain(error: unknown): unknown {
  if (error instanceof RunFailedError || error instanceof RunCancelledError) return error;
  if (error instanceof MissingDataError) return new RunFailedError('an input holds no data yet: run the automation that writes it first', { cause: error });
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new RunFailedError(`an input file does not exist: ${(error as NodeJS.ErrnoException).path}`, { cause: error });
  if (error instanceof Error && /duplicate keys|no key column|UPSERT/.test(error.message)) return new RunFailedError(error.message, { cause: error });
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return new RunFailedError(`the warehouse refused the script's rows: ${(error as Error).message}`, { cause: error });
  return error;
}
