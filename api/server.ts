import 'reflect-metadata';
import http from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import { expressMiddleware } from '@as-integrations/express5';
import type { GraphQLFormattedError } from 'graphql';
import type { EntityManager } from '@mikro-orm/knex';
import type { Orm } from '../core/db/orm.js';
import type { Logger } from 'pino';
import type { Config } from '../core/config.js';
import { coercionErrorField, domainErrorOf, domainExtensions } from './graphql/errors.js';
import { refuseDeepBodies, refuseLongOperationNames } from './graphql/body-depth.js';
import { refuseForeignHosts } from './http/request-hosts.js';
import { authenticate, httpExchange, principalOf, requireSession } from './http/authenticate.js';
import { accessPlugin } from './auth/access.js';
import { auditForbidden, auditMutations } from './audit/audited-mutations.js';
import { ensureFirstAdmin, type FirstAdmin } from './auth/first-admin.js';
import { createContext, requestSignal, type Context } from './graphql/context.js';
import { QUERY_LIMITS, formatQueryLimitError, queryCostPlugin, queryLimitRules } from './graphql/limits.js';
import { buildAppSchema } from './graphql/schema.js';
import { LineageStore } from './lineage/store.js';
import { describeLocation } from '../core/db/sql.js';
import type { Warehouse } from '../jobs/warehouse/warehouse.js';
import type { Scheduler } from '../jobs/scheduler/scheduler.js';
import { openRuntime } from '../jobs/runtime.js';
import { portabilityRoutes } from './http/portability.js';
import { openLineageRoutes } from './http/openlineage.js';
import { TokenScope } from '../core/enums.js';

/** This build's version (package.json), for export manifests. */
const PACKAGE_VERSION = (JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string }).version;

/** Largest request body accepted; script code may be up to 1 MB, JSON-escaped. */
const BODY_LIMIT = '4mb';
/** At most one eager catch-up of the lineage graph per this many ms when other writes are announced (PostgreSQL). */
const CATCH_UP_EVERY_MS = 100;

export interface RunningServer {
  url: string;
  port: number;
  orm: Orm;
  warehouse: Warehouse;
  scheduler: Scheduler;
  /** What start-up did about the first admin (api/auth/first-admin.ts). */
  firstAdmin: FirstAdmin;
  close(): Promise<void>;
}

export interface ServerOptions {
  config: Config;
  logger: Logger;
  /** Sealing key for secrets; defaults to TRIBUTARY_SECRET_KEY or the key file in DATA_DIR. */
  secretKey?: Buffer;
  onQuery?: (sql: string) => void;
  /** The built web UI (Vite's output); defaults to `web/dist` in this package. */
  webDist?: string;
  /** False: API only (`--no-jobs`), stateless; runs go to the workers (`npm run worker`). Default true. */
  runJobs?: boolean;
  /** `--demo`: on a database without users, a demo admin instead of a setup link. */
  demo?: boolean;
}

/** Where `npm run build:web` writes the web UI. */
export const WEB_DIST = fileURLToPath(new URL('../web/dist', import.meta.url));

/**
 * Keeps our own errors (they carry a code and a safe message) and GraphQL's request errors;
 * anything else is a bug: logged with its stack, shown to clients without internals.
 */
