import { Field, ID, InputType, Int } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { AfterImport, ErrorPolicy, ErrorRecordFormat, ScriptLanguage, WriteMode } from '../../../core/enums.js';
import type * as In from '../../services/inputs.js';

@InputType('ScheduleInput')
export class ScheduleInput implements In.ScheduleInput {
  @Field(() => String, { description: 'Cron expression, 5 fields or 6 with seconds first' }) cron!: string;
  @Field(() => String, { nullable: true, description: 'IANA time zone; defaults to UTC' }) timezone?: string | null;
}


@InputType('CreateEtlStepInput')
export class CreateEtlStepInput implements In.CreateEtlStepInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ID) inputId!: string;
  @Field(() => ID) outputId!: string;
  @Field(() => GraphQLJSON, { nullable: true, description: 'Defaults to {} (copy the input as it is)' }) transform?: Record<string, unknown> | null;
  @Field(() => ScheduleInput, { nullable: true }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true, description: 'Defaults to REPLACE' }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true, description: 'Key columns, required for UPSERT' }) writeKeys?: string[] | null;
  @Field(() => ErrorPolicy, { nullable: true, description: 'Defaults to FAIL_RUN' }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true, description: 'TO_DATASOURCE: the STORAGE datasource rejected rows go to' }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true, description: 'Defaults to ORIGINAL_RECORD' }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}

@InputType('UpdateEtlStepInput')
export class UpdateEtlStepInput implements In.UpdateEtlStepInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ID, { nullable: true }) inputId?: string | null;
  @Field(() => ID, { nullable: true }) outputId?: string | null;
  @Field(() => GraphQLJSON, { nullable: true }) transform?: Record<string, unknown> | null;
  @Field(() => ScheduleInput, { nullable: true, description: 'null removes the schedule' }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true, description: 'Defaults to REPLACE' }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true, description: 'Key columns, required for UPSERT' }) writeKeys?: string[] | null;
  @Field(() => ErrorPolicy, { nullable: true, description: 'Defaults to FAIL_RUN' }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true, description: 'TO_DATASOURCE: the STORAGE datasource rejected rows go to' }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true, description: 'Defaults to ORIGINAL_RECORD' }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}

@InputType('CreateSftpImportInput')
export class CreateSftpImportInput implements In.CreateSftpImportInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ID, { nullable: true, description: 'The SFTP connection it logs in with; or give host, username and a secret to make one for it' }) connectionId?: string | null;
  @Field(() => String, { nullable: true }) host?: string | null;
  @Field(() => Int, { nullable: true, description: 'Defaults to 22' }) port?: number | null;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only' }) password?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only, PEM or OpenSSH format' }) privateKey?: string | null;
  @Field(() => String, { nullable: true, description: 'Defaults to the login directory "."' }) remoteDir?: string | null;
  @Field(() => String, { nullable: true, description: 'Glob, defaults to "*"' }) filePattern?: string | null;
  @Field(() => ID) outputId!: string;
  @Field(() => ScheduleInput, { nullable: true }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true, description: 'Defaults to REPLACE' }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true, description: 'Key columns, required for UPSERT' }) writeKeys?: string[] | null;
  @Field(() => String, { nullable: true, description: 'Pinned host key fingerprint "SHA256:…" (ssh-keygen -lf); null trusts the first key seen' }) hostKeyFingerprint?: string | null;
  @Field(() => AfterImport, { nullable: true, description: 'Defaults to KEEP' }) afterImport?: AfterImport | null;
  @Field(() => String, { nullable: true, description: 'Required with MOVE' }) moveToDir?: string | null;
  @Field(() => ErrorPolicy, { nullable: true, description: 'Defaults to FAIL_RUN' }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true, description: 'TO_DATASOURCE: the STORAGE datasource rejected rows go to' }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true, description: 'Defaults to ORIGINAL_RECORD' }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}

@InputType('UpdateSftpImportInput')
export class UpdateSftpImportInput implements In.UpdateSftpImportInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ID, { nullable: true, description: 'Selects another SFTP connection' }) connectionId?: string | null;
  @Field(() => String, { nullable: true, description: 'Host, port, username and secrets change the import\'s own connection (refused when others use it)' }) host?: string | null;
  @Field(() => Int, { nullable: true }) port?: number | null;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only; null removes the stored password' }) password?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only; null removes the stored key' }) privateKey?: string | null;
  @Field(() => String, { nullable: true }) remoteDir?: string | null;
  @Field(() => String, { nullable: true }) filePattern?: string | null;
  @Field(() => ID, { nullable: true }) outputId?: string | null;
  @Field(() => ScheduleInput, { nullable: true, description: 'null removes the schedule' }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true, description: 'Defaults to REPLACE' }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true, description: 'Key columns, required for UPSERT' }) writeKeys?: string[] | null;
  @Field(() => String, { nullable: true, description: 'Pinned host key fingerprint "SHA256:…" (ssh-keygen -lf); null trusts the first key seen' }) hostKeyFingerprint?: string | null;
  @Field(() => AfterImport, { nullable: true, description: 'Defaults to KEEP' }) afterImport?: AfterImport | null;
  @Field(() => String, { nullable: true, description: 'Required with MOVE' }) moveToDir?: string | null;
  @Field(() => ErrorPolicy, { nullable: true, description: 'Defaults to FAIL_RUN' }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true, description: 'TO_DATASOURCE: the STORAGE datasource rejected rows go to' }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true, description: 'Defaults to ORIGINAL_RECORD' }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}

