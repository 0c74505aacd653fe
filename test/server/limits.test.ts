/**
 * Query limits (api/graphql/limits.ts): the attacks that stalled or killed the server are refused
 * with QUERY_TOO_COMPLEX before anything executes, the server keeps answering meanwhile, and every
 * query the web UI sends still passes with room to spare.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kind, Lexer, Source, TokenKind, getIntrospectionQuery, getOperationAST, parse, print, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_LIMITS, queryCost } from '../../api/graphql/limits.js';
import { buildAppSchema } from '../../api/graphql/schema.js';
import { factories, type Ref } from '../factories/index.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.js';

const WEB_SRC = fileURLToPath(new URL('../../web/src', import.meta.url));

let t: TestServer;
let schema: GraphQLSchema;
let usersStorage: Ref;
let etl: Ref;

beforeAll(async () => {
  t = await startTestServer();
  schema = await buildAppSchema();
  // A datasource read by a few automations (four ETL steps, a script reading it and another
  // table), joined with another: every consumedBy → inputs level of the attacks fans out.
  const f = factories(t);
  usersStorage = await f.storage({ name: 'users-storage', columns: [{ name: 'id', type: 'integer' }, { name: 'email', type: 'text' }] });
  const customers = await f.storage({ name: 'customers' });
  for (let i = 0; i < 4; i++) etl = await f.etl(usersStorage, await f.storage());
  await f.script({ inputIds: [usersStorage.id, customers.id], outputIds: [(await f.storage()).id] });
  await f.join(usersStorage, customers);
});
afterAll(() => t.close());

/** POSTs a raw body to /graphql; answers the status, the parsed body and the time taken. */
async function post(body: unknown): Promise<{ status: number; body: GraphQLResponse; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as GraphQLResponse, ms: performance.now() - started };
}

/** The server answers /healthz and a small datasources query. */
async function stillServing(): Promise<void> {
  const health = await fetch(`${t.url}/healthz`);
  expect(health.status).toBe(200);
  const small = await t.ok(`{ datasources(first: 5) { nodes { id name } } }`);
  expect(small.datasources.nodes).toHaveLength(5);
}

/**
 * Sends `body` and, until it is answered (at most 200 rounds), checks the server keeps serving;
 * then once more after. Answers the refusal, which must be QUERY_TOO_COMPLEX with HTTP 400.
 */
