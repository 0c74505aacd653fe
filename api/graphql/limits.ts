/**
 * Limits that refuse a GraphQL request before anything of it executes (ARCHITECTURE.md: "No
 * request can stall the server"). Every refusal is a `QUERY_TOO_COMPLEX` error (HTTP 400) whose
 * message names the limit, its value and what the request had; `extensions` carry `limit`,
 * `max` and, when known, `found`.
 *
 * - tokens: graphql-js's own parser stops at `maxTokens` (Apollo's `parseOptions`), so a huge
 *   document is never turned into a tree. graphql-armor's max-tokens plugin wraps the same parser,
 *   but in Apollo it parses the source a second time in a `parsingDidStart` hook, where a thrown
 *   error becomes a logged 500 rather than a 400.
 * - depth, aliases, directives: graphql-armor's validation rules (run once per distinct document;
 *   Apollo keeps validated documents). Depth skips `__schema`, so GraphiQL's introspection query
 *   (15 fields deep, mostly `ofType { ofType … }`) passes; the cost limit below still counts it,
 *   and graphql-js's own MaxIntrospectionDepthRule (one of its specified rules, reported here as
 *   QUERY_TOO_COMPLEX too) refuses circular introspection such as `types { fields { type { fields … `.
 * - cost: our own rule, see {@link queryCost}. graphql-armor's cost-limit gives every field a fixed
 *   cost and multiplies only by a literal `first:`; a list without such an argument costs as a
 *   single object. That misses exactly the attacks on this schema: `consumedBy { inputs {
 *   consumedBy … } }` nests plain lists, and the web UI passes `first` and `maxNodes` as variables.
 *   So the cost is computed once the operation and its variables are known (Apollo's
 *   `didResolveOperation`, still before execution).
 */
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { DEFAULT_MAX_NODES, MAX_MAX_NODES } from '../lineage/query.js';
import { LIMITS } from '../../core/validation.js';
import { DEFAULT_PAGE_SIZE } from '../../core/paging.js';

export interface QueryLimits {
  /** Fields nested in one operation, through fragments (a leaf under `datasource { consumedBy { … } }` is at depth 3). */
  maxDepth: number;
  /** Aliased fields in one operation (`__typename` aliases are free). */
  maxAliases: number;
  /** Directives (`@include`, `@skip`, …) in one operation. */
  maxDirectives: number;
  /** Lexical tokens in the whole document. */
  maxTokens: number;
  /** Estimated fields resolved, see {@link queryCost}. */
  maxCost: number;
  /** How many items a list without a size argument is assumed to hold. */
  defaultListSize: number;
}

/**
 * Every query of the web UI stays at half these or less (test/server/limits.test.ts reads them
 * from web/src): depth 4 at most, no alias, no directive, 130 tokens at most; the biggest costs
 * are the dataflow page's lineage query, 16 per node (80,003 at its 5,000-node cap, under a third of
 * maxCost), the automation form's preview (52,104) and a 500-row datasource list (13,505).
 * GraphiQL's introspection query has 181 tokens and costs 53,291.
 */
export const QUERY_LIMITS: QueryLimits = {
  maxDepth: 8,
  maxAliases: 20,
  maxDirectives: 20,
  maxTokens: 2_000,
  maxCost: 260_000,
  defaultListSize: 10,
};

export type QueryLimitName = 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxTokens' | 'maxCost' | 'maxIntrospectionDepth';

/** graphql-js's MaxIntrospectionDepthRule: `fields`, `interfaces`, `possibleTypes` and `inputFields` nest at most this deep in introspection. */
const MAX_INTROSPECTION_LISTS_DEPTH = 3;

/** A request refused by one of the {@link QueryLimits}, before execution. */
export class QueryTooComplexError extends GraphQLError {
  constructor(message: string, readonly limit: QueryLimitName, readonly max: number, readonly found?: number) {
    super(message, { extensions: { code: 'QUERY_TOO_COMPLEX', limit, max, ...(found === undefined ? {} : { found }), http: { status: 400 } } });
  }
}

/**
 * graphql-armor's depth, alias and directive rules; a refusal is reported as a
 * {@link QueryTooComplexError} carrying armor's message ("Query depth limit of 8 exceeded, found 10.").
 */
