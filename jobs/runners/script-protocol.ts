import type { Readable, Writable } from 'node:stream';
import { MissingDataError } from '../warehouse/sqlite-warehouse.js';
import type { DatasourceSpec, Row } from '../warehouse/warehouse.js';
import { RunFailedError } from './runner.js';

/**
 * The script protocol, runner side. The child (jobs/runners/script-host/host.mjs or host.py)
 * sends one JSON object per line on fd 3; every request with an `id` gets exactly one reply,
 * `{ id, ok: true, … }` or `{ id, ok: false, error }`, in order:
 *
 *   { id, op: 'hello' }                          → { args, kwargs, job_config }
 *   { id, op: 'read', source, cursor }           → { rows, cursor }   (cursor null: last page)
 *   { id, op: 'write', target, rows }            → {}
 *   { id, op: 'done' }                           → {}                 (the script finished; commit)
 *   { op: 'log', message }                       (no reply)
 *
 * The runner is authoritative: a refused request fails the run even if the script catches the error.
 */

/** Rows per read reply: what one `warehouse.page` call returns, so memory stays flat on both sides. */
export const PAGE_ROWS = 1000;
/** A line from the child longer than this is refused (a write batch is ~1 MB; a read request is tiny). */
const MAX_MESSAGE_CHARS = 64 * 1024 * 1024;

/** What happens to the script's reads and writes: the warehouse for a run, samples and memory for a preview. */
export interface ScriptIo {
  read(ds: DatasourceSpec, cursor: string | null): Promise<{ rows: Row[]; cursor: string | null }>;
  write(ds: DatasourceSpec, rows: Row[]): Promise<void>;
}

/** The runtime variables the script sees, normalized from the automation's variables JSON. */
export interface ScriptVariables {
  args: unknown[];
  kwargs: Record<string, unknown>;
  job_config: Record<string, unknown>;
}

/** Checks and normalizes `{ args?: [...], kwargs?: {...}, job_config?: {...} }`. */
export function scriptVariables(variables: Record<string, unknown> | null | undefined): ScriptVariables {
  const { args = [], kwargs = {}, job_config = {} } = variables ?? {};
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!Array.isArray(args)) throw new RunFailedError('the script variables\' "args" must be a list');
  if (!isObject(kwargs)) throw new RunFailedError('the script variables\' "kwargs" must be an object');
  if (!isObject(job_config)) throw new RunFailedError('the script variables\' "job_config" must be an object');
  return { args, kwargs, job_config };
}

/** Resolves what the script names (a datasource id, or its name) to a declared input or output. */
export class DatasourceRefs {
  constructor(
    private readonly inputs: DatasourceSpec[],
    private readonly outputs: DatasourceSpec[],
    private readonly names: Record<string, string>,
  ) {}

  /** The inputs the script read (observed lineage: a declared input it never reads shows as stale). */
  readonly read = new Set<string>();

  /** A declared input, or a RunFailedError saying how to declare it. */
  input(ref: unknown): DatasourceSpec {
    const ds = this.find(this.inputs, ref, `the script read from ${JSON.stringify(ref)}, which it does not declare as an input; add it to the script's inputs (Usage)`);
    this.read.add(ds.id);
    return ds;
  }

  /** A declared output, or a RunFailedError saying how to declare it. */
  output(ref: unknown): DatasourceSpec {
    return this.find(this.outputs, ref, `the script wrote to ${JSON.stringify(ref)}, which it does not declare as an output; add it to the script's outputs (Usage)`);
  }

  /** The name the user knows a datasource by (its id when the plan carries no name). */
  nameOf(ds: DatasourceSpec): string {
    return this.names[ds.id] ?? ds.id;
  }