async function refused(body: unknown) {
  let done = false;
  const attack = post(body).finally(() => (done = true));
  let rounds = 0;
  while (!done && rounds++ < 200) await stillServing();
  const { status, body: answer, ms } = await attack;
  await stillServing();
  expect(answer.data ?? undefined).toBeUndefined();
  expect(answer.errors).toHaveLength(1);
  const error = answer.errors![0]!;
  expect(error.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  expect(status).toBe(400);
  expect(ms).toBeLessThan(2_000);
  return error;
}

/** `datasource(id) { consumedBy { inputs { consumedBy … } } }` with `levels` nested lists. */
function recursiveQuery(levels: number): string {
  let selection = 'name';
  for (let i = levels - 1; i >= 0; i--) selection = `${i % 2 === 0 ? 'consumedBy' : 'inputs'} { id name ${selection} }`;
  return `query { datasource(id: "${usersStorage.id}") { ${selection} } }`;
}

describe('GraphQL query limits', () => {
  it('refuses the depth-10 consumedBy/inputs query before running it, and keeps serving', async () => {
    const query = recursiveQuery(10);
    expect(Buffer.byteLength(query)).toBeLessThan(400);
    const error = await refused({ query });
    expect(error.message).toBe(`Query depth limit of ${QUERY_LIMITS.maxDepth} exceeded, found 12.`);
    expect(error.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'maxDepth', max: QUERY_LIMITS.maxDepth, found: 12 });
  });

  it('refuses the 17-level query that ran the server out of memory', async () => {
    const error = await refused({ query: recursiveQuery(17) });
    expect(error.message).toMatch(/^Query depth limit of 8 exceeded, found 19\.$/);
  });

  it('counts the depth of fields through fragments, and only of fields', async () => {
    const fragments = `fragment A on Datasource { consumedBy { inputs { ...B } } }
      fragment B on Datasource { consumedBy { ... on EtlStep { inputs { consumedBy { ...C } } } } }
      fragment C on Automation { inputs { consumedBy { name } } }`;
    const error = await refused({ query: `query { datasource(id: "${usersStorage.id}") { ...A } } ${fragments}` });
    expect(error.message).toBe('Query depth limit of 8 exceeded, found 9.');
    // Eight levels (the limit) through a named fragment and inline ones pass.
    const eight = await post({
      query: `query { datasource(id: "${usersStorage.id}") { ...J } }
        fragment J on Datasource { join { left { ... on Datasource { consumedBy { ... on EtlStep { input { join { right { name } } } } } } } } }`,
    });
    expect(eight.body.errors).toBeUndefined();
  });

  it('answers a fragment bomb at once: each fragment is weighed once', async () => {
    // F4 spreads F3 sixty times, F3 spreads F2 sixty times, … : 60^4 paths through 5 fragments.
    const fragments = Array.from({ length: 5 }, (_, i) =>
      i === 0 ? 'fragment F0 on Query { datasources(first: 5) { nodes { id consumedBy { id } } } }' : `fragment F${i} on Query { ${`...F${i - 1} `.repeat(60)}}`,
    );
    const query = `{ ...F4 } ${fragments.join(' ')}`;
    const started = performance.now();
    const cost = queryCost(schema, parse(query), getOperationAST(parse(query))!, {}, { defaultListSize: 10 }).cost;
    expect(performance.now() - started).toBeLessThan(100);
    expect(cost).toBe(1 + 5 * (1 + 1 + 10 * 2));
    const { status, body, ms } = await post({ query });
    expect(body.errors).toBeUndefined();
    expect(status).toBe(200);
    expect(ms).toBeLessThan(2_000);
  });

  it('refuses 10,000 aliases of lineage at the token limit, while parsing', async () => {
    const query = `{ ${Array.from({ length: 10_000 }, (_, i) => `l${i}: lineage { nodes { id } }`).join(' ')} }`;
    const error = await refused({ query });
    expect(error.message).toBe(`Token limit of ${QUERY_LIMITS.maxTokens} exceeded: the document has more than ${QUERY_LIMITS.maxTokens} tokens.`);
    expect(error.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'maxTokens', max: QUERY_LIMITS.maxTokens });
  });

  it('refuses more than 20 aliases', async () => {
    const query = `{ ${Array.from({ length: 21 }, (_, i) => `l${i}: lineage { total }`).join(' ')} }`;
    const error = await refused({ query });
    expect(error.message).toBe('Aliases limit of 20 exceeded, found 21.');
    expect(error.extensions).toMatchObject({ limit: 'maxAliases', max: 20, found: 21 });
    const twenty = await post({ query: `{ ${Array.from({ length: 20 }, (_, i) => `l${i}: lineage { total }`).join(' ')} }` });
    expect(twenty.body.errors).toBeUndefined();
  });

  it('refuses a huge token count (a 1 MB document) without building it', async () => {
    const query = `{ ${'__typename '.repeat(100_000)}}`;
    const error = await refused({ query });
    expect(error.extensions?.limit).toBe('maxTokens');
  });

  it('refuses more than 20 directives', async () => {
    const query = `{ ${Array.from({ length: 21 }, () => '__typename @include(if: true)').join(' ')} }`;
    const error = await refused({ query });
    expect(error.message).toBe('Directives limit of 20 exceeded, found 21.');
    expect(error.extensions?.limit).toBe('maxDirectives');
  });

  it('refuses a wide fan-out of lists by its cost, counting first from variables', async () => {
    const query = `query ($first: Int) { datasources(first: $first) { nodes { consumedBy { inputs { consumedBy { name } } } } } }`;
    const error = await refused({ query, variables: { first: 500 } });
    expect(error.message).toMatch(/^Query cost limit of 260000 exceeded, found 1055501: every field counts once per item/);
    expect(error.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'maxCost', max: 260_000, found: 1_055_501 });
    // The same document with a small page is allowed (cost 5 × 2,111).
    const small = await post({ query, variables: { first: 5 } });
    expect(small.body.errors).toBeUndefined();
    expect(small.body.data.datasources.nodes).toHaveLength(5);
  });

  it('refuses the fan-out within the depth limit when the page size is the default', async () => {
    const query = `{ automations { edges { node { inputs { consumedBy { inputs { consumedBy { id } } } } } } } }`;
    const error = await refused({ query });
    expect(error.extensions).toMatchObject({ limit: 'maxCost' });
  });

  it('counts lineage lists by maxNodes, but no more than the graph holds', async () => {
    // Three aliases of 100,000 nodes would cost 412,506 (a lineage node costs 1, and 1/8 per
    // field); this graph has a dozen nodes.
    const lists = ['a', 'b', 'c'].map((alias) => `${alias}: lineage(maxNodes: 100000) { total nodes { id name type } }`).join(' ');
    const big = await post({ query: `{ ${lists} }` });
    expect(big.body.errors).toBeUndefined();
    expect(big.body.data.a.nodes.length).toBeGreaterThan(10);
  });

  it('refuses every field of 100,000 lineage nodes, though a field of a lineage node costs 1/8', async () => {
    const fields = 'nodes { id type name scheduled lastRunStatus state language tags producer } edges { source target kind declared observedAt stale }';
    const document = parse(`{ lineage(maxNodes: 100000) { total ${fields} } }`);
    // (1 + 9/8) + (1 + 6/8) per node, and the lineage field and its total.
    expect(queryCost(schema, document, getOperationAST(document)!, {}, { defaultListSize: QUERY_LIMITS.defaultListSize }).cost).toBe(387_502);
    const page = parse(`query ($max: Int) { lineage(maxNodes: $max) { total ${fields} } }`);
    expect(queryCost(schema, page, getOperationAST(page)!, { max: 20_000 }, { defaultListSize: QUERY_LIMITS.defaultListSize }).cost).toBe(77_502);
  });

  it('lets one request hold four previews, not five', async () => {
    const previews = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `p${i}: previewAutomation(id: "${etl.id}", sampleSize: 1) { errors }`).join(' ')} }`;
    const error = await refused({ query: previews(5) });
    expect(error.extensions).toMatchObject({ limit: 'maxCost', found: 260_005 });
    const four = await post({ query: previews(4) });
    expect(four.body.errors?.filter((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX') ?? []).toEqual([]);
  });

  it('refuses a mutation over a limit before it runs: nothing is written', async () => {
    const name = `limits-${randomUUID()}`;
    let nested = 'name';
    for (let i = 0; i < 8; i++) nested = `${i % 2 === 0 ? 'inputs' : 'consumedBy'} { ${nested} }`;
    const error = await refused({ query: `mutation { createDatasource(input: { name: "${name}", kind: STORAGE }) { ${nested} } }` });
    expect(error.extensions?.limit).toBe('maxDepth');
    expect((await t.ok(`query($name: String) { datasource(name: $name) { id } }`, { name })).datasource).toBeNull();
  });

  it("keeps GraphiQL's introspection query working and refuses circular introspection", async () => {
    const introspection = await post({ query: getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true }), operationName: 'IntrospectionQuery' });
    expect(introspection.status).toBe(200);
    expect(introspection.body.errors).toBeUndefined();
    expect(introspection.body.data.__schema.types.length).toBeGreaterThan(50);
    const full = await post({ query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true }) });
    expect(full.body.errors).toBeUndefined();

    const error = await refused({ query: '{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }' });
    expect(error.extensions).toMatchObject({ limit: 'maxIntrospectionDepth', max: 3 });
    expect(error.message).toMatch(/^Introspection depth limit of 3 exceeded/);
  });

  it('refuses a batch (a JSON array of operations) without running any of it', async () => {
    const name = `batched-${randomUUID()}`;
    const batch = [{ query: `mutation { createDatasource(input: { name: "${name}", kind: STORAGE }) { id } }` }, { query: '{ __typename }' }];
    const { status, body } = await post(batch);
    expect(status).toBe(400);
    expect(body.errors).toEqual([{ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } }]);
    expect((await t.ok(`query($name: String) { datasource(name: $name) { id } }`, { name })).datasource).toBeNull();
  });

  it('refuses an operationName over 256 characters instead of echoing it back', async () => {
    const long = 'x'.repeat(1_000_000);
    const { status, body } = await post({ query: 'query Small { __typename }', operationName: long });
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'operationName' });
    expect(JSON.stringify(body).length).toBeLessThan(1_000);
    expect((await post({ query: 'query Small { __typename }', operationName: 'Small' })).body.data).toEqual({ __typename: 'Query' });
    await stillServing();
  });

  it('still refuses a body over 4 MB', async () => {
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ ${'__typename '.repeat(500_000)}}` }) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as GraphQLResponse).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await stillServing();
  });
});