export function queryLimitRules(limits: QueryLimits = QUERY_LIMITS): ValidationRule[] {
  const report = (limit: QueryLimitName, max: number) => (context: ValidationContext | null, error: GraphQLError) => {
    const message = error.message.replace(/^Syntax Error: /, '');
    const found = /found (\d+)/.exec(message)?.[1];
    context?.reportError(new QueryTooComplexError(message, limit, max, found === undefined ? undefined : Number(found)));
  };
  const common = { exposeLimits: true, propagateOnRejection: false };
  return [
    // flattenFragments: the depth is how deep fields nest, however the document groups them (armor
    // otherwise adds two levels per named fragment, one per inline fragment).
    maxDepthRule({ ...common, n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, onReject: [report('maxDepth', limits.maxDepth)] }),
    maxAliasesRule({ ...common, n: limits.maxAliases, onReject: [report('maxAliases', limits.maxAliases)] }),
    maxDirectivesRule({ ...common, n: limits.maxDirectives, onReject: [report('maxDirectives', limits.maxDirectives)] }),
  ];
}

/** Arguments that bound the lists a field returns: connections by `first`, the lineage graph by `maxNodes`. */
const SIZE_ARGUMENTS: Record<string, { fallback: number; max: number }> = {
  first: { fallback: DEFAULT_PAGE_SIZE, max: LIMITS.pageSize },
  maxNodes: { fallback: DEFAULT_MAX_NODES, max: MAX_MAX_NODES },
};

/**
 * Fields that do far more work than their answer's size says, with the cost of one call. A preview
 * runs the automation on a sample (an SQL query on the warehouse, a script in the sandbox, an SFTP
 * download): 52,000 lets one request hold four of them, not twenty aliased ones.
 */
const FIELD_WEIGHTS: Record<string, number> = {
  'Query.previewAutomation': 52_000,
  // A received event as sent, up to 4 MB: a page of 50 is the most one request reads.
  'OpenLineageEvent.payload': 4_000,
};

/**
 * Types answered from objects the server already holds in memory (the lineage graph): their leaf
 * fields are property reads, not resolvers, so each counts FLAT_LEAF_COST; the answer still grows
 * with every field asked. The Dataflow page's 20,000 nodes then cost 75,003, not 320,003, and a
 * whole 100,000-node graph with every field stays refused.
 */
const FLAT_TYPES = new Set(['LineageNode', 'LineageEdge']);
const FLAT_LEAF_COST = 1 / 8;

export interface CostOptions {
  defaultListSize: number;
  /** Nodes in the lineage graph: `maxNodes` counts as no more than this when given. */
  lineageNodes?: number;
}

/**
 * An estimate, from the document alone, of how many fields executing `operation` resolves: every
 * field counts 1 (a {@link FIELD_WEIGHTS} field its weight, a leaf of a {@link FLAT_TYPES} type 1/8),
 * times the size of every list around it.
 * A list's size is the `first` (connections: default 50, at most 500) or `maxNodes` (lineage:
 * default 5,000, at most the graph's node count) argument of the field that returns it or of its
 * parent connection, literal or variable; any other list of objects counts as `defaultListSize`.
 * Lists of scalars (tags, log lines) count 1, one resolver call, unless a size argument bounds
 * them (a page of `rows` counts each row). Branches of inline fragments and fields under
 * `@skip`/`@include` all count, so the estimate errs high.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  options: CostOptions,
): { cost: number; sized: boolean } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let sized = false;

  const sizeOf = (node: FieldNode, field: GraphQLField<unknown, unknown>): number | undefined => {
    for (const arg of field.args) {
      const bounds = SIZE_ARGUMENTS[arg.name];
      if (!bounds) continue;
      const given = argumentValue(node.arguments?.find((a) => a.name.value === arg.name)?.value, arg, variables);
      let size = typeof given === 'number' && Number.isFinite(given) ? Math.max(0, Math.min(Math.trunc(given), bounds.max)) : bounds.fallback;
      if (arg.name === 'maxNodes') {
        sized = true;
        if (options.lineageNodes !== undefined) size = Math.min(size, options.lineageNodes);
      }
      return size;
    }
    return undefined;
  };

  // A fragment's cost is computed once per list size around it: a document spreading fragments
  // into fragments many times over ("fragment bomb") costs a walk of each fragment, not of every
  // spread. Validation already refused fragment cycles; `active` only keeps a bug from looping.
  const fragmentCosts = new Map<string, number>();
  const active = new Set<string>();
  const selectionCost = (set: SelectionSetNode, parent: GraphQLCompositeType, parentSize: number | undefined): number => {
    let total = 0;
    // The same fragment spread twice in one selection is executed once (its fields merge).
    const spread = new Set<string>();
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = fieldDefinition(schema, parent, selection.name.value);
        if (!field) continue;
        const size = sizeOf(selection, field);
        const named = getNamedType(field.type);
        let cost = FIELD_WEIGHTS[`${parent.name}.${field.name}`] ?? (FLAT_TYPES.has(parent.name) && isLeafType(named) ? FLAT_LEAF_COST : 1);
        if (selection.selectionSet && isCompositeType(named)) cost += selectionCost(selection.selectionSet, named, size);
        if (returnsList(field)) {
          const listSize = size ?? parentSize;
          if (!isLeafType(named)) cost *= listSize ?? options.defaultListSize;
          else if (listSize !== undefined) cost *= listSize;
        }
        total += cost;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) total += selectionCost(selection.selectionSet, type, parentSize);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        const type = fragment && schema.getType(fragment.typeCondition.name.value);
        if (!fragment || !type || !isCompositeType(type) || active.has(name) || spread.has(name)) continue;
        spread.add(name);
        const key = `${name}:${parentSize ?? ''}`;
        let cost = fragmentCosts.get(key);
        if (cost === undefined) {
          active.add(name);
          cost = selectionCost(fragment.selectionSet, type, parentSize);
          active.delete(name);
          fragmentCosts.set(key, cost);
        }
        total += cost;
      }
    }
    return total;
  };

  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  const cost = root ? Math.ceil(selectionCost(operation.selectionSet, root, undefined)) : 0;
  return { cost, sized };
}

function fieldDefinition(schema: GraphQLSchema, parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (parent === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
}

function returnsList(field: GraphQLField<unknown, unknown>): boolean {
  return isListType(getNullableType(field.type));
}

/** An argument's value as given (literal or variable), else its default; undefined when neither. */
function argumentValue(node: ValueNode | undefined, arg: GraphQLArgument, variables: Record<string, unknown> | undefined): unknown {
  if (node?.kind === Kind.INT) return Number.parseInt(node.value, 10);
  if (node?.kind === Kind.VARIABLE) {
    const value = variables?.[node.name.value];
    if (value !== undefined && value !== null) return value;
  }
  return arg.defaultValue;
}

