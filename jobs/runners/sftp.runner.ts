import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, posix } from 'node:path';
import { finished } from 'node:stream/promises';
import SftpClient from 'ssh2-sftp-client';
import { FileRowError, readFileRows, type BadRecord } from '../warehouse/files.js';
import { ErrorRecords } from './error-records.js';
import type { Row, Warehouse, WarehouseWrite } from '../warehouse/warehouse.js';
import { RunCancelledError, RunFailedError, type AutomationPlan, type RunContext, type RunResult, type Runner, warehouseRefusal, type SftpSettings } from './runner.js';
import type { RemoteFileId, SftpState } from './sftp-state.js';
import type { ConnectFailure } from '../sources/source.js';

/** What `preview` shows: the remote file it sampled and its first rows. */
export interface SftpPreview {
  file: string;
  columns: string[];
  rows: Row[];
}

export interface SftpRunnerOptions {
  /** How long to wait for the TCP connection and SSH handshake (default 20 s). */
  connectTimeoutMs?: number;
}

/** "SHA256:…" as `ssh-keygen -lf` prints it: base64 of the key blob's SHA-256, without padding. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A glob (`*`, `?`, `[abc]`, `[!abc]`, `{a,b}`, `\` escapes) as an anchored, case-sensitive RegExp. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i]!;
    if (char === '\\' && i + 1 < glob.length) {
      source += escapeRegExp(glob[++i]!);
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '{') {
      braces += 1;
      source += '(?:';
    } else if (char === '}' && braces > 0) {
      braces -= 1;
      source += ')';
    } else if (char === ',' && braces > 0) {
      source += '|';
    } else if (char === '[') {
      const negate = glob[i + 1] === '!' || glob[i + 1] === '^';
      const start = i + 1 + (negate ? 1 : 0);
      const end = glob.indexOf(']', start + 1); // a ']' first in the set is a member, not its end
      if (end < 0) {
        source += '\\[';
      } else {
        source += `[${negate ? '^' : ''}${glob.slice(start, end).replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      }
    } else {
      source += escapeRegExp(char);
    }
  }
  if (braces > 0) throw new RunFailedError(`the file pattern ${JSON.stringify(glob)} has an unclosed "{"`);
  return new RegExp(`^${source}$`);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A listed remote file that matches the pattern. */
interface RemoteFile extends RemoteFileId {
  path: string;
}

/**
 * Imports files from an SFTP server into one STORAGE output: lists `remoteDir`, takes the files
 * matching `filePattern` that this import has not taken yet, streams each (CSV with a header or
 * JSON lines) into ONE warehouse write, commits it with the plan's write mode, then remembers the
 * files and deletes or moves them as asked. Host keys are pinned or trusted on first use.
 */
