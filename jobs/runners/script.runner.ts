import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { ScriptLanguage } from '../../core/db/entities/index.js';
import { explainBwrapFailure } from '../sandbox/bwrap.js';
import { ScriptRecords, type RecordedProcess } from '../sandbox/leftovers.js';
import { processStart } from '../sandbox/owner.js';
import { MAX_ANSWER_BYTES, PREVIEW_OUTPUT_ROWS } from '../warehouse/limits.js';
import { MissingDataError } from '../warehouse/sqlite-warehouse.js';
import type { DataStats, Row, RowPage, Warehouse, WarehouseWrite } from '../warehouse/warehouse.js';
import { RunCancelledError, RunFailedError, type AutomationPlan, type RunContext, type RunResult, type Runner } from './runner.js';
import { ScriptLauncher, type Launch } from './script-launch.js';
import { DatasourceRefs, LogCapture, PAGE_ROWS, ScriptChannel, scriptVariables, type ScriptIo } from './script-protocol.js';

/** A script's plan with the names its code may use for its datasources (id → name); ids always work. */
export interface ScriptPlan extends AutomationPlan {
  datasourceNames: Record<string, string>;
}

export interface ScriptRunnerOptions {
  /** Python interpreter (default /usr/bin/python3 in the sandbox, `python3` on the PATH without it). */
  python?: string;
  /** Node binary for JavaScript scripts (default: the server's own; /usr/bin/node when the sandbox cannot read that). */
  node?: string;
  /** SCRIPT_SANDBOX: `on` (default) runs scripts in bubblewrap or not at all; `off` runs them as the server's children. */
  sandbox?: 'on' | 'off';
  /** The bubblewrap binary (default /usr/bin/bwrap). */
  bwrap?: string;
  /** DATA_DIR: running scripts' processes are recorded there, for the next start to kill if this process dies first. */
  dataDir?: string;
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

/** After the child exits, how long a grandchild may hold its pipes open before they are closed. */
const CLOSE_GRACE_MS = 2000;

/**
 * Runs a SCRIPT automation in a child process (Node for JavaScript, python3 for Python), never in
 * the server, inside the bubblewrap sandbox unless SCRIPT_SANDBOX=off. The child streams its
 * declared inputs and sends rows for its declared outputs over fd 3 (see script-protocol.ts);
 * the runner owns the warehouse, so the child never sees a
 * database file, the secret key or the server's environment. Writes are staged per output and
 * committed only when the script ends successfully.
 */
export class ScriptRunner implements Runner {
  private readonly launcher: ScriptLauncher;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly options: ScriptRunnerOptions = {},
  ) {
    this.launcher = new ScriptLauncher({ python: options.python, node: options.node, sandbox: options.sandbox ?? 'on', bwrap: options.bwrap });
  }

