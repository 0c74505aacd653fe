/** The SFTP state's contract and settings, apart from the factory so the implementations can import them without a cycle. */

/** The state file's name inside DATA_DIR (the SQLite location). */
export const SFTP_STATE_FILE = 'sftp-state.db';

/** The PostgreSQL schema the SFTP state keeps its tables in unless told otherwise. */
export const DEFAULT_SFTP_STATE_SCHEMA = 'tributary_sftp_state';

/** A remote file as SFTP lists it: the three things that tell "already imported" from "new". */
export interface RemoteFileId {
  name: string;
  size: number;
  /** Modification time as listed (milliseconds since the epoch). */
  mtime: number;
}

/**
 * What imports remember between runs (database ingestions: their cursor). What SFTP imports remember between runs: the files each import took (name + size + mtime, so a
 * re-uploaded file counts as new) and the host keys trusted on first use. Safe to share between
 * processes: marking a file twice, from anywhere, remembers it once.
 */
export interface SftpState {
  /** True when this import already took this exact file (same name, size and modification time). */
  isImported(importId: string, file: RemoteFileId): Promise<boolean>;
  /** Remembers files as imported, all at once (called after the rows are committed). */
  markImported(importId: string, files: RemoteFileId[]): Promise<void>;
  /** The fingerprint trusted for this import's server, or null before the first successful connection. */
  knownHostKey(importId: string, host: string, port: number): Promise<string | null>;
  /** Trusts a host key for this import's server (replacing any earlier one). */
  recordHostKey(importId: string, host: string, port: number, fingerprint: string): Promise<void>;
  /** A database ingestion's cursor: the last value it read of its cursor column (null before its first rows). */
  lastCursor(ingestionId: string): Promise<string | null>;
  /** Remembers the cursor's last value, after the rows up to it are committed. */
  recordCursor(ingestionId: string, value: string): Promise<void>;
  /** Drops everything remembered for an import (its imported files, trusted host keys and cursor). */
  forget(importId: string): Promise<void>;
  close(): Promise<void>;
}

export interface OpenSftpStateOptions {
  /** PostgreSQL: the schema of the state's tables (default `tributary_sftp_state`), created when missing. */
  schema?: string;
  /** PostgreSQL: called when an idle pooled connection fails (logged, never fatal). */
  onIdleError?: (error: Error) => void;
}