export class SftpImportRunner implements Runner {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly state: SftpState,
    private readonly options: SftpRunnerOptions = {},
  ) {}

  async run(plan: AutomationPlan, ctx: RunContext): Promise<RunResult> {
    const [settings, output] = [plan.sftp, plan.outputs[0]];
    if (!settings || !output) throw new RunFailedError('an SFTP import needs its connection settings and one output');
    if (ctx.signal.aborted) throw new RunCancelledError();
    const session = await this.connect(plan.id, settings, ctx.signal, { remember: true, log: ctx.log });
    let write: WarehouseWrite | null = null;
    let tempDir: string | null = null;
    const cancel = () => {
      try {
        write?.interrupt(); // the SSH connection is ended by the session's own listener
      } catch {
        // the write is already closed: nothing runs to interrupt
      }
    };
    ctx.signal.addEventListener('abort', cancel);
    try {
      write = await this.warehouse.openWrite(output, plan.writeMode, plan.writeKeys);
      const fresh: RemoteFile[] = [];
      for (const file of await session.listMatching()) {
        if (await this.state.isImported(plan.id, file)) ctx.log(`skipped ${file.name}: already imported`);
        else fresh.push(file);
      }
      if (fresh.length === 0) {
        ctx.log(`no new file in ${settings.remoteDir} matches ${settings.filePattern}`);
        await write.abort(); // a REPLACE with nothing new must not empty the output
        return { rowsRead: 0, rowsWritten: 0, errorRecords: 0, errorSamples: [], outputs: [] };
      }
      tempDir = await mkdtemp(join(tmpdir(), 'tributary-sftp-'));
      const errors = new ErrorRecords(plan.errors);
      let rowsRead = 0;
      for (const [index, file] of fresh.entries()) {
        const local = await session.download(file.path, join(tempDir, `${index}${extname(file.name)}`)); // keeps the extension: it picks the format
        let rows = 0;
        for await (const batch of readRows(file.name, local, ctx.signal, undefined, errors.handler(file.name))) {
          await write.write(batch);
          rows += batch.length;
          ctx.progress(write.rowsWritten);
        }
        await rm(local, { force: true });
        rowsRead += rows;
        ctx.log(`imported ${file.name}: ${rows} row(s)`);
      }
      if (ctx.signal.aborted) throw new RunCancelledError();
      const stats = await write.commit();
      ctx.signal.removeEventListener('abort', cancel); // committed: a late cancel must not touch the closed write
      ctx.log(`wrote ${write.rowsWritten} row(s) from ${fresh.length} file(s) with ${plan.writeMode}; the output now holds ${stats.rowCount}`);
      if (errors.count > 0) ctx.log(`rejected ${errors.count} unreadable row(s) (${plan.errors?.policy}): ${errors.samples.join('; ')}`);
      const rejected = await errors.flush(this.warehouse);
      await this.state.markImported(plan.id, fresh);
      await session.afterImport(fresh, ctx.log);
      const outputs = [{ datasourceId: output.id, stats }, ...(rejected ? [rejected] : [])];
      return { rowsRead: rowsRead + errors.count, rowsWritten: write.rowsWritten, errorRecords: errors.count, errorSamples: errors.samples, outputs };
    } catch (error) {
      await write?.abort();
      if (ctx.signal.aborted) throw new RunCancelledError();
      throw explain(error);
    } finally {
      ctx.signal.removeEventListener('abort', cancel);
      await session.close();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
  }

  /**
   * The first `sampleSize` rows of one remote file: `filePath` (absolute, or relative to
   * remoteDir), else the first matching file not imported yet, else the first matching file.
   * Writes nothing and remembers nothing (not even a first-seen host key).
   */
  async preview(plan: AutomationPlan, sampleSize: number, filePath?: string): Promise<SftpPreview> {
    const settings = plan.sftp;
    if (!settings) throw new RunFailedError('an SFTP import needs its connection settings');
    const limit = Math.max(0, Math.floor(sampleSize));
    const session = await this.connect(plan.id, settings, new AbortController().signal, { remember: false, log: () => undefined });
    let tempDir: string | null = null;
    try {
      const path = filePath ? posix.resolve(settings.remoteDir, filePath) : await this.pickPreviewFile(plan.id, session, settings);
      tempDir = await mkdtemp(join(tmpdir(), 'tributary-sftp-'));
      const local = await session.download(path, join(tempDir, `preview${extname(path)}`));
      // Aborting (rather than breaking out) closes the file: readFileRows leaks its descriptor on an early break.
      const stop = new AbortController();
      const rows: Row[] = [];
      try {
        for await (const batch of readRows(posix.basename(path), local, stop.signal, Math.max(1, limit))) {
          rows.push(...batch.slice(0, limit - rows.length));
          if (rows.length >= limit && !stop.signal.aborted) stop.abort(); // the loop then ends with an AbortError
        }
      } catch (error) {
        if (!stop.signal.aborted) throw error;
      }
      const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
      return { file: path, columns, rows };
    } catch (error) {
      throw explain(error);
    } finally {
      await session.close();
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
    }
  }

  /**
   * Connects, checks the host key and lists the matching files, writing and remembering nothing:
   * whether a run could start. The answer says how many files match; a failure is a RunFailedError
   * saying what failed (the name, the connection, the login, the host key, the directory).
   */
  async check(plan: AutomationPlan): Promise<{ matching: number }> {
    const settings = plan.sftp;
    if (!settings) throw new RunFailedError('an SFTP import needs its connection settings');
    const session = await this.connect(plan.id, settings, new AbortController().signal, { remember: false, log: () => undefined }).catch((error: unknown) => {
      throw explain(error);
    });
    try {
      return { matching: (await session.listMatching()).length };
    } catch (error) {
      throw explain(error);
    } finally {
      await session.close();
    }
  }

  private async pickPreviewFile(importId: string, session: SftpSession, settings: SftpSettings): Promise<string> {
    const files = await session.listMatching();
    if (files.length === 0) throw new RunFailedError(`no file in ${settings.remoteDir} matches ${settings.filePattern}`);
    for (const file of files) if (!(await this.state.isImported(importId, file))) return file.path;
    return files[0]!.path;
  }

  /** Connects and checks the host key: pinned, else the one trusted on first use (recorded if `remember`). */
  private async connect(importId: string, settings: SftpSettings, signal: AbortSignal, how: { remember: boolean; log: (line: string) => void }): Promise<SftpSession> {
    const { host, port } = settings;
    const pinned = settings.hostKeyFingerprint ? normalizeFingerprint(settings.hostKeyFingerprint) : null;
    const known = pinned ? null : await this.state.knownHostKey(importId, host, port);
    const session = await SftpSession.open(settings, pinned ?? known, this.options.connectTimeoutMs ?? 20_000, signal);
    how.log(`connected to ${host}:${port} as ${settings.username}`);
    if (!pinned && !known && how.remember) {
      await this.state.recordHostKey(importId, host, port, session.fingerprint);
      how.log(`trusted the host key ${session.fingerprint} of ${host}:${port} (first connection)`);
    }
    return session;
  }
}