  private find(declared: DatasourceSpec[], ref: unknown, undeclared: string): DatasourceSpec {
    if (typeof ref !== 'string' || ref === '') throw new RunFailedError(`the script named a datasource with ${JSON.stringify(ref)}: use its name or id`);
    const byId = declared.find((ds) => ds.id === ref);
    if (byId) return byId;
    const byName = declared.filter((ds) => this.names[ds.id] === ref);
    if (byName.length > 1) throw new RunFailedError(`several declared datasources are named ${JSON.stringify(ref)}: refer to one by its id`);
    if (byName[0]) return byName[0];
    throw new RunFailedError(undeclared);
  }
}

export interface ChannelHooks {
  variables: ScriptVariables;
  refs: DatasourceRefs;
  io: ScriptIo;
  /** A `tributary.log` line. */
  log(message: string): void;
  /** A request was refused: the runner kills the child; the run fails with this error. */
  onFailure(error: RunFailedError): void;
}

/**
 * Serves one child's requests from fd 3, one at a time (the stream is paused while a request is
 * handled, so a fast writer cannot pile batches up in the server's memory).
 */
export class ScriptChannel {
  rowsRead = 0;
  /** The script reached its end and flushed its writes. */
  done = false;
  failure: RunFailedError | null = null;
  private partial = '';
  private readonly queue: string[] = [];
  private pumping: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly hooks: ChannelHooks,
  ) {
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => this.receive(chunk));
    // The child dying mid-write is reported by its exit, not by the pipe.
    input.on('error', () => undefined);
    output.on('error', () => undefined);
  }

  /** Resolves once every request received so far has been handled. */
  async idle(): Promise<void> {
    await this.pumping;
  }

  private receive(chunk: string): void {
    this.partial += chunk;
    let nl: number;
    while ((nl = this.partial.indexOf('\n')) !== -1) {
      this.queue.push(this.partial.slice(0, nl));
      this.partial = this.partial.slice(nl + 1);
    }
    if (this.partial.length > MAX_MESSAGE_CHARS) {
      this.partial = '';
      this.fail(new RunFailedError('the script sent a message too large to handle; write rows in smaller batches'));
    }
    if (this.queue.length > 0 && !this.busy) {
      this.busy = true;
      this.input.pause();
      this.pumping = this.pump();
    }
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) await this.handle(this.queue.shift()!);
    this.busy = false;
    this.input.resume();
  }

  private async handle(line: string): Promise<void> {
    if (this.failure || line.trim() === '') return;
    let message: { id?: unknown; op?: unknown; [key: string]: unknown };
    try {
      message = JSON.parse(line);
    } catch {
      return this.fail(new RunFailedError('the script sent a malformed message to the runner (do not write to fd 3)'));
    }
    const id = message.id;
    try {
      const reply = await this.answer(message);
      if (reply && id !== undefined) this.output.write(`${JSON.stringify({ id, ok: true, ...reply })}\n`);
    } catch (error) {
      const failure = error instanceof RunFailedError ? error : ioFailure(error, message);
      if (id !== undefined) this.output.write(`${JSON.stringify({ id, ok: false, error: failure.message })}\n`);
      this.fail(failure);
    }
  }

  private async answer(message: { op?: unknown; [key: string]: unknown }): Promise<Record<string, unknown> | null> {
    switch (message.op) {
      case 'hello':
        return { ...this.hooks.variables };
      case 'read': {
        const ds = this.hooks.refs.input(message.source);
        const cursor = typeof message.cursor === 'string' && message.cursor !== '' ? message.cursor : null;
        const page = await this.hooks.io.read(ds, cursor);
        this.rowsRead += page.rows.length;
        return { rows: page.rows, cursor: page.cursor };
      }
      case 'write': {
        const ds = this.hooks.refs.output(message.target);
        const rows = message.rows;
        if (!Array.isArray(rows) || rows.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
          throw new RunFailedError(`the script wrote something other than rows (objects) to ${JSON.stringify(message.target)}`);
        }
        await this.hooks.io.write(ds, rows as Row[]);
        return {};
      }
      case 'log':
        this.hooks.log(String(message.message ?? ''));
        return null;
      case 'done':
        this.done = true;
        return {};
      default:
        throw new RunFailedError(`the script sent an unknown request ${JSON.stringify(message.op)} to the runner`);
    }
  }

  private fail(error: RunFailedError): void {
    if (this.failure) return;
    this.failure = error;
    this.hooks.onFailure(error);
  }
}

