import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { auditLog } from '../audit/audit-log.js';
import type { Context } from '../graphql/context.js';
import { ApiTokenObject, AuditEventConnection, AuditEventObject, AuditFieldChangeObject, AuditObjectChangeObject, CreateApiTokenInput, CreateUserInput, CreatedApiTokenObject, SetupFirstAdminInput, UpdateUserInput, UserObject } from './types/account.js';
import { AccountService } from '../services/account.service.js';
import { checkPassword, closeSession, closeSessions, login, openSession, type SignedIn } from '../auth/sessions.js';
import { createApiToken, listApiTokens, revokeApiToken } from '../auth/api-tokens.js';
import { setupFirstAdmin, setupRequired } from '../auth/first-admin.js';
import { BadUserInputError, UnauthenticatedError } from '../../core/errors.js';
import { roleAllows, type Principal } from '../../core/auth/roles.js';
import { Role } from '../../core/enums.js';
import type { AuditObjectChange } from '../../core/audit/scope.js';
import { AuditEvent, UserAccount } from '../../core/db/entities/index.js';

/** The access plugin lets only signed-in callers reach the fields that call this. */
function signedIn(ctx: Context): Principal {
  if (!ctx.principal) throw new UnauthenticatedError();
  return ctx.principal;
}

function giveCookie(ctx: Context, signed: SignedIn): UserAccount {
  ctx.http?.setSessionCookie(signed.token, signed.session.expiresAt);
  return signed.user;
}

/** Accounts: signing in and out, the first admin, users (ADMIN) and API tokens. */
@Resolver()
export class AccountResolver {
  @Query(() => UserObject, { nullable: true, description: 'Who is signed in; null without a session or token' })
  me(@Ctx() ctx: Context) {
    return ctx.principal ? ctx.em.findOne(UserAccount, { id: ctx.principal.userId }) : null;
  }

  @Query(() => Boolean, { description: 'True while no user exists: the setup page (with the link from the server log) creates the first admin' })
  setupRequired(@Ctx() ctx: Context) {
    return setupRequired(ctx.em);
  }

  @Query(() => [UserObject], { description: 'Every user, by email (ADMIN)' })
  users(@Ctx() ctx: Context) {
    return new AccountService(ctx.em).list();
  }

  @Query(() => [ApiTokenObject], { description: 'Your API tokens, newest first; with all: true (ADMIN) everyone’s' })
  apiTokens(@Ctx() ctx: Context, @Arg('all', () => Boolean, { nullable: true, defaultValue: false }) all?: boolean | null) {
    return listApiTokens(ctx.em, signedIn(ctx), all === true);
  }

  @Query(() => AuditEventConnection, {
    description: 'The audit log, newest first: every mutation (refused ones too), sign-ins and first uses of tokens; filter by object, actor or action. Entries about users, sign-ins and tokens: ADMIN only',
  })
  auditLog(
    @Ctx() ctx: Context,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
    @Arg('objectId', () => ID, { nullable: true }) objectId?: string | null,
    @Arg('actorId', () => ID, { nullable: true }) actorId?: string | null,
    @Arg('action', () => String, { nullable: true }) action?: string | null,
  ) {
    return auditLog(ctx.em, { first, after, objectId, actorId, action }, ctx.principal !== null && roleAllows(ctx.principal.role, Role.ADMIN));
  }

  @Mutation(() => UserObject, { description: 'Signs in: sets the session cookie (UNAUTHENTICATED on a wrong email or password, and while failed attempts slow this account or address)' })
  async login(@Ctx() ctx: Context, @Arg('email', () => String) email: string, @Arg('password', () => String) password: string) {
    return giveCookie(ctx, await login(ctx.em, email, password, ctx.http?.address ?? 'local'));
  }

  @Mutation(() => Boolean, { description: 'Ends this session and clears its cookie' })
  async logout(@Ctx() ctx: Context) {
    const principal = signedIn(ctx);
    if (principal.sessionId) await closeSession(ctx.em, principal.sessionId);
    ctx.http?.clearSessionCookie();
    return true;
  }

  @Mutation(() => Boolean, { description: 'Ends every session of yours, on every device, this one included' })
  async logoutEverywhere(@Ctx() ctx: Context) {
    await closeSessions(ctx.em, signedIn(ctx).userId);
    ctx.http?.clearSessionCookie();
    return true;
  }

  @Mutation(() => UserObject, { description: 'Changes your password; every other session of yours ends, this one stays signed in' })
  async changePassword(@Ctx() ctx: Context, @Arg('currentPassword', () => String) currentPassword: string, @Arg('newPassword', () => String) newPassword: string) {
    const principal = signedIn(ctx);
    // The current password is checked as a sign-in is, throttled: a stolen session cannot guess it.
    await checkPassword(ctx.em, principal.email, currentPassword, ctx.http?.address ?? 'local').catch((error: unknown) => {
      throw error instanceof UnauthenticatedError && (error.details as { reason?: string }).reason === 'BAD_CREDENTIALS'
        ? new BadUserInputError('currentPassword', 'the current password is wrong')
        : error;
    });
    const user = await new AccountService(ctx.em).resetPassword(principal.email, newPassword, 'newPassword');
    return giveCookie(ctx, await openSession(ctx.em, user));
  }

  @Mutation(() => UserObject, { description: 'Creates the first admin with the one-time token from the server log, and signs them in' })
  async setupFirstAdmin(@Ctx() ctx: Context, @Arg('input', () => SetupFirstAdminInput) input: SetupFirstAdminInput) {
    const user = await setupFirstAdmin(ctx.em, input);
    return giveCookie(ctx, await openSession(ctx.em, user));
  }

  @Mutation(() => UserObject, { description: 'Creates a user (ADMIN); CONFLICT when the email is taken' })
  createUser(@Ctx() ctx: Context, @Arg('input', () => CreateUserInput) input: CreateUserInput) {
    return new AccountService(ctx.em).createUser(input);
  }

  @Mutation(() => UserObject, { description: 'Changes a user’s role or disables them (ADMIN); the last enabled admin stays one' })
  updateUser(@Ctx() ctx: Context, @Arg('id', () => ID) id: string, @Arg('input', () => UpdateUserInput) input: UpdateUserInput) {
    return new AccountService(ctx.em).updateUser(id, input);
  }

  @Mutation(() => CreatedApiTokenObject, { description: 'A new API token of yours, at most your role: its secret is in `token`, shown this once' })
  createApiToken(@Ctx() ctx: Context, @Arg('input', () => CreateApiTokenInput) input: CreateApiTokenInput) {
    return createApiToken(ctx.em, signedIn(ctx), input);
  }

  @Mutation(() => Boolean, { description: 'Revokes a token of yours (ADMIN: anyone’s); it is refused from then on' })
  async revokeApiToken(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    await revokeApiToken(ctx.em, signedIn(ctx), id);
    return true;
  }
}

@Resolver(() => AuditEventObject)
export class AuditEventResolver {
  @FieldResolver(() => [AuditObjectChangeObject], { description: 'The objects it created, changed or deleted (none for a refused action)' })
  changes(@Root() event: AuditEvent) {
    return event.changes ?? [];
  }

  @FieldResolver(() => [AuditFieldChangeObject], { description: 'The plain fields those objects had before and after, object by object' })
  fieldChanges(@Root() event: AuditEvent) {
    return ((event.changes ?? []) as AuditObjectChange[]).flatMap((change) => change.fields.map((field) => ({ objectId: change.id, ...field })));
  }
}
