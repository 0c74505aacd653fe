import { Field, ID, InputType } from 'type-graphql';
import { DatasourceKind, JoinType } from '../../../core/enums.js';
import type * as In from '../../services/inputs.js';

@InputType('ColumnInput')
export class ColumnInput implements In.ColumnInput {
  @Field(() => String) name!: string;
  @Field(() => String) type!: string;
}

@InputType('JoinInput', { description: 'How a JOIN datasource joins its two sources' })
export class JoinInput implements In.JoinInput {
  @Field(() => ID) leftId!: string;
  @Field(() => ID) rightId!: string;
  @Field(() => String) leftKey!: string;
  @Field(() => String) rightKey!: string;
  @Field(() => JoinType, { defaultValue: JoinType.INNER }) type!: JoinType;
}

@InputType('CreateDatasourceInput')
export class CreateDatasourceInput implements In.CreateDatasourceInput {
  @Field(() => String) name!: string;
  @Field(() => DatasourceKind) kind!: DatasourceKind;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [String], { nullable: true }) tags?: string[] | null;
  @Field(() => String, { nullable: true, description: 'FILE only: path of the CSV or JSON-lines file' }) path?: string | null;
  @Field(() => [ColumnInput], { nullable: true }) columns?: ColumnInput[] | null;
  @Field(() => JoinInput, { nullable: true, description: 'JOIN only' }) join?: JoinInput | null;
}

@InputType('UpdateDatasourceInput', { description: 'Only the fields given change; the kind cannot change' })
export class UpdateDatasourceInput implements In.UpdateDatasourceInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => [String], { nullable: true }) tags?: string[] | null;
  @Field(() => String, { nullable: true }) path?: string | null;
  @Field(() => [ColumnInput], { nullable: true }) columns?: ColumnInput[] | null;
  @Field(() => JoinInput, { nullable: true }) join?: JoinInput | null;
}
