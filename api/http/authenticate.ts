import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import type { Principal } from '../../core/auth/roles.js';
import { TokenScope } from '../../core/enums.js';
import { UnauthenticatedError } from '../../core/errors.js';
import { actorOf, record } from '../audit/audited-mutations.js';
import type { AuditScope } from '../../core/audit/scope.js';
import { sessionCookieName, sessionPrincipal, tokenPrincipal } from '../auth/sessions.js';
import { TokenLookups } from '../auth/token-lookups.js';
import type { HttpExchange } from '../graphql/context.js';

/** The value of one cookie in a Cookie header (the first, when sent twice); undefined when absent or malformed. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

/** Who sent this request, once {@link authenticate} ran: null when nobody signed in. */
export function principalOf(res: Response): Principal | null {
  return (res.locals.principal as Principal | undefined) ?? null;
}

/** The first request with a token is in the audit log: a token used where nobody expected shows up there. */
async function auditFirstUse(em: EntityManager, logger: Logger, principal: Principal): Promise<void> {
  logger.info({ tokenId: principal.tokenId, userId: principal.userId }, 'an API token was used for the first time');
  const scope: AuditScope = { actor: actorOf(principal), action: 'apiTokenFirstUse', objectId: principal.tokenId ?? null, changes: [], written: false };
  await record(em, logger, scope, { outcome: 'OK', objectType: 'ApiToken' });
}

function unauthenticated(res: Response, message: string): void {
  res.status(401).set('www-authenticate', 'Bearer').json({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
}

/**
 * Finds who sent a request: an API token (`Authorization: Bearer trt_…`) or the session cookie.
 * A bad token is refused here (401): a machine should hear its credential is wrong. A bad or
 * expired cookie makes an anonymous request, which the access rules then refuse or let sign in.
 * A token with a scope is refused (403) unless `scopes` names it: only the routes made for it let it in.
 */
export function authenticate(em: EntityManager, logger: Logger, config: Config, options: { scopes?: TokenScope[] } = {}): RequestHandler {
  const cookieName = sessionCookieName(secureCookies(config));
  const lookups = new TokenLookups(() => em.fork() as EntityManager);
  return (req: Request, res: Response, next: NextFunction) => {
    const find = async (): Promise<Principal | null> => {
      const authorization = req.headers.authorization;
      if (authorization !== undefined) {
        const bearer = /^Bearer +(\S+)$/i.exec(authorization)?.[1];
        if (!bearer) throw new UnauthenticatedError('the Authorization header must be `Bearer <API token>`');
        const { principal, firstUse } = await tokenPrincipal(em.fork() as EntityManager, bearer, new Date(), lookups);
        if (firstUse) await auditFirstUse(em, logger, principal);
        return principal;
      }
      const session = cookieValue(req.headers.cookie, cookieName);
      return session ? sessionPrincipal(em.fork() as EntityManager, session) : null;
    };
    find().then(
      (principal) => {
        // A scoped token is refused everywhere but where a route lets its scope in.
        if (principal?.scope && !options.scopes?.includes(principal.scope)) {
          res.status(403).json({ errors: [{ message: `this API token has the ${principal.scope} scope: it may only send OpenLineage events (POST /api/v1/lineage)`, extensions: { code: 'FORBIDDEN' } }] });
          return;
        }
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        if (error instanceof UnauthenticatedError) return unauthenticated(res, error.message);
        next(error);
      },
    );
  };
}

/** The HTTP exchange a GraphQL resolver sees: the peer's address and the session cookie, Secure behind https. */
/** Cookies are Secure (and `__Host-` named) when people reach the server over https (PUBLIC_URL). */
function secureCookies(config: Config): boolean {
  return config.publicUrl?.protocol === 'https:';
}

export function httpExchange(req: Request, res: Response, config: Config): HttpExchange {
  const secure = secureCookies(config);
  const name = sessionCookieName(secure);
  const options = { httpOnly: true, sameSite: 'lax' as const, secure, path: '/' };
  return {
    address: req.socket.remoteAddress ?? 'unknown',
    setSessionCookie: (token, expiresAt) => res.cookie(name, token, { ...options, expires: expiresAt }),
    clearSessionCookie: () => res.clearCookie(name, options),
  };
}

/** For pages that need a session (GraphiQL): without one, to the login page and back. */
export function requireSession(req: Request, res: Response, next: NextFunction): void {
  if (principalOf(res)) return next();
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
}