export function formatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const refused = formatQueryLimitError(formatted, error);
    if (refused) return refused;
    const domain = domainErrorOf(error);
    if (domain) return { message: domain.message, locations: formatted.locations, path: formatted.path, extensions: domainExtensions(domain) };
    // GraphQL's own variable errors name the input field in their message only; give it as ours do.
    if (formatted.extensions?.code === 'BAD_USER_INPUT' && formatted.extensions.field === undefined) {
      const field = coercionErrorField(formatted.message);
      return field ? { ...formatted, extensions: { ...formatted.extensions, field } } : formatted;
    }
    // Apollo gives every error that does not carry its own code INTERNAL_SERVER_ERROR.
    if (formatted.extensions?.code !== 'INTERNAL_SERVER_ERROR') return formatted;
    logger.error({ err: unwrapResolverError(error), path: formatted.path }, 'unexpected error while resolving a request');
    return { message: 'Internal server error', path: formatted.path, locations: formatted.locations, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** Opens the database (applying migrations), then serves `/graphql`, `/healthz` and the web UI. */
export async function startServer({ config, logger, secretKey, onQuery, webDist = WEB_DIST, runJobs = true, demo = false }: ServerOptions): Promise<RunningServer> {
  const lineage = new LineageStore({ staleAfterRuns: config.staleAfterRuns });
  let ormForEvents: Orm | undefined;
  let catchUpDue: NodeJS.Timeout | null = null;
  let closing: Promise<void> | undefined;
  const runtime = await openRuntime(config, logger, {
    secretKey,
    onQuery,
    runJobs,
    beforeScheduler: async (orm) => {
      ormForEvents = orm;
      await lineage.current(orm.em.fork() as EntityManager); // the graph before the first request
    },
    // A process changed the lineage (PostgreSQL): catch up soon rather than at the next request,
    // once per CATCH_UP_EVERY_MS under a stream of changes (a request needing the graph catches up itself).
    onLineageChanged: () => {
      if (!ormForEvents || catchUpDue) return;
      catchUpDue = setTimeout(() => {
        catchUpDue = null;
        if (closing) return;
        lineage.current(ormForEvents!.em.fork() as EntityManager).catch((error: unknown) => logger.warn({ err: error }, 'could not catch the lineage graph up'));
      }, CATCH_UP_EVERY_MS);
      catchUpDue.unref();
    },
  });
  const { orm, secrets, warehouse, sftpState, scheduler } = runtime;
  const app = express();
  app.disable('x-powered-by');
  const signIn = authenticate(orm.em as never, logger, config);
  app.use(refuseForeignHosts(config, logger));
  const httpServer = http.createServer(app);

  const schema = await buildAppSchema();
  auditMutations(schema, logger);
  const apollo = new ApolloServer<Context>({
    schema,
    csrfPrevention: true,
    stopOnTerminationSignals: false, // main.ts owns shutdown: drain, close the database, exit 0
    introspection: true,
    includeStacktraceInErrorResponses: false,
    formatError: formatError(logger),
    // Query limits (api/graphql/limits.ts): tokens while parsing, depth, aliases and directives
    // while validating, cost once the variables are known; all before anything executes.
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    validationRules: queryLimitRules(),
    // One operation per request: a JSON array of operations is refused (400), so the limits hold per request.
    allowBatchedHttpRequests: false,
    plugins: [
      accessPlugin<Context>({ onForbiddenMutation: (ctx, fields) => auditForbidden(ctx, logger, fields) }),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      queryCostPlugin<Context>({ lineageNodes: async () => (await lineage.current(orm.em.fork() as EntityManager)).size }),
    ],
  });
  await apollo.start();

  app.get('/healthz', async (_req, res) => {
    try {
      await orm.em.fork().getConnection().execute('select 1');
      res.json({ status: 'ok' });
    } catch (error) {
      logger.error({ err: error }, 'health check failed');
      res.status(503).json({ status: 'error', message: 'database unavailable' });
    }
  });
  app.use(
    '/graphql',
    express.json({ limit: BODY_LIMIT, verify: refuseDeepBodies }),
    refuseLongOperationNames,
    signIn,
    expressMiddleware(apollo, {
      context: async ({ req, res }) =>
        createContext({
          em: orm.em as never,
          secrets,
          lineage,
          warehouse,
          sftpState,
          scheduler,
          scripts: runtime.scripts,
          logger,
          signal: requestSignal(res),
          principal: principalOf(res),
          http: httpExchange(req, res, config),
        }),
    }),
  );
  app.use(portabilityRoutes({ em: orm.em as never, secrets, logger, version: PACKAGE_VERSION, warehouse, lineage, scheduler }, signIn));
  const naming = () => ({ namespace: config.openLineage.namespace, warehouse: warehouse.lineageNaming });
  const lineageWriter = authenticate(orm.em as never, logger, config, { scopes: [TokenScope.LINEAGE_WRITER] });
  app.use(openLineageRoutes({ em: orm.em as never, logger, lineage, naming }, { signIn, lineageWriter }));
  app.use(webApp(webDist, signIn));
  app.use(bodyErrors(logger));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const firstAdmin = await ensureFirstAdmin(orm.em.fork() as EntityManager, logger, { admin: config.admin, demo, baseUrl: config.publicUrl?.toString() ?? url });
  logger.info({ url, dataDir: config.dataDir, database: describeLocation(config.database), warehouse: describeLocation(config.warehouse), runsJobs: runJobs }, 'Tributary is listening');

  return {
    url,
    port,
    orm,
    warehouse,
    scheduler,
    firstAdmin,
    close: () =>
      (closing ??= (async () => {
        if (catchUpDue) clearTimeout(catchUpDue);
        await apollo.stop(); // drains in-flight requests, then closes the HTTP server
        await runtime.close(); // runs in flight are cancelled and roll back
      })()),
  };
}

/** Request-level failures (oversized or malformed JSON bodies) as GraphQL-shaped JSON, never an HTML stack page. */
function bodyErrors(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = typeof error?.status === 'number' ? error.status : 500;
    let message = 'Internal server error';
    let code = 'INTERNAL_SERVER_ERROR';
    if (error?.type === 'entity.too.deep') {
      message = error.message;
      code = 'BAD_USER_INPUT';
    } else if (error?.type === 'entity.too.large') {
      message = `request body is larger than the ${BODY_LIMIT} limit`;
      code = 'BAD_USER_INPUT';
    } else if (status >= 400 && status < 500) {
      message = `bad request: ${error.message}`;
      code = 'BAD_REQUEST';
    } else {
      logger.error({ err: error }, 'unexpected HTTP error');
    }
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
}

/**
 * The built web UI: static files from `webDist`, `/graphiql` its GraphiQL page, and index.html for
 * every other GET that asks for HTML (client routes). `/graphql` and `/healthz` never fall back.
 */
function webApp(webDist: string, signIn: express.RequestHandler): express.Router {
  const router = express.Router();
  const page = (file: string): express.RequestHandler => (req, res, next) => {
    if (!existsSync(join(webDist, file))) return notBuilt(res);
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(file, { root: webDist }, (error) => error && next(error));
  };
  router.use('/assets', express.static(join(webDist, 'assets'), { immutable: true, maxAge: '1y' }));
  router.get(['/graphiql', '/graphiql/'], signIn, requireSession, page('graphiql.html'));
  router.use(express.static(webDist, { index: false }));
  router.get('/{*path}', (req, res, next) => {
    const reserved = /^\/(graphql|healthz|api)(\/|$)/.test(req.path);
    const file = /\.[^/]+$/.test(req.path); // a missing asset is a 404, not the app
    if (reserved || file || !req.accepts('html')) return next();
    return page('index.html')(req, res, next);
  });
  return router;
}

function notBuilt(res: express.Response): void {
  res.status(503).type('text/plain').send('The Tributary web UI has not been built: run `npm run build:web` (npm start builds it when web/dist is missing or stale). The GraphQL API is at /graphql.\n');
}