/**
 * Refuses, before execution, an operation whose {@link queryCost} is over `maxCost`. When the
 * estimate is over and counted a `maxNodes`, it is made again with the lineage graph's real size
 * (one cheap read), so asking for up to 100,000 nodes of a small graph stays allowed.
 */
export function queryCostPlugin<TContext extends object>(options: {
  limits?: QueryLimits;
  lineageNodes?: () => Promise<number>;
}): ApolloServerPlugin<TContext> {
  const limits = options.limits ?? QUERY_LIMITS;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }: GraphQLRequestContextDidResolveOperation<TContext>) {
          if (!operation) return;
          const variables = request.variables as Record<string, unknown> | undefined;
          let { cost, sized } = queryCost(schema, document, operation, variables, { defaultListSize: limits.defaultListSize });
          if (cost > limits.maxCost && sized && options.lineageNodes) {
            const lineageNodes = await options.lineageNodes();
            ({ cost } = queryCost(schema, document, operation, variables, { defaultListSize: limits.defaultListSize, lineageNodes }));
          }
          if (cost > limits.maxCost) {
            throw new QueryTooComplexError(
              `Query cost limit of ${limits.maxCost} exceeded, found ${cost}: every field counts once per item of the lists around it ` +
                `(a connection's first, the lineage's maxNodes, ${limits.defaultListSize} for other lists); ask for fewer fields, fewer items or less nesting.`,
              'maxCost',
              limits.maxCost,
              cost,
            );
          }
        },
      };
    },
  };
}

/**
 * The client's view of a refusal: our {@link QueryTooComplexError} (Apollo re-codes validation
 * errors GRAPHQL_VALIDATION_FAILED; the original is kept), graphql-js's token limit (a parse
 * error) and its introspection depth rule. Undefined for every other error.
 */
export function formatQueryLimitError(formatted: GraphQLFormattedError, error: unknown, limits: QueryLimits = QUERY_LIMITS): GraphQLFormattedError | undefined {
  const original = error instanceof QueryTooComplexError ? error : error instanceof GraphQLError && error.originalError instanceof QueryTooComplexError ? error.originalError : undefined;
  if (original) {
    const { limit, max, found } = original;
    return { message: original.message, locations: formatted.locations, extensions: { code: 'QUERY_TOO_COMPLEX', limit, max, ...(found === undefined ? {} : { found }) } };
  }
  if (formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED' && /Document contains more tha[nt] \d+ tokens/.test(formatted.message)) {
    return {
      message: `Token limit of ${limits.maxTokens} exceeded: the document has more than ${limits.maxTokens} tokens.`,
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'maxTokens', max: limits.maxTokens },
    };
  }
  if (formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && formatted.message === 'Maximum introspection depth exceeded') {
    return {
      message: `Introspection depth limit of ${MAX_INTROSPECTION_LISTS_DEPTH} exceeded: fields, interfaces, possibleTypes and inputFields may nest at most ${MAX_INTROSPECTION_LISTS_DEPTH} deep.`,
      locations: formatted.locations,
      extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'maxIntrospectionDepth', max: MAX_INTROSPECTION_LISTS_DEPTH },
    };
  }
  return undefined;
}