/** A warehouse error while serving a read or write, as a message the user can act on. */
function ioFailure(error: unknown, message: Record<string, unknown>): RunFailedError {
  const ref = JSON.stringify(message.source ?? message.target);
  if (error instanceof MissingDataError) return new RunFailedError(`the input ${ref} holds no data yet: run the automation that writes it first`, { cause: error });
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new RunFailedError(`the input file of ${ref} does not exist: ${(error as NodeJS.ErrnoException).path}`, { cause: error });
  const verb = message.op === 'write' ? 'writing to' : 'reading from';
  return new RunFailedError(`${verb} ${ref} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
}

/** Bounds on what the script prints that reaches the run log. */
export const LOG_LIMITS = { lines: 1000, bytes: 256 * 1024 };
const TAIL_LINES = 10;
/** What V8, Node and Python print when an allocation fails (the heap cap, or the sandbox's memory limit). */
const OUT_OF_MEMORY = /heap out of memory|Fatal process out of memory|Array buffer allocation failed|std::bad_alloc|^MemoryError\b/;
const TAIL_LINE_CHARS = 500;

/**
 * The script's stdout, stderr and `tributary.log` lines, kept to the first 1,000 lines / 256 KB
 * (then one "… log truncated" line). The last stderr lines are kept apart for the error message.
 */
export class LogCapture {
  /** Every line that reached the log (what a preview returns). */
  readonly lines: string[] = [];
  /** V8 or Python reported running out of memory. */
  outOfMemory = false;
  private bytes = 0;
  private truncated = false;
  private readonly partial = { stdout: '', stderr: '' };
  private readonly tail: string[] = [];

  constructor(private readonly sink: (line: string) => void = () => undefined) {}

  /** A chunk of the child's output: complete lines go to the log, the rest waits for its newline. */
  feed(stream: 'stdout' | 'stderr', chunk: string): void {
    let text = this.partial[stream] + chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) !== -1) {
      this.line(stream, text.slice(0, nl).replace(/\r$/, ''));
      text = text.slice(nl + 1);
    }
    // A line with no end in sight is logged in pieces rather than buffered without bound.
    if (text.length > LOG_LIMITS.bytes) {
      this.line(stream, text);
      text = '';
    }
    this.partial[stream] = text;
  }

  /** Flushes the unterminated last line of each stream. */
  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.line(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
  }

  /** One line from the script (`tributary.log` lines come as stdout). */
  line(stream: 'stdout' | 'stderr', text: string): void {
    if (stream === 'stderr') {
      if (OUT_OF_MEMORY.test(text)) this.outOfMemory = true;
      this.tail.push(text.length > TAIL_LINE_CHARS ? `${text.slice(0, TAIL_LINE_CHARS)}…` : text);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    }
    if (this.truncated) return;
    const entry = stream === 'stderr' ? `stderr: ${text}` : text;
    const room = LOG_LIMITS.bytes - this.bytes;
    if (this.lines.length >= LOG_LIMITS.lines || Buffer.byteLength(entry) > room) {
      if (room > 0 && this.lines.length < LOG_LIMITS.lines) this.emit(Buffer.from(entry).subarray(0, room).toString());
      this.truncated = true;
      this.lines.push('… log truncated');
      this.sink('… log truncated');
      return;
    }
    this.emit(entry);
  }

  /** The last lines the script wrote to stderr (its error and stack). */
  stderrTail(): string {
    return this.tail.join('\n');
  }

  private emit(entry: string): void {
    this.bytes += Buffer.byteLength(entry);
    this.lines.push(entry);
    this.sink(entry);
  }
}
