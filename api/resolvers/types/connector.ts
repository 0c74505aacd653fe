import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType, ConnectorConfigurationStatus, ConnectorStatus } from '../../../core/enums.js';
import { ScheduleInput } from './automation.input.js';

@ObjectType('Connector', {
  description: 'The ingestions of one source system, with its lifecycle: a wizard while CONFIGURING (configurationStatus), then STARTED or PAUSED',
})
export class ConnectorObject {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => ConnectionType) type!: ConnectionType;
  @Field(() => ConnectorStatus) status!: ConnectorStatus;
  @Field(() => ConnectorConfigurationStatus, { nullable: true, description: 'The wizard step reached' }) configurationStatus!: ConnectorConfigurationStatus | null;
  @Field(() => Boolean, { description: 'The prerequisites checklist was confirmed' }) prerequisitesDone!: boolean;
  @Field(() => String, { nullable: true, description: 'Destination: the start of each output datasource\'s name' }) tablePrefix!: string | null;
  @Field(() => String, { nullable: true, description: 'Why the connector is in ERROR' }) lastError!: string | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) modifiedAt!: Date;
}

@ObjectType('HourlyIngestion', { description: 'Rows ingested in one UTC hour, and what is unusual about it' })
export class HourlyIngestionObject {
  @Field(() => Date, { description: 'The hour\'s start (UTC)' }) hour!: Date;
  @Field(() => Int) rows!: number;
  @Field(() => Int) runs!: number;
  @Field(() => Int) failedRuns!: number;
  @Field(() => String, { nullable: true, description: 'What is unusual against the same hour of the last 7 days (rows far from usual, no rows where there usually are, a run far slower than usual); null when nothing' })
  anomaly!: string | null;
  @Field(() => [String], { description: 'ROWS, ZERO_ROWS, SLOW_RUN' }) anomalyKinds!: string[];
}

@ObjectType('IngestionAnomaly')
export class IngestionAnomalyObject {
  @Field(() => ID) automationId!: string;
  @Field(() => String) automationName!: string;
  @Field(() => Date) hour!: Date;
  @Field(() => String, { description: 'ROWS, ZERO_ROWS or SLOW_RUN' }) kind!: string;
  @Field(() => String) message!: string;
}

@InputType('CreateConnectorInput')
export class CreateConnectorInput {
  @Field(() => String) name!: string;
  @Field(() => ConnectionType, { description: 'The source system: its connection must be of this type' }) type!: ConnectionType;
}

@InputType('ConfigureConnectorInput')
export class ConfigureConnectorInput {
  @Field(() => String, { nullable: true, description: 'Output datasources are named prefix + table' }) tablePrefix?: string | null;
  @Field(() => ScheduleInput, { nullable: true, description: 'The ingestions\' schedule; null: none' }) schedule?: ScheduleInput | null;
}

@InputType('FinalizeConnectorInput')
export class FinalizeConnectorInput {
  @Field(() => [String], { description: 'Tables ("schema.name") or, for SFTP, file patterns ("dir/orders-*.csv"): each becomes an ingestion' }) tables!: string[];
}
