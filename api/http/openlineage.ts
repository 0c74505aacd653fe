import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import { Role } from '../../core/enums.js';
import { roleAllows, type Principal } from '../../core/auth/roles.js';
import { BadUserInputError, DomainError } from '../../core/errors.js';
import type { NamingContext } from '../../jobs/openlineage/naming.js';
import type { LineageStore } from '../lineage/store.js';
import { refuseDeepBodies } from '../graphql/body-depth.js';
import { parseOpenLineageEvent } from '../openlineage/validate.js';
import { datasetCount, incomingOf, type Incoming } from '../openlineage/receive.js';
import { EventIntake } from '../openlineage/intake.js';
import { marquezLineage } from '../openlineage/marquez.js';
import { principalOf } from './authenticate.js';

export interface OpenLineageDeps {
  em: EntityManager;
  logger: Logger;
  lineage: LineageStore;
  naming: () => NamingContext;
}

/** One event's body; the OpenLineage clients send one event per request. */
const EVENT_BODY_LIMIT = '4mb';
/** A batch's body (after gzip is undone) and its number of events. */
const BATCH_BODY_LIMIT = '32mb';
export const MAX_BATCH_EVENTS = 1_000;
/** Datasets a batch may name in all (each is looked up, and made when new): bounds one request's work. */
export const MAX_BATCH_DATASETS = 10_000;

type Refusal = { status: number; code: string; message: string; field?: string };

function refuse(res: Response, { status, code, message, field }: Refusal): void {
  if (status === 401) res.set('www-authenticate', 'Bearer');
  res.status(status).json({ errors: [{ message, extensions: { code, ...(field ? { field } : {}) } }] });
}

/**
 * Who may send events: an API token (never a browser session, so no other site can make a
 * signed-in browser post lineage) of an EDITOR or with the LINEAGE_WRITER scope.
 */
function sender(res: Response): Principal | null {
  const principal = principalOf(res);
  if (!principal?.tokenId) {
    refuse(res, { status: 401, code: 'UNAUTHENTICATED', message: 'send an API token: `Authorization: Bearer <token>` (an EDITOR token, or one with the LINEAGE_WRITER scope)' });
    return null;
  }
  // A LINEAGE_WRITER token's role is EDITOR, lowered to its owner's: it stops when its owner is no longer an editor.
  if (!roleAllows(principal.role, Role.EDITOR)) {
    refuse(res, { status: 403, code: 'FORBIDDEN', message: `sending lineage needs an EDITOR token (or a LINEAGE_WRITER one of an editor); this token is ${principal.role}` });
    return null;
  }
  return principal;
}

/** express.json for events: JSON only (gzip or not), bounded once decompressed, nesting checked before parsing. */
function jsonBody(limit: string) {
  const parse = express.json({ limit, strict: false, inflate: true, verify: refuseDeepBodies, type: () => true });
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('application/json')) {
      refuse(res, { status: 415, code: 'BAD_REQUEST', message: 'send the event as JSON: Content-Type: application/json (optionally with Content-Encoding: gzip)' });
      return;
    }
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const e = error as { status?: number; type?: string; message?: string };
      if (e.type === 'entity.too.large') return refuse(res, { status: 413, code: 'BAD_USER_INPUT', message: `the body is larger than ${limit} (after decompression)` });
      if (e.type === 'encoding.unsupported') return refuse(res, { status: 415, code: 'BAD_REQUEST', message: 'Content-Encoding must be gzip, deflate or none' });
      if (typeof e.status === 'number' && e.status < 500) return refuse(res, { status: 400, code: 'BAD_USER_INPUT', message: `the body is not valid JSON: ${e.message ?? 'unreadable'}` });
      next(error);
    });
  };
}

/**
 * OpenLineage over HTTP, where the OpenLineage clients and Marquez put it:
 * - `POST /api/v1/lineage`: one RunEvent, JobEvent or DatasetEvent (spec 2-0-2), JSON or gzip → 201; 400 with the reason; 401/403.
 * - `POST /api/v1/lineage/batch`: a JSON array of events → 200 with each event's outcome.
 * - `GET /api/v1/lineage?nodeId=dataset:<ns>:<name>|job:<ns>:<name>&depth=N`: Marquez's lineage answer.
 */
