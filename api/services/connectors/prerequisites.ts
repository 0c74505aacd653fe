import { ConnectionType } from '../../../core/enums.js';

/** What must be true outside Tributary before a connector of each type can work (the wizard's first step). */
export const PREREQUISITES: Record<ConnectionType, string[]> = {
  [ConnectionType.POSTGRES]: [
    'A login for Tributary with CONNECT on the database and SELECT on the tables to ingest (read-only is enough)',
    'The PostgreSQL server accepts connections from this Tributary host (pg_hba.conf, firewall)',
    'For incremental ingestion: each table has a column whose values only grow (an id or an updated_at)',
  ],
  [ConnectionType.MYSQL]: [
    'A MySQL or MariaDB user for Tributary with SELECT on the tables to ingest, allowed from this host',
    'The server listens where Tributary can reach it (bind-address, firewall)',
    'For incremental ingestion: each table has a column whose values only grow (an id or an updated_at)',
  ],
  [ConnectionType.SFTP]: [
    'An SFTP login for Tributary with read access to the directory the files arrive in',
    'Files are CSV with a header row (.csv) or JSON lines (.jsonl, .ndjson)',
    "The server's host key fingerprint, to pin (ssh-keygen -lf), or trust on first use",
  ],
};
