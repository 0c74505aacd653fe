import type { EntityManager } from '@mikro-orm/knex';
import { Automation, Datasource, Template, type TemplateParameter } from '../../../core/db/entities/index.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../../../core/errors.js';
import { LIMITS, checkName, checkText } from '../../../core/validation.js';
import { mapStrings } from '../../../core/parameters/references.js';
import type { SecretBox } from '../../../core/secrets.js';
import { writeTransaction } from '../../../core/db/transaction.js';
import { exportWorkspace } from '../portability/export.js';
import { importArchive, type ImportDeps, type ObjectReport } from '../portability/import.js';
import { EXPORT_FORMAT, FORMAT_VERSION, type ExportedObject, type Manifest } from '../portability/format.js';
import { BUILT_IN_TEMPLATES, type TemplateDefinition } from './builtin.js';
import { checkObject } from '../portability/read.js';

export interface TemplateSummary extends TemplateDefinition {
  builtIn: boolean;
}

const PLACEHOLDER = /\{\{(@?)([^{}]{1,200})\}\}/g;

/**
 * Templates: the built-in gallery (builtin.ts) and the workspace's own (saveAsTemplate, the export
 * of chosen automations with what they use). createFromTemplate fills the parameters in, puts the
 * prefix before every name, and imports the result in one transaction: every object CREATED (live,
 * or a draft when approval is required), or nothing when a name is taken or a check refuses one.
 */
export class TemplateService {
  constructor(
    private readonly em: EntityManager,
    private readonly deps: ImportDeps & { secrets: SecretBox },
  ) {}

  async list(): Promise<TemplateSummary[]> {
    const own = await this.em.find(Template, {}, { orderBy: { name: 'asc' } });
    return [...BUILT_IN_TEMPLATES.map((t) => ({ ...t, builtIn: true })), ...own.map(summary)];
  }

  async get(id: string): Promise<TemplateSummary> {
    const builtIn = BUILT_IN_TEMPLATES.find((t) => t.id === id);
    if (builtIn) return { ...builtIn, builtIn: true };
    const own = await this.em.findOne(Template, { id });
    if (!own) throw new NotFoundError('Template', id, 'templateId');
    return summary(own);
  }

  /** The chosen automations, with what they use, as a template of this workspace. */
  saveAsTemplate(automationIds: string[], name: string, description?: string | null): Promise<TemplateSummary> {
    if (automationIds.length === 0) throw new BadUserInputError('automationIds', 'choose at least one automation');
    return writeTransaction(this.em, 'a template', async (em) => {
      const checked = checkName(name);
      if (BUILT_IN_TEMPLATES.some((t) => t.name === checked) || (await em.count(Template, { name: checked })) > 0) throw new ConflictError('name', `a template named ${JSON.stringify(checked)} already exists`);
      const { files } = await exportWorkspace(em, this.deps.secrets, { automationIds, dependencies: true, withPlainTextCredentials: false, source: { version: '', url: null } });
      const template = new Template();
      Object.assign(template, { name: checked, description: checkText(description, 'description', LIMITS.description), parameters: [], objects: [...files.values()].map((o) => ({ ...o, id: '' })), createdById: this.deps.actorId });
      em.persist(template);
      return summary(template);
    });
  }

  async delete(id: string): Promise<string> {
    if (BUILT_IN_TEMPLATES.some((t) => t.id === id)) throw new BadUserInputError('id', 'a built-in template cannot be deleted');
    return writeTransaction(this.em, 'a template', async (em) => {
      if ((await em.nativeDelete(Template, { id })) === 0) throw new NotFoundError('Template', id, 'id');
      return id;
    });
  }

