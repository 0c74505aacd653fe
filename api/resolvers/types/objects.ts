import { Field, ID, ObjectType } from 'type-graphql';
import { Automation, Datasource, JoinType, LineageNodeType, Run } from '../../../core/db/entities/index.js';
import { connectionType } from '../../graphql/connection.js';
import { AutomationObject, DatasourceObject, RunObject } from './entities.js';

@ObjectType('JoinSpec', { description: 'How a JOIN datasource joins its two sources' })
export class JoinSpec {
  leftId!: string;
  rightId!: string;
  @Field(() => String) leftKey!: string;
  @Field(() => String) rightKey!: string;
  @Field(() => JoinType) type!: JoinType;
}

@ObjectType('Schedule')
export class Schedule {
  @Field(() => String) cron!: string;
  @Field(() => String, { description: 'IANA time zone the cron expression is read in' }) timezone!: string;
  @Field(() => Date, { nullable: true, description: 'Next time the schedule fires; null while the automation is not ACTIVE' })
  nextRunAt!: Date | null;
}

@ObjectType('Dependent', { description: 'An object that depends on another and so blocks its deletion' })
export class Dependent {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => LineageNodeType) type!: LineageNodeType;
  @Field(() => String, { description: 'Why it depends on it, e.g. "declares it as input"' }) reason!: string;
}

export const DatasourceConnection = connectionType('Datasource', DatasourceObject);
export const AutomationConnection = connectionType('Automation', AutomationObject);
export const RunConnection = connectionType('Run', RunObject);
