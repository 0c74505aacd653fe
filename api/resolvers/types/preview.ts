import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';

@ObjectType('DataSample', { description: 'Rows of one datasource in a preview' })
export class DataSampleObject {
  datasourceId!: string;
  @Field(() => [String]) columns!: string[];
  @Field(() => [GraphQLJSON]) rows!: Record<string, unknown>[];
}

@ObjectType('Preview', { description: 'What an automation would do with a sample of its input; nothing is written' })
export class PreviewObject {
  @Field(() => [DataSampleObject], { description: 'The sample of each input' }) inputs!: DataSampleObject[];
  @Field(() => [DataSampleObject], { description: 'The rows each output would receive' }) outputs!: DataSampleObject[];
  @Field(() => Int, { description: 'Rows the error policy would have handled' }) errorRecords!: number;
  @Field(() => [String], { description: 'The first error messages' }) errors!: string[];
  @Field(() => [String], { description: 'What the automation logged (scripts: their output)' }) log!: string[];
  @Field(() => String, { nullable: true, description: 'SFTP imports: the remote file previewed' }) file!: string | null;
}