// --- The web UI's queries -------------------------------------------------------------------

/** Every `query …`/`mutation …` template literal in web/src, with its interpolations filled in every way that validates. */
function webDocuments(): { file: string; source: string; documents: DocumentNode[] }[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|svelte)$/.test(entry.name)) files.push(path);
    }
  };
  walk(WEB_SRC);
  const automationTs = readFileSync(join(WEB_SRC, 'automations/automation.ts'), 'utf8');
  const constants: Record<string, string> = {
    SETTINGS: /export const SETTINGS = `([^`]*)`/.exec(automationTs)![1]!,
    RUN: /const RUN = '([^']*)'/.exec(automationTs)![1]!,
  };
  const fills = ['datasources', 'automations', 'EtlStep', 'SftpImport', 'Script', 'ChainTask', 'runAutomation', 'pauseAutomation', 'stopAutomation', 'startAutomation'];
  for (const kind of ['EtlStep', 'SftpImport', 'Script', 'ChainTask']) fills.push(`create${kind}`, `update${kind}`);

  const found: { file: string; source: string; documents: DocumentNode[] }[] = [];
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/`(\s*(?:query|mutation)\b[^`]*)`/g)) {
      const source = match[1]!.replace(/\$\{(SETTINGS|RUN)\}/g, (_, name: string) => constants[name]!);
      const holes = [...new Set([...source.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
      let variants = [source];
      for (const hole of holes) variants = variants.flatMap((v) => fills.map((fill) => v.replaceAll(`\${${hole}}`, fill)));
      const documents = variants.flatMap((text) => {
        try {
          const document = parse(text);
          return validate(schema, document, specifiedRules).length === 0 ? [document] : [];
        } catch {
          return [];
        }
      });
      found.push({ file: file.slice(WEB_SRC.length + 1), source, documents });
    }
  }
  return found;
}

function tokens(text: string): number {
  const lexer = new Lexer(new Source(text));
  let n = 0;
  while (lexer.advance().kind !== TokenKind.EOF) n++;
  return n;
}

/** Depth, aliases and directives as graphql-armor counts them. */
function armorCounts(document: DocumentNode): { depth: number; aliases: number; directives: number } {
  const counts = { depth: 0, aliases: 0, directives: 0 };
  const onAccept = (key: keyof typeof counts) => [(_: unknown, { n }: { n: number }) => void (counts[key] = Math.max(counts[key], n))];
  validate(schema, document, [
    maxDepthRule({ n: 1_000, ignoreIntrospection: true, flattenFragments: true, onAccept: onAccept('depth') }),
    maxAliasesRule({ n: 1_000, onAccept: onAccept('aliases') }),
    maxDirectivesRule({ n: 1_000, onAccept: onAccept('directives') }),
  ]);
  return counts;
}

/** The largest values the UI sends: a 500-row page, the dataflow page's 20,000-node lineage. */
const WORST_VARIABLES = { first: 500, maxNodes: 20_000 };

describe("the web UI's queries", () => {
  it('are all found and stay at half the limits or less (a third for cost)', () => {
    const found = webDocuments();
    expect(found.length).toBeGreaterThanOrEqual(18);
    for (const { file, source, documents } of found) {
      expect(documents.length, `${file}: no valid document from ${source}`).toBeGreaterThan(0);
      for (const document of documents) {
        const { depth, aliases, directives } = armorCounts(document);
        const cost = queryCost(schema, document, getOperationAST(document)!, WORST_VARIABLES, { defaultListSize: QUERY_LIMITS.defaultListSize }).cost;
        const where = `${file}: ${source.slice(0, 80)}`;
        expect(depth, where).toBeLessThanOrEqual(QUERY_LIMITS.maxDepth / 2);
        expect(aliases, where).toBeLessThanOrEqual(QUERY_LIMITS.maxAliases / 2);
        expect(directives, where).toBeLessThanOrEqual(QUERY_LIMITS.maxDirectives / 2);
        expect(tokens(source), where).toBeLessThanOrEqual(QUERY_LIMITS.maxTokens / 4);
        expect(cost, where).toBeLessThanOrEqual(QUERY_LIMITS.maxCost / 3);
      }
    }
  });

  it('pass the server with their largest variables', async () => {
    const ids: Record<string, string> = { datasource: usersStorage.id, rows: usersStorage.id, automation: etl.id, previewAutomation: etl.id, run: randomUUID() };
    let sent = 0;
    for (const { file, documents } of webDocuments()) {
      for (const document of documents) {
        const operation = getOperationAST(document)!;
        if (operation.operation !== 'query') continue;
        const root = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
        const rootName = root?.kind === Kind.FIELD ? root.name.value : '';
        const variables: Record<string, unknown> = {};
        for (const definition of operation.variableDefinitions ?? []) {
          const name = definition.variable.name.value;
          if (name === 'id') variables.id = ids[rootName] ?? usersStorage.id;
          else if (name === 'first') variables.first = WORST_VARIABLES.first;
          else if (name === 'maxNodes') variables.maxNodes = WORST_VARIABLES.maxNodes;
          else if (name === 'filter') variables.filter = { scheduledOnly: false };
          else if (name === 'cron') variables.cron = '0 1 * * *';
          else if (print(definition.type) === 'ID!') variables[name] = randomUUID(); // another object's id (versionDiff's from and to): unknown is fine
          else if (print(definition.type) === 'DateTime!') variables[name] = new Date(Date.now() - (name === 'from' ? 7 * 86_400_000 : 0)).toISOString(); // the widest range every statistic takes
        }
        const { status, body } = await post({ query: source(document), variables });
        const refusals = (body.errors ?? []).filter((e) => e.extensions?.code === 'QUERY_TOO_COMPLEX');
        expect(refusals, `${file} ${rootName}`).toEqual([]);
        expect(status, `${file} ${rootName}`).toBe(200);
        sent++;
      }
    }
    expect(sent).toBeGreaterThanOrEqual(10);
  });
});

function source(document: DocumentNode): string {
  return document.loc!.source.body;
}
