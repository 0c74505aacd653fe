import { Field, ID, Int, InterfaceType, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import {
  AfterImport,
  AutomationKind,
  AutomationState,
  DatasourceKind,
  ErrorPolicy,
  ErrorRecordFormat,
  RunStatus,
  RunTrigger,
  ScriptLanguage,
  WriteMode,
} from '../../../core/enums.js';
import '../../graphql/enums.js';

// The GraphQL object types of the stored objects. Resolvers return the entities of core/db
// (the same fields, read by name); these classes only describe them to GraphQL.

/** GraphQL object type name of each automation kind. */
export const AUTOMATION_TYPE_NAMES: Record<AutomationKind, string> = {
  [AutomationKind.ETL_STEP]: 'EtlStep',
  [AutomationKind.SFTP_IMPORT]: 'SftpImport',
  [AutomationKind.SCRIPT]: 'Script',
  [AutomationKind.CHAIN_TASK]: 'ChainTask',
  [AutomationKind.DATABASE_TABLE]: 'DatabaseIngestion',
  [AutomationKind.EXTERNAL_JOB]: 'ExternalJob',
};

@ObjectType('Column', { description: 'A column of a datasource' })
export class ColumnObject {
  @Field(() => String) name!: string;
  @Field(() => String) type!: string;
}

@ObjectType('Datasource')
export class DatasourceObject {
  @Field(() => ID)
  id!: string;
  @Field(() => String)
  name!: string;
  @Field(() => DatasourceKind)
  kind!: DatasourceKind;
  @Field(() => String, { nullable: true })
  description!: string | null;
  @Field(() => [String])
  tags!: string[];
  @Field(() => String, { nullable: true, description: 'FILE only: path of the CSV or JSON-lines file' })
  path!: string | null;
  @Field(() => [ColumnObject])
  columns!: ColumnObject[];
  @Field(() => Int, { nullable: true })
  rowCount!: number | null;
  @Field(() => String, { nullable: true, description: 'EXTERNAL only: the OpenLineage dataset namespace' })
  olNamespace!: string | null;
  @Field(() => String, { nullable: true, description: 'EXTERNAL only: the OpenLineage dataset name' })
  olName!: string | null;
  @Field(() => String, { nullable: true, description: 'EXTERNAL only: the producer URI of the latest event describing it' })
  producer!: string | null;
  @Field(() => Date, { nullable: true, description: 'When its data last changed' })
  updatedAt!: Date | null;
  @Field(() => Date)
  createdAt!: Date;
  @Field(() => Date, { description: 'When its definition last changed' })
  modifiedAt!: Date;
}

@InterfaceType('Automation', {
  resolveType: (value: { kind: AutomationKind }) => AUTOMATION_TYPE_NAMES[value.kind],
})
export abstract class AutomationObject {
  @Field(() => ID)
  id!: string;
  @Field(() => String)
  name!: string;
  @Field(() => AutomationKind)
  kind!: AutomationKind;
  @Field(() => String, { nullable: true })
  description!: string | null;
  @Field(() => AutomationState)
  state!: AutomationState;
  @Field(() => WriteMode, { description: 'How rows land in the output (data automations; chain tasks have no output)' })
  writeMode!: WriteMode;
  @Field(() => [String], { description: 'Key columns for UPSERT' })
  writeKeys!: string[];
  @Field(() => ErrorPolicy, { description: 'What a run does with rows it cannot read' })
  errorPolicy!: ErrorPolicy;
  @Field(() => ErrorRecordFormat, { description: 'TO_DATASOURCE: how a rejected row is written' })
  errorRecordFormat!: ErrorRecordFormat;
  @Field(() => RunStatus, { nullable: true, description: 'Status of the latest run; null when it never ran' })
  lastRunStatus!: RunStatus | null;
  @Field(() => Date)
  createdAt!: Date;
  @Field(() => Date)
  modifiedAt!: Date;
}

@ObjectType('EtlStep', { implements: AutomationObject })
export class EtlStepObject extends AutomationObject {
  @Field(() => GraphQLJSON, { description: 'The transformation: a pipeline of operations or { "sql": … }' })
  transform!: Record<string, unknown>;
}

@ObjectType('SftpImport', { implements: AutomationObject, description: 'Imports files from an SFTP server; host, port, username and the secrets come from its connection' })
export class SftpImportObject extends AutomationObject {
  @Field(() => Boolean, {
    description:
      'True in the answer to an update that changed host, port or username without giving a new password or key: the stored ones were cleared so that they never go to another server. Set one again before the next run.',
  })
  credentialsDropped!: boolean;
  @Field(() => String)
  remoteDir!: string;
  @Field(() => String, { description: 'Glob matched against file names in remoteDir, e.g. "orders-*.csv"' })
  filePattern!: string;
  @Field(() => String, { nullable: true, description: 'Pinned host key fingerprint ("SHA256:…"); null: trust the first key seen' })
  hostKeyFingerprint!: string | null;
  @Field(() => AfterImport)
  afterImport!: AfterImport;
  @Field(() => String, { nullable: true, description: 'MOVE: remote directory imported files go to' })
  moveToDir!: string | null;
}

@ObjectType('DatabaseIngestion', { implements: AutomationObject, description: 'Reads a table or a SELECT from a POSTGRES or MYSQL connection into one STORAGE datasource' })
export class DatabaseIngestionObject extends AutomationObject {
  @Field(() => String, { nullable: true, description: 'The source table, "name" or "schema.name"; null when a query is read' })
  table!: string | null;
  @Field(() => String, { nullable: true, description: 'The SELECT read instead of a table' })
  query!: string | null;
  @Field(() => String, { nullable: true, description: 'Incremental: each run reads only rows whose value in this column is past the last one read' })
  cursorColumn!: string | null;
}

@ObjectType('Script', { implements: AutomationObject })
export class ScriptObject extends AutomationObject {
  @Field(() => ScriptLanguage)
  language!: ScriptLanguage;
  @Field(() => String)
  code!: string;
  @Field(() => GraphQLJSON, { nullable: true, description: 'Runtime variables: JSON object with optional args, kwargs, job_config' })
  variables!: Record<string, unknown> | null;
  @Field(() => Int, { description: 'A run taking longer is stopped and fails (seconds)' })
  timeoutSeconds!: number;
  @Field(() => Int, { description: 'Memory cap of the script process (MB)' })
  memoryMb!: number;
}

@ObjectType('ChainTask', { implements: AutomationObject })
export class ChainTaskObject extends AutomationObject {
  @Field(() => Boolean, { description: 'Whether later steps still run after a step fails' })
  continueOnFailure!: boolean;
}

@ObjectType('ExternalJob', { implements: AutomationObject, description: 'A job known from OpenLineage events: drawn and followed, never run, scheduled or versioned here' })
export class ExternalJobObject extends AutomationObject {
  @Field(() => String, { description: 'The OpenLineage job namespace' })
  olNamespace!: string;
  @Field(() => String, { description: 'The OpenLineage job name' })
  olName!: string;
  @Field(() => String, { nullable: true, description: 'The producer URI of the latest event about it (Airflow, Spark, dbt, another Tributary…)' })
  producer!: string | null;
}

@ObjectType('Run', { description: 'One execution of an automation' })
export class RunObject {
  @Field(() => ID)
  id!: string;
  @Field(() => RunStatus)
  status!: RunStatus;
  @Field(() => String, { description: 'SCHEDULE, MANUAL, CHAIN, or EXTERNAL (an external job\'s run, from OpenLineage events)' })
  trigger!: RunTrigger;
  @Field(() => Date)
  queuedAt!: Date;
  @Field(() => Date, { nullable: true })
  startedAt!: Date | null;
  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
  @Field(() => Int, { nullable: true })
  rowsRead!: number | null;
  @Field(() => Int, { nullable: true })
  rowsWritten!: number | null;
  @Field(() => Int, { nullable: true, description: 'Rows the error policy discarded or set aside' })
  errorRecords!: number | null;
  @Field(() => String, { nullable: true })
  error!: string | null;
  @Field(() => Int, { description: 'Schedule ticks or manual requests that came while this run was queued and were folded into it' })
  coalesced!: number;
}
