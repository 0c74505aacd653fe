import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import type { EntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import { runAudited, type AuditActor, type AuditScope } from '../../core/audit/scope.js';
import { recordAudit, type AuditOutcome } from '../../core/audit/record.js';
import type { Principal } from '../../core/auth/roles.js';
import { domainErrorOf } from '../graphql/errors.js';
import { UserAccount } from '../../core/db/entities/index.js';
import { normalizeEmail } from '../../core/validation.js';
import type { Context } from '../graphql/context.js';

/** Who acts, as the audit log names them: the user, and the token when one was used. */
export function actorOf(principal: Principal | null): AuditActor | null {
  return principal ? { userId: principal.userId, email: principal.email, ...(principal.tokenId ? { tokenId: principal.tokenId } : {}) } : null;
}

/** The object a mutation names by argument: `id`, or the automation it schedules. */
function objectIdOf(args: Record<string, unknown>): string | null {
  const id = args.id ?? args.automationId ?? args.datasourceId ?? args.versionId;
  return typeof id === 'string' ? id : null;
}

/** The type of the object a mutation is named after (`deleteDatasource` → Datasource), for entries without changes. */
function typeOfAction(action: string): string | null {
  if (action === 'setSchedule' || action === 'clearSchedule') return 'Automation';
  const noun = /^(?:create|update|delete|run|pause|stop|start|deactivate|revoke)([A-Z]\w*)$/.exec(action)?.[1];
  return noun === 'User' ? 'UserAccount' : (noun ?? null);
}

/** Writes an entry on a fresh EntityManager; a failure is logged, never thrown (the action's own outcome stands). */
export async function record(em: EntityManager, logger: Logger, scope: AuditScope, outcome: AuditOutcome): Promise<void> {
  try {
    await recordAudit(em.fork() as EntityManager, scope, outcome);
  } catch (error) {
    // The mutation's own outcome stands; a lost entry is logged with what it would have said.
    logger.error({ err: error, action: scope.action, actor: scope.actor?.email, outcome: outcome.outcome }, 'could not write an audit log entry');
  }
}

/**
 * Wraps every mutation's resolver so that it is audited: the entry is written in the mutation's
 * own transaction when it has one (core/db/transaction.ts), otherwise right after it; a refused
 * mutation (any error) gets an entry with its code and no changes, since it changed nothing.
 */
export function auditMutations(schema: GraphQLSchema, logger: Logger): void {
  const fields = schema.getMutationType()?.getFields() ?? {};
  for (const field of Object.values(fields)) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args: Record<string, unknown>, ctx: Context, info) => {
      const scope: AuditScope = { actor: actorOf(ctx.principal), action: field.name, objectId: objectIdOf(args), changes: [], written: false };
      // Sign-in: the actor is who signed in, or (refused) the address that was tried.
      const attempted = field.name === 'login' ? normalizeEmail(args.email).slice(0, 320) : null;
      return runAudited(scope, async () => {
        try {
          const result = await resolve(source, args, ctx, info);
          if (!scope.written) {
            if (attempted !== null && result && typeof result === 'object' && 'id' in result) {
              scope.actor = { userId: String(result.id), email: attempted };
              scope.objectId = String(result.id);
            }
            await record(ctx.em, logger, scope, { outcome: 'OK' });
          }
          return result;
        } catch (error) {
          scope.written = true;
          const domain = domainErrorOf(error);
          // Not recorded, so that nobody can grow the log without signing in: a sign-in refused
          // while its account or address is throttled, and a setup attempt without a valid link.
          const reason = (domain?.details as { reason?: string } | undefined)?.reason;
          if (reason === 'THROTTLED' || reason === 'BUSY' || reason === 'BAD_SETUP_TOKEN') throw error;
          // A refused sign-in names the account tried only when it exists (what was typed may be a password).
          const account = attempted !== null ? await ctx.em.fork().findOne(UserAccount, { email: attempted }, { fields: ['id'] }) : null;
          const refused: AuditScope = { ...scope, changes: [], written: false, objectId: account?.id ?? scope.objectId };
          await record(ctx.em, logger, refused, {
            outcome: 'REFUSED',
            errorCode: domain?.code ?? 'INTERNAL_SERVER_ERROR',
            ...(attempted !== null ? { objectType: 'UserAccount', objectName: account ? attempted : null } : scope.objectId ? { objectType: typeOfAction(field.name) } : {}),
          });
          throw error;
        }
      });
    };
  }
}

/** A mutation the caller's role does not allow, refused before it ran: one REFUSED entry per root field. */
export async function auditForbidden(ctx: Context, logger: Logger, fields: string[]): Promise<void> {
  for (const action of fields) {
    const scope: AuditScope = { actor: actorOf(ctx.principal), action, objectId: null, changes: [], written: false };
    await record(ctx.em, logger, scope, { outcome: 'REFUSED', errorCode: 'FORBIDDEN' });
  }
}
