import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import type { Page, PageInfo as PageInfoShape } from '../../core/paging.js';

@ObjectType('PageInfo')
export class PageInfo implements PageInfoShape {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => Boolean) hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true }) startCursor!: string | null;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

/** Builds the `<Name>Connection` and `<Name>Edge` GraphQL types for a node type. */
export function connectionType<T extends object>(name: string, nodeType: ClassType<T> | Function) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String) cursor!: string;
    @Field(() => nodeType) node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection implements Page<T> {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => [nodeType], { description: 'The nodes of the edges, for clients that do not need cursors' }) nodes!: T[];
    @Field(() => PageInfo) pageInfo!: PageInfo;
    @Field(() => Int, { description: 'Number of items matching the filter, over all pages' }) totalCount!: number;
  }
  return Connection;
}