export function openLineageRoutes(deps: OpenLineageDeps, auth: { signIn: express.RequestHandler; lineageWriter: express.RequestHandler }): Router {
  const { signIn, lineageWriter } = auth;
  const router = express.Router();
  const intake = new EventIntake(() => deps.em.fork() as EntityManager, deps.naming, deps.logger);
  // One parser per route, made once: a parser per request was rebuilt on every event.
  const eventBody = jsonBody(EVENT_BODY_LIMIT);
  const batchBody = jsonBody(BATCH_BODY_LIMIT);
  const checked = (value: unknown, field?: string): Incoming => incomingOf(parseOpenLineageEvent(value, field), value, deps.naming(), field);

  router.post('/api/v1/lineage', lineageWriter, (req, res, next) => {
    const principal = sender(res);
    if (!principal) return;
    eventBody(req, res, async () => {
      try {
        const [received] = intake.submit([checked(req.body)], principal.tokenId ?? null);
        res.status(201).json(await received);
      } catch (error) {
        if (!(error instanceof DomainError)) return next(error);
        refuse(res, { status: 400, code: error.code, message: error.message, field: error.details?.field as string | undefined });
      }
    });
  });

  router.post('/api/v1/lineage/batch', lineageWriter, (req, res, next) => {
    const principal = sender(res);
    if (!principal) return;
    batchBody(req, res, async () => {
      const events: unknown = req.body;
      if (!Array.isArray(events)) return refuse(res, { status: 400, code: 'BAD_USER_INPUT', message: 'a batch is a JSON array of OpenLineage events', field: 'events' });
      if (events.length > MAX_BATCH_EVENTS) return refuse(res, { status: 413, code: 'BAD_USER_INPUT', message: `a batch holds at most ${MAX_BATCH_EVENTS} events; this one has ${events.length}`, field: 'events' });
      try {
        // Each event is checked on its own; the good ones are taken in together, each with its own outcome.
        const refusal = (error: unknown) => {
          if (error instanceof DomainError) return { status: 400, error: { message: error.message, code: error.code, field: error.details?.field } };
          deps.logger.error({ err: error }, 'an OpenLineage event of a batch could not be taken in');
          return { status: 500, error: { message: 'Internal server error', code: 'INTERNAL_SERVER_ERROR' } };
        };
        const parsed: (Incoming | ReturnType<typeof refusal>)[] = [];
        for (const [index, value] of events.entries()) {
          if (index % 50 === 49) await new Promise((resolve) => setImmediate(resolve)); // other requests go on meanwhile
          try {
            parsed.push(checked(value, `events.${index}`));
          } catch (error) {
            parsed.push(refusal(error));
          }
        }
        const good = parsed.filter((p): p is Incoming => 'event' in p);
        const named = good.reduce((sum, p) => sum + datasetCount(p.event), 0);
        if (named > MAX_BATCH_DATASETS) return refuse(res, { status: 413, code: 'BAD_USER_INPUT', message: `a batch names at most ${MAX_BATCH_DATASETS} datasets in all; this one names ${named}: send it in smaller batches`, field: 'events' });
        const taken = intake.submit(good, principal.tokenId ?? null);
        const outcomes = await Promise.all(taken.map((p) => p.then((r) => ({ status: 201, ...r }), refusal)));
        let next = 0;
        const results = parsed.map((p, index) => ({ index, ...('event' in p ? outcomes[next++]! : p) }));
        const accepted = results.filter((r) => r.status === 201).length;
        res.status(200).json({ received: events.length, accepted, rejected: events.length - accepted, results });
      } catch (error) {
        next(error);
      }
    });
  });

  router.get('/api/v1/lineage', signIn, async (req, res, next) => {
    const principal = principalOf(res);
    if (!principal) return refuse(res, { status: 401, code: 'UNAUTHENTICATED', message: 'sign in first: send the session cookie or `Authorization: Bearer <API token>`' });
    try {
      const nodeId = typeof req.query.nodeId === 'string' ? req.query.nodeId : undefined;
      if (!nodeId) throw new BadUserInputError('nodeId', 'nodeId is required: dataset:<namespace>:<name> or job:<namespace>:<name>');
      const depth = req.query.depth === undefined ? undefined : Number(req.query.depth);
      const graph = await marquezLineage(deps.em.fork() as EntityManager, deps.lineage, deps.naming(), nodeId, depth);
      if (!graph) return refuse(res, { status: 404, code: 'NOT_FOUND', message: `no dataset or job ${JSON.stringify(nodeId)}`, field: 'nodeId' });
      res.status(200).json(graph);
    } catch (error) {
      if (!(error instanceof DomainError)) return next(error);
      refuse(res, { status: 400, code: error.code, message: error.message, field: error.details?.field as string | undefined });
    }
  });
  return router;
}