@InputType('CreateDatabaseIngestionInput')
export class CreateDatabaseIngestionInput implements In.CreateDatabaseIngestionInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ID, { description: 'A POSTGRES or MYSQL connection' }) connectionId!: string;
  @Field(() => String, { nullable: true, description: '"name" or "schema.name"; or give a query' }) table?: string | null;
  @Field(() => String, { nullable: true, description: 'One SELECT, run in a read-only transaction' }) query?: string | null;
  @Field(() => String, { nullable: true, description: 'Incremental: only rows past the last value of this column are read (write mode then defaults to APPEND)' }) cursorColumn?: string | null;
  @Field(() => ID) outputId!: string;
  @Field(() => ScheduleInput, { nullable: true }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true, description: 'Defaults to REPLACE, or APPEND with a cursorColumn' }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true, description: 'Key columns, required for UPSERT' }) writeKeys?: string[] | null;
  @Field(() => ErrorPolicy, { nullable: true }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true }) parameterSetIds?: string[] | null;
}

@InputType('UpdateDatabaseIngestionInput')
export class UpdateDatabaseIngestionInput implements In.UpdateDatabaseIngestionInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ID, { nullable: true }) connectionId?: string | null;
  @Field(() => String, { nullable: true, description: 'Giving a table replaces the query' }) table?: string | null;
  @Field(() => String, { nullable: true, description: 'Giving a query replaces the table' }) query?: string | null;
  @Field(() => String, { nullable: true, description: 'null makes it read everything each run' }) cursorColumn?: string | null;
  @Field(() => ID, { nullable: true }) outputId?: string | null;
  @Field(() => ScheduleInput, { nullable: true, description: 'null removes the schedule' }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true }) writeKeys?: string[] | null;
  @Field(() => ErrorPolicy, { nullable: true }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true }) parameterSetIds?: string[] | null;
}

@InputType('CreateScriptInput')
export class CreateScriptInput implements In.CreateScriptInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ScriptLanguage) language!: ScriptLanguage;
  @Field(() => String) code!: string;
  @Field(() => [ID], { nullable: true, description: 'Declared input datasources' }) inputIds?: string[] | null;
  @Field(() => [ID], { nullable: true, description: 'Declared output datasources' }) outputIds?: string[] | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'JSON object with optional args (list), kwargs and job_config (objects)' })
  variables?: Record<string, unknown> | null;
  @Field(() => ScheduleInput, { nullable: true }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true, description: 'Defaults to REPLACE' }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true, description: 'Key columns, required for UPSERT' }) writeKeys?: string[] | null;
  @Field(() => Int, { nullable: true, description: 'Defaults to 600 seconds' }) timeoutSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: 'Defaults to 512 MB' }) memoryMb?: number | null;
  @Field(() => ErrorPolicy, { nullable: true, description: 'Defaults to FAIL_RUN' }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true, description: 'TO_DATASOURCE: the STORAGE datasource rejected rows go to' }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true, description: 'Defaults to ORIGINAL_RECORD' }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}

@InputType('UpdateScriptInput')
export class UpdateScriptInput implements In.UpdateScriptInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ScriptLanguage, { nullable: true }) language?: ScriptLanguage | null;
  @Field(() => String, { nullable: true }) code?: string | null;
  @Field(() => [ID], { nullable: true }) inputIds?: string[] | null;
  @Field(() => [ID], { nullable: true }) outputIds?: string[] | null;
  @Field(() => GraphQLJSON, { nullable: true }) variables?: Record<string, unknown> | null;
  @Field(() => ScheduleInput, { nullable: true, description: 'null removes the schedule' }) schedule?: ScheduleInput | null;
  @Field(() => WriteMode, { nullable: true, description: 'Defaults to REPLACE' }) writeMode?: WriteMode | null;
  @Field(() => [String], { nullable: true, description: 'Key columns, required for UPSERT' }) writeKeys?: string[] | null;
  @Field(() => Int, { nullable: true, description: 'Defaults to 600 seconds' }) timeoutSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: 'Defaults to 512 MB' }) memoryMb?: number | null;
  @Field(() => ErrorPolicy, { nullable: true, description: 'Defaults to FAIL_RUN' }) errorPolicy?: ErrorPolicy | null;
  @Field(() => ID, { nullable: true, description: 'TO_DATASOURCE: the STORAGE datasource rejected rows go to' }) errorDatasourceId?: string | null;
  @Field(() => ErrorRecordFormat, { nullable: true, description: 'Defaults to ORIGINAL_RECORD' }) errorRecordFormat?: ErrorRecordFormat | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}

@InputType('CreateChainTaskInput')
export class CreateChainTaskInput implements In.CreateChainTaskInput {
  @Field(() => String) name!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [ID], { description: 'Automations to trigger, in order' }) stepIds!: string[];
  @Field(() => Boolean, { nullable: true, description: 'Defaults to false: a failed step stops the chain' }) continueOnFailure?: boolean | null;
  @Field(() => ScheduleInput, { nullable: true }) schedule?: ScheduleInput | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}

@InputType('UpdateChainTaskInput')
export class UpdateChainTaskInput implements In.UpdateChainTaskInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [ID], { nullable: true }) stepIds?: string[] | null;
  @Field(() => Boolean, { nullable: true }) continueOnFailure?: boolean | null;
  @Field(() => ScheduleInput, { nullable: true, description: 'null removes the schedule' }) schedule?: ScheduleInput | null;
  @Field(() => [ID], { nullable: true, description: 'Parameter sets whose ${set__param} its settings may use (replaces the attached ones)' }) parameterSetIds?: string[] | null;
}
