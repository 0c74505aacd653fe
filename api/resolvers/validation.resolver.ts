import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { Automation } from '../../core/db/entities/index.js';
import { Role } from '../../core/enums.js';
import { roleAllows } from '../../core/auth/roles.js';
import { ForbiddenError, NotFoundError } from '../../core/errors.js';
import { buildPlan } from '../../jobs/runs/run-plan.js';
import { fillParameters } from '../../jobs/runs/plan-parameters.js';
import { SftpImportRunner } from '../../jobs/runners/sftp.runner.js';
import { probeSource } from '../../jobs/sources/index.js';
import type { Context } from '../graphql/context.js';
import { Validator } from '../services/validation/validator.js';
import { ValidationResultObject } from './types/validation.js';

/** How long checkConnections waits for one SFTP server or database. */
const CONNECTION_TIMEOUT_MS = 10_000;

function validator(ctx: Context, checkConnections: boolean): Promise<Validator> {
  if (checkConnections && !(ctx.principal && roleAllows(ctx.principal.role, Role.EDITOR))) {
    throw new ForbiddenError('checkConnections logs in to servers with stored credentials: it needs the EDITOR role', Role.EDITOR);
  }
  const checkConnection = async (automation: Automation) => {
    const { plan } = await fillParameters(ctx.em, await buildPlan(ctx.em, ctx.data, ctx.secrets, automation.id));
    if (plan.database) {
      const probe = await probeSource(plan.database.endpoint, CONNECTION_TIMEOUT_MS);
      if (!probe.ok) throw new Error(probe.message);
      return;
    }
    await new SftpImportRunner(ctx.warehouse, ctx.sftpState, { connectTimeoutMs: CONNECTION_TIMEOUT_MS }).check(plan);
  };
  return ctx.graph().then((graph) => new Validator(ctx.em, graph, { files: ctx.warehouse.files, warehouse: ctx.warehouse, checkConnection }, checkConnections));
}

/** Validation of what saving cannot check (api/services/validation). Writes nothing. */
@Resolver()
export class ValidationResolver {
  @Query(() => ValidationResultObject, { description: 'Issues of an automation as it is in force now, against the workspace as it is now' })
  async validateAutomation(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('checkConnections', () => Boolean, { nullable: true, defaultValue: false, description: 'Also log in to its SFTP server or database (EDITOR; at most 10 s)' }) checkConnections?: boolean | null,
  ) {
    if (!(await ctx.em.count(Automation, { id }))) throw new NotFoundError('Automation', id, 'id');
    return (await validator(ctx, checkConnections === true)).run([id]);
  }

  @Query(() => ValidationResultObject, { description: 'Issues of every automation in force and every datasource' })
  async validateWorkspace(
    @Ctx() ctx: Context,
    @Arg('checkConnections', () => Boolean, { nullable: true, defaultValue: false, description: 'Also log in to every SFTP server and database (EDITOR; at most 10 s each)' }) checkConnections?: boolean | null,
  ) {
    return (await validator(ctx, checkConnections === true)).run();
  }
}