  /** Creates the template's objects with `parameters` filled in and `namePrefix` before every name. */
  async createFromTemplate(templateId: string, parameters: { name: string; value: string }[], namePrefix: string): Promise<ObjectReport[]> {
    const template = await this.get(templateId);
    const values = new Map(parameters.map((p) => [p.name, p.value]));
    for (const p of parameters) {
      if (!template.parameters.some((t) => t.name === p.name)) throw new BadUserInputError('parameters', `the template has no parameter ${JSON.stringify(p.name)}; its parameters are ${template.parameters.map((t) => t.name).join(', ') || 'none'}`);
    }
    for (const p of template.parameters) {
      if (!values.has(p.name)) {
        if (p.default === null) throw new BadUserInputError('parameters', `the template needs the parameter ${JSON.stringify(p.name)} (${p.description})`);
        values.set(p.name, p.default);
      }
    }
    const prefix = checkText(namePrefix, 'namePrefix', 100) ?? '';
    const named = (name: string) => `${prefix}${name}`;
    // Shaped as an export's files are (a saved template is one), whatever the parameters put in.
    const objects = template.objects.map((o, i) => checkObject(instantiate(o as ExportedObject, values, named), (o as ExportedObject).type, `objects[${i}]`));
    for (const o of objects) if (o.type !== 'PARAMETER_SET') checkName(o.name, 'namePrefix');
    const taken = await this.taken(objects);
    if (taken.length > 0) throw new ConflictError('namePrefix', `these names are taken: ${taken.join(', ')}; choose another namePrefix`);
    const manifest: Manifest = { format: EXPORT_FORMAT, formatVersion: FORMAT_VERSION, source: { product: 'tributary' as const, version: 'template', url: null }, exportedAt: new Date().toISOString(), withPlainTextCredentials: false, objects: [] };
    const report = await importArchive(this.em, this.deps, { manifest, objects }, { conflict: 'SKIP', dryRun: false });
    const refused = report.objects.filter((o) => o.outcome === 'REFUSED');
    if (refused.length > 0) throw new BadUserInputError(refused[0]!.field ? `objects.${refused[0]!.field}` : 'parameters', `${JSON.stringify(refused[0]!.name)} cannot be created: ${refused[0]!.reason}`);
    return report.objects;
  }

  private async taken(objects: ExportedObject[]): Promise<string[]> {
    const names = (type: string) => objects.filter((o) => o.type === type).map((o) => o.name);
    const [datasources, automations] = await Promise.all([
      this.em.find(Datasource, { name: { $in: names('DATASOURCE') } }, { fields: ['name'] }),
      this.em.find(Automation, { name: { $in: names('AUTOMATION') } }, { fields: ['name'] }),
    ]);
    return [...datasources, ...automations].map((o) => JSON.stringify(o.name));
  }
}

function summary(t: Template): TemplateSummary {
  return { id: t.id, name: t.name, description: t.description ?? '', parameters: t.parameters as TemplateParameter[], objects: t.objects as TemplateDefinition['objects'], builtIn: false };
}

/** An object of a template made real: parameters filled in, names (its own and those it refers to) prefixed. */
function instantiate(object: ExportedObject, values: Map<string, string>, named: (name: string) => string): ExportedObject {
  const fill = (text: string) => text.replace(PLACEHOLDER, (whole, at: string, key: string) => (at ? named(key) : (values.get(key) ?? whole)));
  const filled = mapStrings(object, fill);
  if (filled.type === 'PARAMETER_SET') return { ...filled, id: '' };
  if (filled.type === 'DATASOURCE') {
    return { ...filled, id: '', name: named(filled.name), join: filled.join && { ...filled.join, left: named(filled.join.left), right: named(filled.join.right) } };
  }
  const steps = Array.isArray(filled.settings.steps) ? { steps: (filled.settings.steps as string[]).map(named) } : {};
  return {
    ...filled,
    id: '',
    name: named(filled.name),
    inputs: filled.inputs.map(named),
    outputs: filled.outputs.map(named),
    errorDatasource: filled.errorDatasource && named(filled.errorDatasource),
    settings: { ...filled.settings, ...steps },
  };
}
