import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ownerAlive, ownerOf, ownerTag, processStart, TAG_PATTERN } from './owner.js';

/**
 * What a Tributary process leaves behind when it dies without cleaning up (kill -9, a crash, a
 * power cut), and how the next start removes it:
 *
 * - the processes of its running scripts, recorded in `DATA_DIR/sandboxes/<owner tag>-<pid>.json`
 *   while they run (the sandbox dies with its parent anyway; without the sandbox a script's
 *   process group would go on running);
 * - its scripts' temp dirs, `$TMPDIR/tributary-script-<owner tag>-XXXXXX` (without the sandbox;
 *   a sandboxed script's directory is a tmpfs that vanishes with it);
 * - its warehouse staging files, `DATA_DIR/staging/<owner tag>-<uuid>.db` (half-written rows).
 *
 * Only leftovers of owners that are dead on this host are touched: several processes may share
 * DATA_DIR and run at once, and each one's files carry its own tag.
 */

export const RECORD_DIR = 'sandboxes';
/** Files from before names carried their owner: removed once this old (a live write touches its file). */
const LEGACY_AGE_MS = 24 * 60 * 60 * 1000;

/** A process to kill if its owner died: the pid, and its start time so a reused pid is left alone. */
export interface RecordedProcess {
  pid: number;
  start: number;
  /** Kill its whole process group (the pid leads it). */
  group?: boolean;
}

export interface ScriptRecord {
  owner: string;
  processes: RecordedProcess[];
  /** The sandbox's PID namespace (its processes can be found by it). */
  pidNamespace?: number;
  startedAt: string;
}

/** The temp-dir prefix of this process's scripts (for mkdtemp). */
export function scriptTempPrefix(tmp = tmpdir()): string {
  return join(tmp, `tributary-script-${ownerTag()}-`);
}

const TEMP_DIR = new RegExp(`^tributary-script-${TAG_PATTERN}-[A-Za-z0-9]{6}$`);
const LEGACY_TEMP_DIR = /^tributary-script-[A-Za-z0-9]{6}$/;
const STAGING_FILE = new RegExp(`^${TAG_PATTERN}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.db(-journal|-wal|-shm)?$`);
const LEGACY_STAGING_FILE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.db(-journal|-wal|-shm)?$/;
const RECORD_FILE = new RegExp(`^${TAG_PATTERN}-\\d+\\.json$`);

/** The processes of this process's running scripts, one file each under DATA_DIR/sandboxes. */
export class ScriptRecords {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, RECORD_DIR);
  }

  /** Records a script's processes; returns the record's path (to update or remove). */
  write(key: number, record: Omit<ScriptRecord, 'owner' | 'startedAt'>, path?: string): string {
    const file = path ?? join(this.dir, `${ownerTag()}-${key}.json`);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(file, JSON.stringify({ owner: ownerTag(), startedAt: new Date().toISOString(), ...record } satisfies ScriptRecord));
    return file;
  }

  remove(path: string): void {
    rmSync(path, { force: true });
  }
}

export interface LeftoverReport {
  killed: number;
  tempDirs: number;
  stagingFiles: number;
}

/** Kills and removes what dead owners left (see above). Every problem is logged, none is thrown. */
export function cleanLeftovers(dataDir: string, logger: Logger, tmp = tmpdir()): LeftoverReport {
  const report: LeftoverReport = { killed: 0, tempDirs: 0, stagingFiles: 0 };
  const dead = (name: string, pattern: RegExp): boolean => {
    const match = pattern.exec(name);
    return match !== null && !ownerAlive(ownerOf(match));
  };
  const old = (path: string): boolean => {
    try {
      return Date.now() - statSync(path).mtimeMs > LEGACY_AGE_MS;
    } catch {
      return false;
    }
  };
  const remove = (path: string, what: string): boolean => {
    try {
      rmSync(path, { recursive: true, force: true });
      return true;
    } catch (error) {
      logger.warn({ err: error, path }, `could not remove a ${what} left by a stopped process`);
      return false;
    }
  };

  const records = join(dataDir, RECORD_DIR);
  for (const name of list(records)) {
    if (!dead(name, RECORD_FILE)) continue;
    const path = join(records, name);
    try {
      const record = JSON.parse(readFileSync(path, 'utf8')) as ScriptRecord;
      report.killed += killRecorded(record.processes ?? []);
    } catch (error) {
      logger.warn({ err: error, path }, 'unreadable script process record');
    }
    try {
      unlinkSync(path);
    } catch {
      // Another starting process got it first.
    }
  }

  for (const name of list(tmp)) {
    const path = join(tmp, name);
    if ((dead(name, TEMP_DIR) || (LEGACY_TEMP_DIR.test(name) && old(path))) && remove(path, 'script temp dir')) report.tempDirs += 1;
  }

  const staging = join(dataDir, 'staging');
  for (const name of list(staging)) {
    const path = join(staging, name);
    if ((dead(name, STAGING_FILE) || (LEGACY_STAGING_FILE.test(name) && old(path))) && remove(path, 'staging file')) report.stagingFiles += 1;
  }

  if (report.killed + report.tempDirs + report.stagingFiles > 0) {
    logger.warn(report, 'removed what stopped Tributary processes left: script processes killed, script temp dirs and staging files deleted');
  }
  return report;
}

/** SIGKILL to each recorded process (or group) that still runs as the one recorded. */
function killRecorded(processes: RecordedProcess[]): number {
  let killed = 0;
  for (const { pid, start, group } of processes) {
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const now = processStart(pid);
    // A pid that names another process now was free, so its old group is gone too. A group whose
    // leader is gone may still have members: its id cannot be reused while it does.
    if (group ? now !== null && now !== start : now !== start) continue;
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
      killed += 1;
    } catch {
      // Exited meanwhile.
    }
  }
  return killed;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
