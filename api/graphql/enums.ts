import { registerEnumType } from 'type-graphql';
import {
  AfterImport,
  AutomationKind,
  AutomationState,
  ConnectionType,
  ConnectorConfigurationStatus,
  ConnectorStatus,
  DatasourceKind,
  ErrorPolicy,
  ErrorRecordFormat,
  JoinType,
  LineageNodeType,
  Role,
  RunStatus,
  ScriptLanguage,
  TokenScope,
  VersionStatus,
  WriteMode,
} from '../../core/enums.js';

// The domain's enums (core/enums.ts) as GraphQL enums: names and value descriptions of the API.
registerEnumType(DatasourceKind, { name: 'DatasourceKind' });
registerEnumType(JoinType, { name: 'JoinType' });
registerEnumType(AutomationKind, { name: 'AutomationKind' });
registerEnumType(ScriptLanguage, { name: 'ScriptLanguage' });
registerEnumType(RunStatus, { name: 'RunStatus' });
registerEnumType(AutomationState, {
  name: 'AutomationState',
  valuesConfig: {
    ACTIVE: { description: 'Runs on its schedule and when triggered' },
    PAUSED: { description: 'No new runs; a run in flight finishes' },
    STOPPED: { description: 'No new runs; a run in flight is cancelled' },
    DEACTIVATED: { description: 'Switched off until started again' },
  },
});
registerEnumType(LineageNodeType, { name: 'LineageNodeType' });
registerEnumType(VersionStatus, {
  name: 'VersionStatus',
  valuesConfig: {
    DRAFT: { description: 'Being edited; the only version edits change' },
    AWAITING_APPROVAL: { description: 'Sent for approval: an admin approves or rejects it' },
    APPROVED: { description: 'Approved, not live: makeLive puts it in force' },
    REJECTED: { description: 'Rejected with a comment; reopenDraft makes it the draft again' },
    LIVE: { description: 'In force: what the schedule, the graph and new runs use' },
    RETIRED: { description: 'Was live; makeLive puts it back in force (a rollback)' },
  },
});
registerEnumType(WriteMode, {
  name: 'WriteMode',
  valuesConfig: {
    REPLACE: { description: 'The output becomes exactly the new rows, swapped in when the run succeeds' },
    APPEND: { description: 'New rows are added to the output' },
    UPSERT: { description: 'Rows matching on writeKeys are updated, others inserted' },
  },
});
registerEnumType(AfterImport, {
  name: 'AfterImport',
  valuesConfig: {
    KEEP: { description: 'Leave the file; it is remembered (name, size, mtime) and not imported again' },
    DELETE: { description: 'Delete the file from the server' },
    MOVE: { description: 'Move the file to moveToDir on the server' },
  },
});
registerEnumType(ErrorPolicy, {
  name: 'ErrorPolicy',
  valuesConfig: {
    FAIL_RUN: { description: 'The first bad row fails the run (default)' },
    DISCARD: { description: 'Bad rows are skipped and counted' },
    TO_DATASOURCE: { description: 'Bad rows are written to errorDatasource' },
  },
});
registerEnumType(ErrorRecordFormat, { name: 'ErrorRecordFormat' });
registerEnumType(Role, {
  name: 'Role',
  valuesConfig: {
    VIEWER: { description: 'Reads everything but secrets' },
    EDITOR: { description: 'Also creates, edits, previews and runs automations and datasources' },
    ADMIN: { description: 'Also manages users, roles and every API token' },
  },
});
registerEnumType(ConnectionType, {
  name: 'ConnectionType',
  valuesConfig: { SFTP: { description: 'An SFTP server' }, POSTGRES: { description: 'A PostgreSQL database' }, MYSQL: { description: 'A MySQL or MariaDB database' } },
});
registerEnumType(ConnectorStatus, { name: 'ConnectorStatus' });
registerEnumType(ConnectorConfigurationStatus, { name: 'ConnectorConfigurationStatus' });
registerEnumType(TokenScope, {
  name: 'TokenScope',
  valuesConfig: { LINEAGE_WRITER: { description: 'Only sends OpenLineage events (POST /api/v1/lineage and /api/v1/lineage/batch); refused everywhere else' } },
});
