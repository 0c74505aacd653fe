import type { Migration } from '@mikro-orm/migrations';
import { Migration20261122000000Initial } from './sqlite/Migration20261122000000Initial.js';
import { Migration20261122100000LineageChanges } from './sqlite/Migration20261122100000LineageChanges.js';
import { Migration20261122200000WriteModes } from './sqlite/Migration20261122200000WriteModes.js';
import { Migration20261122300000RunnerSettings } from './sqlite/Migration20261122300000RunnerSettings.js';
import { Migration20261122400000ErrorPolicy } from './sqlite/Migration20261122400000ErrorPolicy.js';
import { Migration20261122500000Runs } from './sqlite/Migration20261122500000Runs.js';
import { Migration20261127100000Settings } from './sqlite/Migration20261127100000Settings.js';
import { Migration20261127200000Accounts } from './sqlite/Migration20261127200000Accounts.js';
import { Migration20261128000000Versions } from './sqlite/Migration20261128000000Versions.js';
import { Migration20261128200000Templates } from './sqlite/Migration20261128200000Templates.js';
import { Migration20261128300000Connections } from './sqlite/Migration20261128300000Connections.js';
import { Migration20261129000000OpenLineage } from './sqlite/Migration20261129000000OpenLineage.js';
import { Migration20261130000000LineageHistory } from './sqlite/Migration20261130000000LineageHistory.js';
import { Migration20261130000000LineageHistory as PostgresLineageHistory } from './postgresql/Migration20261130000000LineageHistory.js';
import { Migration20261129000000OpenLineage as PostgresOpenLineage } from './postgresql/Migration20261129000000OpenLineage.js';
import { Migration20261128300000Connections as PostgresConnections } from './postgresql/Migration20261128300000Connections.js';
import { Migration20261128200000Templates as PostgresTemplates } from './postgresql/Migration20261128200000Templates.js';
import { Migration20261128100000ParameterSets } from './sqlite/Migration20261128100000ParameterSets.js';
import { Migration20261128100000ParameterSets as PostgresParameterSets } from './postgresql/Migration20261128100000ParameterSets.js';
import { Migration20261128000000Versions as PostgresVersions } from './postgresql/Migration20261128000000Versions.js';
import { Migration20261127200000Accounts as PostgresAccounts } from './postgresql/Migration20261127200000Accounts.js';
import { Migration20261127000000PostgresInitial } from './postgresql/Migration20261127000000PostgresInitial.js';
import { Migration20261127100000Settings as PostgresSettings } from './postgresql/Migration20261127100000Settings.js';

/** Every SQLite migration in order. New ones are appended; applied ones are never edited. */
export const MIGRATIONS: { name: string; class: new (...args: any[]) => Migration }[] = [
  { name: 'Migration20261122000000Initial', class: Migration20261122000000Initial },
  { name: 'Migration20261122100000LineageChanges', class: Migration20261122100000LineageChanges },
  { name: 'Migration20261122200000WriteModes', class: Migration20261122200000WriteModes },
  { name: 'Migration20261122300000RunnerSettings', class: Migration20261122300000RunnerSettings },
  { name: 'Migration20261122400000ErrorPolicy', class: Migration20261122400000ErrorPolicy },
  { name: 'Migration20261122500000Runs', class: Migration20261122500000Runs },
  { name: 'Migration20261127100000Settings', class: Migration20261127100000Settings },
  { name: 'Migration20261127200000Accounts', class: Migration20261127200000Accounts },
  { name: 'Migration20261128000000Versions', class: Migration20261128000000Versions },
  { name: 'Migration20261128100000ParameterSets', class: Migration20261128100000ParameterSets },
  { name: 'Migration20261128200000Templates', class: Migration20261128200000Templates },
  { name: 'Migration20261128300000Connections', class: Migration20261128300000Connections },
  { name: 'Migration20261129000000OpenLineage', class: Migration20261129000000OpenLineage },
  { name: 'Migration20261130000000LineageHistory', class: Migration20261130000000LineageHistory },
];

/**
 * PostgreSQL's own list: it starts from the schema the SQLite list had reached when PostgreSQL
 * came (one migration), then both lists gain the same changes, each in its dialect.
 */
export const POSTGRES_MIGRATIONS: typeof MIGRATIONS = [
  { name: 'Migration20261127000000PostgresInitial', class: Migration20261127000000PostgresInitial },
  { name: 'Migration20261127100000Settings', class: PostgresSettings },
  { name: 'Migration20261127200000Accounts', class: PostgresAccounts },
  { name: 'Migration20261128000000Versions', class: PostgresVersions },
  { name: 'Migration20261128100000ParameterSets', class: PostgresParameterSets },
  { name: 'Migration20261128200000Templates', class: PostgresTemplates },
  { name: 'Migration20261128300000Connections', class: PostgresConnections },
  { name: 'Migration20261129000000OpenLineage', class: PostgresOpenLineage },
  { name: 'Migration20261130000000LineageHistory', class: PostgresLineageHistory },
];
