import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';

@ObjectType('DataSample', { description: 'Rows of one datasource in a preview' })
export class DataSampleObject {
  datasourceId!: string;
  @Field(() => [String]) columns!: string[];
  @Field(() => [GraphQLJSON]) rows!: Record<string, unknown>[];
  @Field(() => Boolean, { description: 'True when rows were left out to keep the answer within its caps (1,000 output rows; 4 MB of row data per preview)' })
  truncated!: boolean;
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

@InputType('PreviewDraftInput', { description: 'Unsaved edits to preview with, checked as saving would check them' })
export class PreviewDraftInput {
  @Field(() => GraphQLJSON, { nullable: true, description: 'ETL steps: the transform to preview instead of the saved one' }) transform?: Record<string, unknown> | null;
  @Field(() => String, { nullable: true, description: 'Scripts: the code to preview instead of the saved code' }) code?: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'Scripts: the runtime variables to preview with' }) variables?: Record<string, unknown> | null;
}
