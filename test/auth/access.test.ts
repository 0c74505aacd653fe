/**
 * Roles against every root field: each query and mutation of the schema has a rule in
 * api/auth/access.ts (a new one without a rule fails here), and each is refused below its rule,
 * UNAUTHENTICATED without credentials and FORBIDDEN (naming the role needed) for a role too low,
 * before anything runs: the counts of every table are the same afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getNamedType, isObjectType, isInterfaceType, isUnionType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { buildAppSchema } from '../../api/graphql/schema.js';
import { ACCESS, PUBLIC, SESSION_ONLY, SIGNED_IN, type Access } from '../../api/auth/access.js';
import { Role } from '../../core/enums.js';
import { METADATA_TABLES } from '../../jobs/migration/copy-metadata.js';
import { startTestServer, type GraphQLClient, type TestServer } from '../helpers/server.js';
import { signIn, type TestUser } from '../helpers/auth.js';

let t: TestServer;
let schema: GraphQLSchema;
let viewer: TestUser;
let editor: TestUser;

beforeAll(async () => {
  schema = await buildAppSchema();
  t = await startTestServer();
  viewer = await t.addUser(Role.VIEWER);
  editor = await t.addUser(Role.EDITOR);
  await t.ok(`mutation { createDatasource(input: { name: "present", kind: STORAGE }) { id } }`);
}, 60_000);
afterAll(() => t?.close());

/** An operation calling `field` with every argument as a variable (never sent: the refusal comes first). */
function operationFor(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const variables = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const type = getNamedType(field.type);
  const selection = isObjectType(type) || isInterfaceType(type) || isUnionType(type) ? ' { __typename }' : '';
  return `${kind}${variables ? `(${variables})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

async function tableCounts(): Promise<Record<string, number>> {
  const connection = t.server.orm.em.fork().getConnection();
  const counts: Record<string, number> = {};
  // The audit log is the one table a refusal writes to (checked on its own below); sessions come
  // and go as the callers sign in and out.
  for (const { table } of METADATA_TABLES.filter((t) => !['audit_event', 'user_session'].includes(t.table))) counts[table] = Number((await connection.execute<{ n: number }[]>(`select count(*) as n from ${table}`))[0]!.n);
  return counts;
}

const RANK: Record<Access, number> = { [PUBLIC]: 0, [SIGNED_IN]: 1, [Role.VIEWER]: 1, [Role.EDITOR]: 2, [Role.ADMIN]: 3 };

describe('access rules', () => {
  it('name every query and mutation of the schema, and nothing else', () => {
    expect(Object.keys(ACCESS.Query).sort()).toEqual(Object.keys(schema.getQueryType()!.getFields()).sort());
    expect(Object.keys(ACCESS.Mutation).sort()).toEqual(Object.keys(schema.getMutationType()!.getFields()).sort());
  });

  it('refuse each root field below its rule, before it runs, and let each role at its rule through', { timeout: 120_000 }, async () => {
    // Signed in with a session each (an API token may do less: see the next test).
    const callers: { name: string; rank: number; email?: string; client: GraphQLClient }[] = [
      { name: 'nobody', rank: 0, client: t.as(null) },
      { name: 'viewer', rank: 1, email: viewer.email, client: t.as({ cookie: await signIn(t.url, viewer.email) }) },
      { name: 'editor', rank: 2, email: editor.email, client: t.as({ cookie: await signIn(t.url, editor.email) }) },
      { name: 'admin', rank: 3, email: t.admin.email, client: t.as({ cookie: await signIn(t.url, t.admin.email) }) },
    ];
    const before = await tableCounts();
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const kind of ['query', 'mutation'] as const) {
      const fields = (kind === 'query' ? schema.getQueryType()! : schema.getMutationType()!).getFields();
      // Signing out ends the callers' sessions: those two go last, each with fresh sessions.
      const last = ['logout', 'logoutEverywhere'];
      for (const field of Object.values(fields).sort((a, b) => Number(last.includes(a.name)) - Number(last.includes(b.name)))) {
        if (last.includes(field.name)) {
          for (const caller of callers.slice(1)) caller.client = t.as({ cookie: await signIn(t.url, caller.email!) });
        }
        const rule = (kind === 'query' ? ACCESS.Query : ACCESS.Mutation)[field.name]!;
        for (const caller of callers) {
          // Arguments are left out: a call the rules let through fails on them (BAD_USER_INPUT), not on access.
          const { errors } = await caller.client.gql(operationFor(kind, field));
          const code = errors?.[0]?.extensions?.code;
          const refused = code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' ? code : 'let through';
          outcomes.push(`${field.name} as ${caller.name}: ${refused}`);
          const want = caller.rank >= RANK[rule] ? 'let through' : caller.rank === 0 ? 'UNAUTHENTICATED' : 'FORBIDDEN';
          expected.push(`${field.name} as ${caller.name}: ${want}`);
          if (want === 'FORBIDDEN') expect({ field: field.name, caller: caller.name, requiredRole: errors?.[0]?.extensions?.requiredRole }).toEqual({ field: field.name, caller: caller.name, requiredRole: rule });
        }
      }
    }
    expect(outcomes).toEqual(expected);
    expect(await tableCounts()).toEqual(before);
    // Each mutation refused to a signed-in caller is in the audit log, as FORBIDDEN, with who tried.
    const forbidden = expected.filter((line) => line.endsWith('FORBIDDEN') && Object.hasOwn(ACCESS.Mutation, line.split(' ')[0]!));
    const { auditLog } = await t.ok('{ auditLog(first: 500) { nodes { action actorEmail outcome errorCode } } }');
    const logged = auditLog.nodes.filter((e: { errorCode: string | null }) => e.errorCode === 'FORBIDDEN');
    expect(logged).toHaveLength(forbidden.length);
    expect(logged).toContainEqual({ action: 'createUser', actorEmail: editor.email, outcome: 'REFUSED', errorCode: 'FORBIDDEN' });
  });

  it('keep managing tokens, users and passwords to signed-in people: an admin’s API token is refused them', async () => {
    const asToken = t.as({ token: t.admin.token });
    for (const field of SESSION_ONLY) {
      const operation = operationFor('mutation', schema.getMutationType()!.getFields()[field]!);
      const error = await asToken.fail(operation);
      expect({ field, code: error.extensions?.code, message: error.message }).toEqual({ field, code: 'FORBIDDEN', message: `${field} needs a signed-in session: an API token cannot manage tokens, users or passwords` });
    }
    // What it is for, it may do.
    expect((await asToken.ok('{ users { email } }')).users.length).toBeGreaterThan(0);
  });

  it('refuse an editor mutation to a viewer with a message naming the role, with valid arguments, writing nothing', async () => {
    const viewerClient = t.as({ token: viewer.token });
    const error = await viewerClient.fail(`mutation { createDatasource(input: { name: "by-viewer", kind: STORAGE }) { id } }`);
    expect(error).toMatchObject({ message: 'createDatasource needs the EDITOR role; this token has VIEWER', extensions: { code: 'FORBIDDEN', requiredRole: 'EDITOR' } });
    expect((await t.ok(`{ datasource(name: "by-viewer") { id } }`)).datasource).toBeNull();
    // Hidden behind a fragment or an alias, it is the same field.
    const hidden = await viewerClient.fail(`mutation { ...M } fragment M on Mutation { x: createDatasource(input: { name: "by-viewer", kind: STORAGE }) { id } }`);
    expect(hidden.extensions?.code).toBe('FORBIDDEN');
    expect((await t.ok(`{ datasource(name: "by-viewer") { id } }`)).datasource).toBeNull();
    // A viewer reads.
    expect((await viewerClient.ok(`{ datasource(name: "present") { name } }`)).datasource).toEqual({ name: 'present' });
  });

  it('refuse introspection without a session, with 401', async () => {
    const response = await fetch(`${t.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) });
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect((await t.as({ token: viewer.token }).ok('{ __schema { queryType { name } } }')).__schema.queryType.name).toBe('Query');
  });

  it('send GraphiQL to the login page without a session', async () => {
    const response = await fetch(`${t.url}/graphiql`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/login?next=%2Fgraphiql');
  });
});
