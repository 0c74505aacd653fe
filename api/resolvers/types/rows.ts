import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { PageInfo } from '../../graphql/connection.js';

@ObjectType('RowConnection', { description: "A page of a datasource's rows" })
export class RowConnectionObject {
  @Field(() => [String], { description: 'Column names, in order' }) columns!: string[];
  @Field(() => [GraphQLJSON], { description: 'One JSON object per row, keyed by column' }) nodes!: Record<string, unknown>[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  @Field(() => Int, { nullable: true, description: 'Rows after the last write (null while unknown)' }) totalCount!: number | null;
}
