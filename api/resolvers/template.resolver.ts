import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context.js';
import type { TemplateService, TemplateSummary } from '../services/templates/template.service.js';
import { ParameterInput } from './types/parameter-set.js';
import { CreatedObject, TemplateObject } from './types/template.js';
import { written } from './util.js';

const service = (ctx: Context): TemplateService => ctx.templates;

const shown = (t: TemplateSummary): TemplateObject => ({
  ...t,
  objects: t.objects.map((o) => ({ type: o.type, name: o.name, kind: 'kind' in o ? String(o.kind) : 'PARAMETER_SET' })),
  size: t.objects.length,
});

/** Templates (api/services/templates). */
@Resolver()
export class TemplateResolver {
  @Query(() => [TemplateObject], { description: 'The built-in gallery, then this workspace’s own templates by name' })
  async templates(@Ctx() ctx: Context) {
    return (await service(ctx).list()).map(shown);
  }

  @Mutation(() => TemplateObject, { description: 'The automations, with the datasources and parameter sets they use, as a template (secrets left out)' })
  async saveAsTemplate(
    @Ctx() ctx: Context,
    @Arg('automationIds', () => [ID]) automationIds: string[],
    @Arg('name', () => String) name: string,
    @Arg('description', () => String, { nullable: true }) description?: string | null,
  ) {
    return written(ctx, shown(await service(ctx).saveAsTemplate(automationIds, name, description)));
  }

  @Mutation(() => ID, { description: 'A template of this workspace (built-in ones stay)' })
  async deleteTemplate(@Ctx() ctx: Context, @Arg('id', () => ID) id: string) {
    return written(ctx, await service(ctx).delete(id));
  }

  @Mutation(() => [CreatedObject], {
    description: 'Creates the template’s objects, its {{parameters}} filled in (defaults for those not given) and namePrefix before every name: live, or drafts when approval is required. All or nothing; a taken name is a CONFLICT on namePrefix.',
  })
  async createFromTemplate(
    @Ctx() ctx: Context,
    @Arg('templateId', () => ID) templateId: string,
    @Arg('parameters', () => [ParameterInput], { nullable: true }) parameters?: ParameterInput[] | null,
    @Arg('namePrefix', () => String, { nullable: true }) namePrefix?: string | null,
  ) {
    const created = await service(ctx).createFromTemplate(templateId, parameters ?? [], namePrefix ?? '');
    for (const o of created) if (o.type === 'AUTOMATION' && o.id) await ctx.scheduler.automationChanged(o.id).catch(() => undefined);
    return written(ctx, created.map((o) => ({ type: o.type, id: o.id ?? null, name: o.as ?? o.name, outcome: o.outcome, draft: o.draft === true })));
  }
}