  async run(plan: AutomationPlan, ctx: RunContext): Promise<RunResult> {
    const writes = new Map<string, WarehouseWrite>();
    const staged = () => [...writes.values()].reduce((sum, w) => sum + w.rowsWritten, 0);
    const io: ScriptIo = {
      read: async (ds, cursor) => {
        const page = await this.warehouse.page(ds, PAGE_ROWS, cursor, { signal: ctx.signal });
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
      return { rowsRead, rowsWritten: staged(), errorRecords: 0, errorSamples: [], outputs, read: [...refs.read] };
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
      // The samples share the preview's byte budget; the signal stops a read when the client leaves or time runs out.
      const maxBytes = Math.floor(MAX_ANSWER_BYTES / 2 / Math.max(1, plan.inputs.length));
      for (const ds of plan.inputs) samples.set(ds.id, await this.warehouse.page(ds, size, null, { signal, maxBytes }));
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

  /** Why scripts cannot run now (SCRIPT_SANDBOX=on and the sandbox cannot start), or null. */
  problem(): Promise<string | null> {
    return this.launcher.problem();
  }

  /** Whether scripts run in the OS sandbox. */
  get sandboxed(): boolean {
    return this.launcher.sandboxed;
  }

  /** The sandbox and interpreters scripts use, in words (for the start-up log). */
  describe(): Promise<string> {
    return this.launcher.describe();
  }

  /** Runs the script to its end (in the sandbox, or a private temp directory); throws unless it finished cleanly. */
  private async execute(plan: AutomationPlan, io: ScriptIo, log: (line: string) => void, signal: AbortSignal): Promise<{ rowsRead: number; refs: DatasourceRefs }> {
    const settings = plan.script;
    if (!settings) throw new RunFailedError('the automation has no script settings');
    if (signal.aborted) throw new RunCancelledError();
    const variables = scriptVariables(settings.variables);
    const refs = new DatasourceRefs(plan.inputs, plan.outputs, (plan as Partial<ScriptPlan>).datasourceNames ?? {});
    const timeoutSeconds = Math.max(1, settings.timeoutSeconds);
    const memoryMb = Math.max(16, Math.floor(settings.memoryMb));
    const python = settings.language === ScriptLanguage.PYTHON;
    const launch = await this.launcher.prepare({ python, code: settings.code, memoryMb, timeoutSeconds });
    try {
      if (signal.aborted) throw new RunCancelledError();
      log(`running the ${python ? 'Python' : 'JavaScript'} script (timeout ${timeoutSeconds} s, memory ${memoryMb} MB)`);
      const extra = Math.max(0, ...launch.feeds.keys(), launch.infoFd ?? 0) - 3;
      const child = spawn(launch.command, launch.args, {
        cwd: launch.cwd,
        env: launch.env,
        uid: launch.uid,
        gid: launch.gid,
        stdio: ['ignore', 'pipe', 'pipe', 'pipe', ...Array.from({ length: extra }, () => 'pipe' as const)],
        // Its own process group, so a timeout or cancel kills whatever the script started too.
        detached: process.platform !== 'win32',
      });
      for (const [fd, text] of launch.feeds) {
        const pipe = child.stdio[fd] as Writable | null;
        pipe?.on('error', () => undefined); // bwrap failed before reading it: its exit tells why
        pipe?.end(text);
      }
      return await this.supervise(child, launch, { refs, variables, io, log, signal, timeoutSeconds, memoryMb });
    } finally {
      await launch.cleanup();
    }
  }

  /** Serves the child's protocol, captures its output, enforces timeout and cancel, and judges its exit. */
  private async supervise(
    child: ChildProcess,
    launch: Launch,
    run: { refs: DatasourceRefs; variables: ReturnType<typeof scriptVariables>; io: ScriptIo; log: (line: string) => void; signal: AbortSignal; timeoutSeconds: number; memoryMb: number },
  ): Promise<{ rowsRead: number; refs: DatasourceRefs }> {
    const running = new RunningScript(child, this.options.dataDir);
    if (launch.infoFd !== undefined) running.readInfo(child.stdio[launch.infoFd] as Readable);
    const capture = new LogCapture(run.log);
    let [timedOut, cancelled] = [false, false];
    const channel = new ScriptChannel(child.stdio[3] as Readable, child.stdio[3] as Writable, {
      variables: run.variables,
      refs: run.refs,
      io: run.io,
      log: (message) => capture.line('stdout', message),
      onFailure: () => running.kill(),
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => capture.feed('stdout', chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => capture.feed('stderr', chunk));
    const timer = setTimeout(() => ((timedOut = true), running.kill()), run.timeoutSeconds * 1000);
    const cancel = () => ((cancelled = true), running.kill());
    run.signal.addEventListener('abort', cancel);
    // A cancel that came while the sandbox was being prepared or spawned fired no event: act on it now.
    if (run.signal.aborted) cancel();
    try {
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', () => {
          running.kill(); // leftovers of the script's process group (and of its sandbox)
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
      // bwrap exits with 128 + the signal that killed the script.
      const signal = exit.signal ?? (launch.sandboxed && exit.code !== null && exit.code > 128 ? signalName(exit.code - 128) : null);
      if (exit.code !== 0) {
        const tail = capture.stderrTail();
        const setup = launch.sandboxed ? tail.split('\n').find((line) => line.startsWith('bwrap: ')) : undefined;
        if (setup) throw new RunFailedError(`the script sandbox could not start: ${explainBwrapFailure(tail, launch.command)}`);
        const how = signal ? `was killed by ${signal}` : `failed (exit code ${exit.code})`;
        // The permission model's error names no rule: say which one the script broke.
        const hint =
          signal === 'SIGXCPU'
            ? ' because it used more CPU time than its limit (twice its timeout, plus 10 s)'
            : tail.includes('ERR_ACCESS_DENIED')
              ? ' because it tried to reach a file outside its temporary directory or to start a process'
              : '';
        throw new RunFailedError(`the script ${how}${hint}${tail ? `:\n${tail}` : ''}`);
      }
      if (!channel.done) throw new RunFailedError('the script exited before it finished (do not call process.exit() or os._exit(); end the script normally)');
      return { rowsRead: channel.rowsRead, refs: run.refs };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && (error as NodeJS.ErrnoException).syscall?.startsWith('spawn')) {
        const what = launch.sandboxed ? `the script sandbox (${launch.command})` : "the script's interpreter";
        throw new RunFailedError(`cannot start ${what}: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(timer);
      run.signal.removeEventListener('abort', cancel);
      running.end();
    }
  }
}

/**
 * A started script: its process group (the interpreter, or the outer bwrap), the sandbox's PID 1
 * once bwrap reports it, and the record under DATA_DIR that lets the next start kill them all if
 * this process dies without doing it.
 */
class RunningScript {
  private init: RecordedProcess | undefined;
  private pidNamespace: number | undefined;
  private record: string | undefined;
  private readonly records: ScriptRecords | undefined;

  constructor(
    private readonly child: ChildProcess,
    dataDir: string | undefined,
  ) {
    live.add(this);
    this.records = dataDir ? new ScriptRecords(dataDir) : undefined;
    this.save();
  }

  /** bwrap's JSON report on the info fd: the sandbox's PID 1 (on the host) and its PID namespace. */
  readInfo(stream: Readable): void {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('error', () => undefined);
    stream.on('data', (chunk: string) => {
      if (this.init || text.length > 4096) return;
      text += chunk;
      try {
        const info = JSON.parse(text) as { 'child-pid'?: number; 'pid-namespace'?: number };
        const pid = Number(info['child-pid']);
        const start = processStart(pid);
        if (!Number.isInteger(pid) || start === null) return;
        this.init = { pid, start };
        this.pidNamespace = Number(info['pid-namespace']) || undefined;
        this.save();
      } catch {
        // Not all of it yet.
      }
    });
  }

  /** SIGKILL to the process group, and to the sandbox's PID 1 (which ends every process in the sandbox). */
  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      if (process.platform === 'win32') this.child.kill('SIGKILL');
      else process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    if (this.init && processStart(this.init.pid) === this.init.start) {
      try {
        process.kill(this.init.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** The script is over: kill what is left and forget it. */
  end(): void {
    this.kill();
    live.delete(this);
    if (this.record) this.records?.remove(this.record);
  }

  private save(): void {
    const pid = this.child.pid;
    if (!this.records || pid === undefined) return;
    const start = processStart(pid);
    const processes: RecordedProcess[] = [...(start !== null ? [{ pid, start, group: true }] : []), ...(this.init ? [this.init] : [])];
    try {
      this.record = this.records.write(pid, { processes, pidNamespace: this.pidNamespace }, this.record);
    } catch {
      // DATA_DIR not writable: the sandbox still dies with this process.
    }
  }
}

/** Scripts running now: killed if the server exits, so no script outlives it. */
const live = new Set<RunningScript>();
process.once('exit', () => live.forEach((script) => script.kill()));

function signalName(number: number): NodeJS.Signals | null {
  const entry = Object.entries(constants.signals).find(([, value]) => value === number);
  return entry ? (entry[0] as NodeJS.Signals) : null;
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