/** "SHA256:abc=" or "abc" → "SHA256:abc", as compared with the server's key. */
function normalizeFingerprint(value: string): string {
  return `SHA256:${value.trim().replace(/^SHA256:/i, '').replace(/=+$/, '')}`;
}

/** readFileRows with the remote file's name in parse errors. */
async function* readRows(name: string, local: string, signal: AbortSignal, batchSize?: number, onBadRecord?: (bad: BadRecord) => void): AsyncGenerator<Row[]> {
  try {
    yield* readFileRows(local, { signal, batchSize, onBadRecord });
  } catch (error) {
    if (error instanceof FileRowError) throw new RunFailedError(`cannot read ${name}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** The ssh2 Client under ssh2-sftp-client (not in its types): needed to drop a connection still handshaking. */
type RawClient = { destroy(): void };

/** One SFTP connection with the settings it serves; maps low-level failures to messages for the user. */
class SftpSession {
  private constructor(
    private readonly client: SftpClient,
    private readonly settings: SftpSettings,
    readonly fingerprint: string,
    private readonly signal: AbortSignal,
    private readonly onAbort: () => void,
  ) {}

  static async open(settings: SftpSettings, expected: string | null, timeoutMs: number, signal: AbortSignal): Promise<SftpSession> {
    const { host, port, username } = settings;
    if (!settings.password && !settings.privateKey) {
      // Never try an anonymous login: the secrets were cleared when the import was pointed elsewhere.
      throw new SftpConnectError('AUTH', `the connection has no password or private key for ${username}@${host}:${port} (stored secrets are cleared when the host, port or user name changes): set one on the connection`);
    }
    const quiet = () => undefined; // errors surface through the calls' rejections; the defaults print to the console
    const client = new SftpClient('tributary', { error: quiet, end: quiet, close: quiet });
    const raw = (client as unknown as { client: RawClient }).client;
    let lowLevel: (Error & { level?: string; code?: string }) | null = null;
    client.on('error', (error: Error) => (lowLevel ??= error)); // keeps ssh2's `level`, which the wrapper drops
    let seen = '';
    let refused: string | null = null;
    const onAbort = () => raw.destroy();
    signal.addEventListener('abort', onAbort);
    try {
      await client.connect({
        host,
        port,
        username,
        password: settings.password ?? undefined,
        privateKey: settings.privateKey ?? undefined,
        readyTimeout: timeoutMs,
        hostVerifier: (key: Buffer) => {
          seen = hostKeyFingerprint(key);
          if (expected === null || seen === expected) return true;
          refused = settings.hostKeyFingerprint
            ? `the host key of ${host}:${port} does not match the pinned fingerprint: expected ${expected}, got ${seen}; check the server's fingerprint (ssh-keygen -lf) and update the import's host key fingerprint`
            : `the host key of ${host}:${port} changed: expected ${expected}, got ${seen}; if the server's key was changed on purpose, pin the new fingerprint in the import's connection settings, otherwise someone may be impersonating the server`;
          return false;
        },
      });
      if (signal.aborted) throw new RunCancelledError();
      return new SftpSession(client, settings, seen, signal, onAbort);
    } catch (error) {
      signal.removeEventListener('abort', onAbort);
      raw.destroy();
      if (signal.aborted) throw new RunCancelledError();
      if (refused) throw new RunFailedError(refused, { cause: error });
      throw connectError(settings, lowLevel ?? (error as Error), timeoutMs);
    }
  }

  /** Regular files in remoteDir whose names match the pattern, by name. */
  async listMatching(): Promise<RemoteFile[]> {
    const { remoteDir, filePattern } = this.settings;
    const kind = await this.client.exists(remoteDir);
    if (kind === false) throw new RunFailedError(`remote directory ${remoteDir} does not exist`);
    if (kind === '-') throw new RunFailedError(`${remoteDir} on the server is not a directory`);
    const pattern = globToRegExp(filePattern);
    const hidden = !filePattern.startsWith('.'); // like a shell, "*" does not pick up dot files
    const listed = await this.client.list(remoteDir).catch((error: Error) => {
      throw new RunFailedError(`cannot list ${remoteDir}: ${stripPrefix(error.message)}`, { cause: error });
    });
    return listed
      .filter((entry) => entry.type === '-' && pattern.test(entry.name) && !(hidden && entry.name.startsWith('.')))
      .map((entry) => ({ name: entry.name, size: entry.size, mtime: entry.modifyTime, path: posix.join(remoteDir, entry.name) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Streams a remote file to a local path (memory stays flat whatever its size). */
  async download(remotePath: string, localPath: string): Promise<string> {
    // Our own stream, awaited until written: the client's get() resolves when the remote file is
    // read to its end, which can be before the local file is even opened, let alone written.
    const out = createWriteStream(localPath);
    const written = finished(out);
    try {
      await this.client.get(remotePath, out);
      await written;
      return localPath;
    } catch (error) {
      out.destroy();
      await written.catch(() => undefined);
      if (this.signal.aborted) throw new RunCancelledError();
      throw new RunFailedError(`cannot download ${remotePath}: ${stripPrefix((error as Error).message)}`, { cause: error });
    }
  }

  /**
   * Deletes or moves imported files. The rows are already committed and the files remembered, so a
   * failure here is logged, not fatal. MOVE never overwrites: a name already taken gets a suffix.
   */
  async afterImport(files: RemoteFile[], log: (line: string) => void): Promise<void> {
    const { afterImport, moveToDir } = this.settings;
    if (afterImport === 'KEEP' || files.length === 0) return;
    if (afterImport === 'MOVE' && !moveToDir) {
      log('cannot move the imported files: no target directory is set; they stay where they are');
      return;
    }
    try {
      if (afterImport === 'MOVE' && (await this.client.exists(moveToDir!)) === false) await this.client.mkdir(moveToDir!, true);
    } catch (error) {
      log(`cannot create ${moveToDir}: ${stripPrefix((error as Error).message)}; the imported files stay where they are`);
      return;
    }
    for (const file of files) {
      try {
        if (afterImport === 'DELETE') {
          await this.client.delete(file.path);
          log(`deleted ${file.name}`);
        } else {
          const target = await this.freeName(moveToDir!, file.name);
          await this.client.rename(file.path, target);
          log(`moved ${file.name} to ${target}`);
        }
      } catch (error) {
        log(`cannot ${afterImport === 'DELETE' ? 'delete' : 'move'} ${file.name}: ${stripPrefix((error as Error).message)}`);
      }
    }
  }

  private async freeName(dir: string, name: string): Promise<string> {
    const ext = extname(name);
    const stem = name.slice(0, name.length - ext.length);
    for (let n = 0; ; n += 1) {
      const candidate = posix.join(dir, n === 0 ? name : `${stem}.${n}${ext}`);
      if ((await this.client.exists(candidate)) === false) return candidate;
    }
  }

  /** Ends the connection; never throws, never hangs on a connection already gone. */
  async close(): Promise<void> {
    this.signal.removeEventListener('abort', this.onAbort);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.client.end().catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
    clearTimeout(timer);
    (this.client as unknown as { client: RawClient }).client.destroy();
  }
}

/** A failure to reach or log in to an SFTP server, with its kind (as a connection test reports it). */
export class SftpConnectError extends RunFailedError {
  constructor(
    readonly failure: ConnectFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A connection failure as the user should read it. */
function connectError(settings: SftpSettings, error: Error & { level?: string; code?: string }, timeoutMs: number): RunFailedError {
  const where = `${settings.host}:${settings.port}`;
  const message = stripPrefix(error.message);
  if (error.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    return new SftpConnectError('AUTH', `authentication failed for user ${settings.username} at ${where}: the server refused the ${settings.privateKey ? 'private key' : 'password'}`, { cause: error });
  }
  if (error.level === 'client-timeout' || /timed out/i.test(message)) return new SftpConnectError('TIMEOUT', `cannot connect to ${where}: no answer within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`, { cause: error });
  const reasons: Record<string, [ConnectFailure, string]> = {
    ECONNREFUSED: ['REFUSED', 'connection refused (is an SFTP server listening on that port?)'],
    ENOTFOUND: ['DNS', 'host not found'],
    EAI_AGAIN: ['DNS', 'host name lookup failed'],
    EHOSTUNREACH: ['REFUSED', 'host unreachable'],
    ENETUNREACH: ['REFUSED', 'network unreachable'],
    ETIMEDOUT: ['TIMEOUT', 'connection timed out'],
    ECONNRESET: ['REFUSED', 'the server closed the connection'],
  };
  const known = error.code ? reasons[error.code] : undefined;
  if (known) return new SftpConnectError(known[0], `cannot connect to ${where}: ${known[1]}`, { cause: error });
  if (/privateKey|private key|passphrase/i.test(message)) return new SftpConnectError('AUTH', `the private key cannot be used: ${message}`, { cause: error });
  return new SftpConnectError('OTHER', `cannot connect to ${where}: ${message}`, { cause: error });
}

/**
 * Whether an SFTP connection works: connects, logs in and lists the login directory, within
 * `timeoutMs`, writing and remembering nothing. The answer names the server's host key, to pin.
 */
export async function probeSftp(endpoint: Pick<SftpSettings, 'host' | 'port' | 'username' | 'password' | 'privateKey'>, timeoutMs = 10_000): Promise<{ ok: boolean; message: string; failure: ConnectFailure | null }> {
  const settings: SftpSettings = { ...endpoint, remoteDir: '.', filePattern: '*', hostKeyFingerprint: null, afterImport: 'KEEP', moveToDir: null };
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  let session: SftpSession | null = null;
  try {
    session = await SftpSession.open(settings, null, timeoutMs, stop.signal);
    const files = await session.listMatching().catch((error: Error) => {
      throw new SftpConnectError(/permission denied/i.test(error.message) ? 'PERMISSION' : 'OTHER', error.message, { cause: error });
    });
    return { ok: true, message: `connected to ${endpoint.host}:${endpoint.port} as ${endpoint.username} (host key ${session.fingerprint}); ${files.length} file(s) in the login directory`, failure: null };
  } catch (error) {
    if (stop.signal.aborted) return { ok: false, message: `no answer from ${endpoint.host}:${endpoint.port} within ${Math.round(timeoutMs / 1000)} s`, failure: 'TIMEOUT' };
    if (error instanceof SftpConnectError) return { ok: false, message: error.message, failure: error.failure };
    return { ok: false, message: (error as Error).message, failure: 'OTHER' };
  } finally {
    clearTimeout(timer);
    await session?.close();
  }
}

/** ssh2-sftp-client prefixes messages with its method name ("getConnection: …", "list: …"). */
function stripPrefix(message: string): string {
  return message.replace(/^(?:[A-Za-z_]+(?:->|: ))+/, '');
}

/** Errors a user can act on become RunFailedError with a plain message. */
function explain(error: unknown): unknown {
  if (error instanceof RunFailedError || error instanceof RunCancelledError) return error;
  const refused = warehouseRefusal(error);
  if (refused) return refused;
  if (error instanceof Error && /No SFTP connection|Unexpected (end|close) event|No response from server/i.test(error.message)) {
    return new RunFailedError(`the SFTP connection was lost: ${stripPrefix(error.message)}`, { cause: error });
  }
  return error;
}
