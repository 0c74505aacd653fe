import { constants, mkdirSync, realpathSync } from 'node:fs';
import { open, readdir, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { defaultFileRoot, isInside } from '../../core/paths.js';

/** Why a FILE datasource's path is refused. */
export type FileRefusal = 'OUTSIDE_ROOTS' | 'PROTECTED' | 'NOT_A_FILE' | 'MISSING' | 'UNREADABLE' | 'CHANGED';

/** A FILE path that may not be read; the message says why and names the path. */
export class FileAccessError extends Error {
  constructor(
    readonly reason: FileRefusal,
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'FileAccessError';
  }
}

export interface FileRootsOptions {
  /** Directories FILE datasources may read from (FILE_ROOTS); default `DATA_DIR/files`, created. */
  roots?: string[];
  /** Tributary's data directory: nothing in it is readable but what lies in a root inside it. */
  dataDir: string;
  /** More files never to read, wherever they are (the metadata database, the job store). */
  protectedFiles?: string[];
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | (constants.O_NOCTTY ?? 0);

/**
 * Where FILE datasources may read: regular files inside the import roots (FILE_ROOTS), by real
 * path, and never Tributary's own files. Relative paths are taken from the first root. A path is
 * checked when saved ({@link check}) and again every time it is read ({@link open}), where the
 * file is opened without following a last symlink and the opened descriptor itself is checked,
 * so a file moved or swapped for a symlink between the check and the open is refused.
 */
export class FileRoots {
  readonly roots: string[];
  private readonly dataDir: string;
  private readonly innerRoots: string[];
  private readonly protectedFiles: string[];

  constructor(options: FileRootsOptions) {
    this.dataDir = realOrResolved(options.dataDir);
    if (options.roots && options.roots.length > 0) {
      this.roots = options.roots.map(realOrResolved);
    } else {
      this.roots = [defaultFileRoot(this.dataDir)];
    }
    for (const root of this.roots) {
      if (isInside(this.dataDir, root)) throw new Error(`the FILE root ${root} holds DATA_DIR (${this.dataDir}); FILE datasources must never see Tributary's own files`);
    }
    this.innerRoots = this.roots.filter((root) => isInside(root, this.dataDir));
    this.protectedFiles = (options.protectedFiles ?? []).map(realOrResolved);
  }

  /** The absolute form of a path as saved: relative paths are taken from the first root; `..` is resolved by the text. */
  absolute(path: string): string {
    return isAbsolute(path) ? resolve(path) : resolve(this.roots[0]!, path);
  }

  /** "inside FILE_ROOTS (/srv/in, /mnt/exports)", for messages. */
  describeRoots(): string {
    return `FILE_ROOTS (${this.roots.join(', ')})`;
  }

  /**
   * Save-time check: the absolute path to store, or a {@link FileAccessError}. The file need not
   * exist yet (it may arrive later), but where it would be must be inside a root once symlinks
   * are resolved, and when it exists it must be a regular file.
   */
  async check(path: string): Promise<string> {
    if (path.includes('\0')) throw new FileAccessError('NOT_A_FILE', path, 'the path contains a NUL character');
    const absolute = this.absolute(path);
    const real = await realPrefix(absolute);
    this.assertAllowed(path, real);
    let info;
    try {
      info = await stat(real);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return absolute; // not there yet: checked again when read
      if (code === 'ENOTDIR') throw notAFile(path);
      throw new FileAccessError('UNREADABLE', path, `${path} cannot be read (${code ?? (error as Error).message})`);
    }
    if (!info.isFile()) throw notAFile(path);
    if (await this.isProtectedInode(info.dev, info.ino)) throw protectedFile(path);
    return absolute;
  }

  /**
   * Opens a FILE datasource's file for reading, checking it as {@link check} does, now: the real
   * path must be inside a root and not protected, the last component must not be a symlink at
   * open time (O_NOFOLLOW), the opened descriptor must be a regular file, and where the kernel
   * says the descriptor points (/proc/self/fd) must still be inside a root. O_NONBLOCK keeps a
   * FIFO from blocking the open. The caller closes the handle.
   */
  async open(path: string): Promise<FileHandle> {
    const absolute = this.absolute(path);
    let real: string;
    try {
      real = await realpath(absolute);
    } catch (error) {
      // Where it would be is judged first: a missing file outside the roots is refused like any
      // other, so reads never tell whether a path outside FILE_ROOTS exists.
      this.assertAllowed(path, await realPrefix(absolute).catch(() => absolute));
      throw readError(path, error);
    }
    this.assertAllowed(path, real);
    let handle: FileHandle;
    try {
      handle = await open(real, OPEN_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new FileAccessError('CHANGED', path, `${path} changed while it was being opened (it became a symlink); it was not read`);
      throw readError(path, error);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw notAFile(path);
      const opened = await openedPath(handle);
      if (opened === null) {
        // No /proc: the opened file must at least be the one the real path names now.
        const now = await stat(real).catch(() => null);
        if (!now || now.dev !== info.dev || now.ino !== info.ino) throw new FileAccessError('CHANGED', path, `${path} changed while it was being opened; it was not read`);
      } else if (opened !== real) {
        this.assertAllowed(path, opened, true);
      }
      if (await this.isProtectedInode(info.dev, info.ino)) throw protectedFile(path);
      return handle;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  private assertAllowed(path: string, real: string, changed = false): void {
    if (!this.roots.some((root) => isInside(real, root))) {
      if (changed) throw new FileAccessError('CHANGED', path, `${path} changed while it was being opened (it now leads outside ${this.describeRoots()}); it was not read`);
      const resolved = real === path ? '' : ` (it resolves to ${real})`;
      throw new FileAccessError('OUTSIDE_ROOTS', path, `${path}${resolved} is outside the directories FILE datasources may read, ${this.describeRoots()}`);
    }
    if (this.isProtectedPath(real)) throw protectedFile(path);
  }

  /** Tributary's own files: anything in DATA_DIR but the roots inside it, the staging area always, and the extra protected files. */
  private isProtectedPath(real: string): boolean {
    if (isInside(real, this.dataDir)) {
      if (isInside(real, join(this.dataDir, 'staging')) || dirname(real) === this.dataDir) return true;
      if (!this.innerRoots.some((root) => real !== root && isInside(real, root))) return true;
    }
    return this.protectedFiles.some((file) => real === file || (dirname(real) === dirname(file) && basename(real).startsWith(`${basename(file)}-`)));
  }

  /** A hard link to one of Tributary's own files (those in DATA_DIR, its staging and sandbox records, and the extra protected files). */
  private async isProtectedInode(dev: number, ino: number): Promise<boolean> {
    const candidates = [...this.protectedFiles];
    for (const dir of [this.dataDir, join(this.dataDir, 'staging'), join(this.dataDir, 'sandboxes')]) {
      try {
        for (const name of await readdir(dir)) candidates.push(join(dir, name));
      } catch {
        // missing or unreadable: nothing to compare with
      }
    }
    for (const file of candidates) {
      const info = await stat(file).catch(() => null);
      if (info && info.isFile() && info.dev === dev && info.ino === ino) return true;
    }
    return false;
  }
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

/** The real path of the longest existing prefix of `absolute`, with the rest (which cannot hold a symlink) appended. */
async function realPrefix(absolute: string): Promise<string> {
  const rest: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      return join(await realpath(current), ...rest);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(current);
      if (code !== 'ENOENT' || parent === current) throw new FileAccessError(code === 'ENOTDIR' ? 'NOT_A_FILE' : 'UNREADABLE', absolute, `${absolute} cannot be resolved (${code ?? (error as Error).message})`);
      rest.unshift(basename(current));
      current = parent;
    }
  }
}

async function openedPath(handle: FileHandle): Promise<string | null> {
  try {
    return await readlink(`/proc/self/fd/${handle.fd}`);
  } catch {
    return null;
  }
}

function notAFile(path: string): FileAccessError {
  return new FileAccessError('NOT_A_FILE', path, `${path} is not a regular file (FILE datasources read CSV or JSON-lines files, not directories, devices or pipes)`);
}

function protectedFile(path: string): FileAccessError {
  return new FileAccessError('PROTECTED', path, `${path} is one of Tributary's own files (databases, staging area, key) and is never read as a datasource`);
}

function readError(path: string, error: unknown): FileAccessError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new FileAccessError('MISSING', path, `${path} does not exist`);
  if (code === 'ENOTDIR') return notAFile(path);
  if (code === 'EACCES' || code === 'EPERM') return new FileAccessError('UNREADABLE', path, `${path} cannot be read (permission denied)`);
  if (code === 'ELOOP') return new FileAccessError('CHANGED', path, `${path} cannot be resolved (too many symlinks)`);
  return new FileAccessError('UNREADABLE', path, `${path} cannot be read (${code ?? (error as Error).message})`);
}
