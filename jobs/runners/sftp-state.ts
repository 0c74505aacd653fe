import type { StoreLocation } from '../../core/db/sql.js';
import type { OpenSftpStateOptions, SftpState } from './sftp-state.types.js';

export { DEFAULT_SFTP_STATE_SCHEMA, SFTP_STATE_FILE, type OpenSftpStateOptions, type RemoteFileId, type SftpState } from './sftp-state.types.js';

/**
 * The SFTP state at `location`: a SQLite file (by default `DATA_DIR/sftp-state.db`) or tables in a
 * PostgreSQL schema. Each implementation is imported on demand, so the SQLite default never loads
 * the PostgreSQL driver.
 */
export async function openSftpState(location: StoreLocation, options: OpenSftpStateOptions = {}): Promise<SftpState> {
  if (location.dialect === 'postgresql') {
    const { PostgresSftpState } = await import('./sftp-state.postgres.js');
    return PostgresSftpState.open(location.url, options);
  }
  const { SqliteSftpState } = await import('./sftp-state.sqlite.js');
  return SqliteSftpState.open(location.file);
}
