import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadConfig } from '../../core/config.js';
import { startServer, type RunningServer } from '../../api/server.js';
import { backendEnv } from './postgres.js';
import { addTestUser, TEST_ADMIN_EMAIL, type TestUser } from './auth.js';
import { Role } from '../../core/enums.js';
import { UserAccount } from '../../core/db/entities/index.js';

export interface GraphQLErrorShape {
  message: string;
  path?: string[];
  extensions?: { code?: string; field?: string; dependents?: { id: string; name: string; type: string; reason: string }[] } & Record<string, unknown>;
}

export interface GraphQLResponse<T = any> {
  data?: T | null;
  errors?: GraphQLErrorShape[];
}

export interface TestServer {
  url: string;
  dataDir: string;
  /** The database settings of its backend (empty on SQLite): give them with DATA_DIR to a server that shares this one's data. */
  backendEnv: Record<string, string>;
  /** The first FILE_ROOTS directory (default DATA_DIR/files): where FILE datasources may read. */
  filesDir: string;
  server: RunningServer;
  /** Every SQL statement sent since the last reset. */
  queries: string[];
  /** Log records (parsed pino JSON) written by the server. */
  logs: Record<string, any>[];
  /** The admin the helper signs in as (an API token of theirs authenticates `gql`, `ok` and `fail`). */
  admin: TestUser;
  /** `Authorization` of the admin's token, for requests made with fetch: `{ ...t.auth, 'content-type': … }`. */
  auth: Record<string, string>;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  /** Runs an operation that must succeed and returns its data. */
  ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Runs an operation that must fail and returns its first error. */
  fail(query: string, variables?: Record<string, unknown>): Promise<GraphQLErrorShape>;
  /** A client with other credentials: an API token, a `Cookie` header (`tributary_session=…`), or none. */
  as(credential: { token: string } | { cookie: string } | null): GraphQLClient;
  /** A new user of this role (password TEST_PASSWORD) with an API token. */
  addUser(role: Role, email?: string): Promise<TestUser>;
  close(): Promise<void>;
}

export interface GraphQLClient {
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>>;
  ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  fail(query: string, variables?: Record<string, unknown>): Promise<GraphQLErrorShape>;
}

type Credential = { token: string } | { cookie: string } | null;

function headersFor(credential: Credential): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (credential && 'token' in credential) headers.authorization = `Bearer ${credential.token}`;
  if (credential && 'cookie' in credential) headers.cookie = credential.cookie;
  return headers;
}

/** A GraphQL client of the server at `url` sending `credential`. */
export function graphqlClient(url: string, credential: Credential): GraphQLClient {
  const gql = async <T>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<T>> => {
    const response = await fetch(`${url}/graphql`, { method: 'POST', headers: headersFor(credential), body: JSON.stringify({ query, variables }) });
    return (await response.json()) as GraphQLResponse<T>;
  };
  return {
    gql,
    async ok<T>(query: string, variables?: Record<string, unknown>) {
      const result = await gql<T>(query, variables);
      if (result.errors?.length) throw new Error(`unexpected GraphQL errors: ${JSON.stringify(result.errors, null, 2)}`);
      return result.data as T;
    },
    async fail(query: string, variables?: Record<string, unknown>) {
      const result = await gql(query, variables);
      if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
      return result.errors[0]!;
    },
  };
}

export const TEST_SECRET_KEY = Buffer.alloc(32, 7);

/**
 * Starts the real server on port 0 over a fresh data dir in a temp dir: SQLite files there, or
 * with TRIBUTARY_TEST_BACKEND=postgres a fresh PostgreSQL database (dropped by close()).
 */
export async function startTestServer(env: Record<string, string> = {}, options: { webDist?: string } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-test-'));
  // A server sharing another's DATA_DIR and database (DATABASE_URL given) creates none of its own.
  const backend = env.DATABASE_URL ? { env: {}, drop: async () => undefined } : await backendEnv();
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info', ...backend.env, ...env });
  const logs: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const queries: string[] = [];
  const server = await startServer({ config, logger: pino({ level: 'info' }, sink), secretKey: TEST_SECRET_KEY, onQuery: (sql) => queries.push(sql), webDist: options.webDist });

  // A server sharing another's database (DATA_DIR or DATABASE_URL given) finds that one's admin there: it makes one of its own.
  const shared = (await server.orm.em.fork().count(UserAccount, { email: TEST_ADMIN_EMAIL })) > 0;
  const admin = await addTestUser(server.orm, Role.ADMIN, shared ? undefined : TEST_ADMIN_EMAIL);
  const client = graphqlClient(server.url, { token: admin.token });

  return {
    url: server.url,
    dataDir,
    backendEnv: backend.env,
    filesDir: config.fileRoots[0]!,
    server,
    queries,
    logs,
    admin,
    auth: { authorization: `Bearer ${admin.token}` },
    ...client,
    as: (credential) => graphqlClient(server.url, credential),
    addUser: (role, email) => addTestUser(server.orm, role, email),
    async close() {
      const started = Date.now();
      await server.close();
      const closed = Date.now();
      rmSync(dataDir, { recursive: true, force: true });
      await backend.drop();
      // Slow teardowns have timed out e2e hooks: say which part was slow.
      if (Date.now() - started > 15_000) console.warn(`test server close took ${closed - started} ms, then ${Date.now() - closed} ms to drop its data and database`);
    },
  };
}
