import express, { type Request, type Response, type Router } from 'express';
import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import { Role } from '../../core/enums.js';
import { roleAllows, type Principal } from '../../core/auth/roles.js';
import { DomainError, ForbiddenError } from '../../core/errors.js';
import type { SecretBox } from '../../core/secrets.js';
import { actorOf, record } from '../audit/audited-mutations.js';
import { exportWorkspace } from '../services/portability/export.js';
import { principalOf } from './authenticate.js';
import { readExport } from '../services/portability/read.js';
import { CONFLICT_MODES, importArchive, type ConflictMode } from '../services/portability/import.js';
import type { Warehouse } from '../../jobs/warehouse/warehouse.js';
import type { LineageStore } from '../lineage/store.js';
import type { RunControl } from '../../jobs/runs/run-control.js';
import { BadUserInputError } from '../../core/errors.js';

export interface PortabilityDeps {
  em: EntityManager;
  secrets: SecretBox;
  logger: Logger;
  version: string;
  warehouse: Warehouse;
  lineage: LineageStore;
  scheduler: RunControl;
}

/** The largest import body: an export of 10,000 objects is a few MB. */
export const IMPORT_BODY_LIMIT = '64mb';

const ids = (value: unknown): string[] | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : undefined;
const flag = (value: unknown, fallback: boolean): boolean => (value === undefined ? fallback : value === 'true' || value === '1');

/** A coded error as the GraphQL API answers it: `{ errors: [{ message, extensions: { code, … } }] }`. */
function refuse(res: Response, status: number, error: DomainError): void {
  res.status(status).json({ errors: [{ message: error.message, extensions: { code: error.code, ...error.details } }] });
}

function statusOf(error: DomainError): number {
  return error.code === 'UNAUTHENTICATED' ? 401 : error.code === 'FORBIDDEN' ? 403 : error.code === 'NOT_FOUND' ? 404 : error.code === 'CONFLICT' ? 409 : 400;
}

/** The signed-in caller with at least `role`; otherwise the refusal is sent and null returned. */
function caller(res: Response, role: Role): Principal | null {
  const principal = principalOf(res);
  if (!principal) {
    res.status(401).set('www-authenticate', 'Bearer').json({ errors: [{ message: 'sign in first: send the session cookie or `Authorization: Bearer <API token>`', extensions: { code: 'UNAUTHENTICATED' } }] });
    return null;
  }
  if (!roleAllows(principal.role, role)) {
    refuse(res, 403, new ForbiddenError(`this needs the ${role} role; you are ${principal.role}`, role));
    return null;
  }
  return principal;
}

/**
 * `GET /api/v1/export?automationIds=…&datasourceIds=…&versionIds=…&dependencies=true&withPlainTextCredentials=false`:
 * the ZIP of api/services/portability/format.ts. VIEWER; plain-text credentials are ADMIN only.
 * Every export is in the audit log (with its counts, and whether credentials left in the clear).
 */
export function portabilityRoutes(deps: PortabilityDeps, signIn: express.RequestHandler): Router {
  const router = express.Router();
  router.get('/api/v1/export', signIn, async (req: Request, res: Response) => {
    const principal = caller(res, Role.VIEWER);
    if (!principal) return;
    const withPlainTextCredentials = flag(req.query.withPlainTextCredentials, false);
    const scope = { actor: actorOf(principal), action: 'exportWorkspace', objectId: null, changes: [], written: false };
    try {
      if (withPlainTextCredentials && !roleAllows(principal.role, Role.ADMIN)) throw new ForbiddenError('withPlainTextCredentials needs the ADMIN role', Role.ADMIN);
      const result = await exportWorkspace(deps.em.fork() as EntityManager, deps.secrets, {
        automationIds: ids(req.query.automationIds),
        datasourceIds: ids(req.query.datasourceIds),
        versionIds: ids(req.query.versionIds),
        dependencies: flag(req.query.dependencies, true),
        withPlainTextCredentials,
        source: { version: deps.version, url: `${req.protocol}://${req.get('host') ?? ''}` },
      });
      const what = `${result.manifest.objects.length} object(s)${withPlainTextCredentials ? ' with plain-text credentials' : ''}`;
      await record(deps.em, deps.logger, scope, { outcome: 'OK', objectType: 'Export', objectName: what });
      res
        .status(200)
        .set('content-type', 'application/zip')
        .set('content-disposition', `attachment; filename="tributary-export-${result.manifest.exportedAt.slice(0, 10)}.zip"`)
        .set('cache-control', 'no-store')
        .send(Buffer.from(result.zip));
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      await record(deps.em, deps.logger, scope, { outcome: 'REFUSED', errorCode: error.code, objectType: 'Export' });
      refuse(res, statusOf(error), error);
    }
  });

  /**
   * `POST /api/v1/import?conflict=SKIP|REPLACE|RENAME&dryRun=true|false` with the ZIP as the body
   * (`Content-Type: application/zip`; a form cannot send that, so no other site can make a
   * signed-in browser import). EDITOR. 200 with the report, written or not; 400 for an archive
   * that cannot be read, 413 for one too large, 415 for another content type.
   */
  router.post('/api/v1/import', signIn, async (req: Request, res: Response, next) => {
    const principal = caller(res, Role.EDITOR);
    if (!principal) return;
    if (!req.is('application/zip')) {
      res.status(415).json({ errors: [{ message: 'send the export ZIP as the body with Content-Type: application/zip', extensions: { code: 'BAD_REQUEST' } }] });
      return;
    }
    express.raw({ type: 'application/zip', limit: IMPORT_BODY_LIMIT })(req, res, async (error?: unknown) => {
      if (error) return next(error);
      const scope = { actor: actorOf(principal), action: 'importWorkspace', objectId: null, changes: [], written: false };
      try {
        const conflict = String(req.query.conflict ?? 'SKIP').toUpperCase() as ConflictMode;
        if (!CONFLICT_MODES.includes(conflict)) throw new BadUserInputError('conflict', `conflict must be one of ${CONFLICT_MODES.join(', ')}`);
        const dryRun = flag(req.query.dryRun, false);
        if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new BadUserInputError('body', 'the body is empty: send the export ZIP');
        const archive = readExport(new Uint8Array(req.body.buffer, req.body.byteOffset, req.body.length));
        const em = deps.em.fork() as EntityManager;
        const report = await importArchive(em, { secrets: deps.secrets, files: deps.warehouse.files, warehouse: deps.warehouse, lineage: deps.lineage, actorId: principal.userId }, archive, { conflict, dryRun });
        if (report.committed) {
          for (const o of report.objects) if (o.type === 'AUTOMATION' && o.id && o.outcome !== 'SKIPPED') await deps.scheduler.automationChanged(o.id).catch(() => undefined);
        }
        const tally = new Map<string, number>();
        for (const o of report.objects) tally.set(o.outcome, (tally.get(o.outcome) ?? 0) + 1);
        const counts = [...tally].map(([outcome, n]) => `${n} ${outcome.toLowerCase()}`).join(', ');
        await record(deps.em, deps.logger, scope, { outcome: report.committed || report.dryRun ? 'OK' : 'REFUSED', objectType: 'Import', objectName: `${report.dryRun ? 'dry run: ' : ''}${counts || 'nothing'}` });
        res.status(200).json(report);
      } catch (failure) {
        if (!(failure instanceof DomainError)) return next(failure);
        await record(deps.em, deps.logger, scope, { outcome: 'REFUSED', errorCode: failure.code, objectType: 'Import' });
        refuse(res, statusOf(failure), failure);
      }
    });
  });
  return router;
}
