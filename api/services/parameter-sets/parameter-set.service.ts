import type { EntityManager } from '@mikro-orm/knex';
import { Automation, AutomationParameterSet, Datasource, DatasourceKind, ParameterSet, type Parameter } from '../../../core/db/entities/index.js';
import { BadUserInputError, ConflictError, NotFoundError, type DependentInfo } from '../../../core/errors.js';
import { writeTransaction } from '../../../core/db/transaction.js';
import { noteDeleted } from '../../../core/audit/scope.js';
import { isParameterName, PARAMETERS_PER_SET_MAX, PARAMETER_VALUE_MAX_BYTES } from '../../../core/parameters/references.js';
import { LIMITS, checkText } from '../../../core/validation.js';
import { pendingUses } from '../versions/version.service.js';
import { parameterizedSettings } from './attach.js';

export interface ParameterSetInput {
  name?: string | null;
  description?: string | null;
  parameters?: Parameter[] | null;
}

/**
 * Parameter sets: named string parameters shared by the automations they are attached to. A set
 * in use (attached to an automation, to a version not live yet, or named in a FILE path) cannot be
 * deleted or renamed, and keeps every parameter something refers to.
 */
export class ParameterSetService {
  constructor(private readonly em: EntityManager) {}

  list(): Promise<ParameterSet[]> {
    return this.em.find(ParameterSet, {}, { orderBy: { name: 'asc' } });
  }

  findById(id: string): Promise<ParameterSet | null> {
    return this.em.findOne(ParameterSet, { id });
  }

  /** `id`: the one to give it (an import keeps the id a set had); a new one otherwise. */
  create(input: ParameterSetInput & { name: string }, id?: string): Promise<ParameterSet> {
    return this.write(async (em) => {
      const set = new ParameterSet();
      if (id) set.id = id;
      set.name = await checkSetName(em, input.name);
      set.description = checkText(input.description, 'description', LIMITS.description);
      set.parameters = checkParameters(input.parameters ?? []);
      em.persist(set);
      return set;
    });
  }

  /** Changes what is given; `parameters` replaces the whole list. */
  update(id: string, input: ParameterSetInput): Promise<ParameterSet> {
    return this.write(async (em) => {
      const set = await load(em, id);
      if (input.name !== undefined && input.name !== set.name) {
        const name = await checkSetName(em, input.name, id);
        const users = await usesOf(em, set);
        if (users.length > 0) throw new ConflictError('name', `parameter set ${JSON.stringify(set.name)} is in use, and references name it: ${describe(users)}`, { dependents: users });
        set.name = name;
      }
      if (input.description !== undefined) set.description = checkText(input.description, 'description', LIMITS.description);
      if (input.parameters !== undefined) {
        const parameters = checkParameters(input.parameters ?? []);
        const kept = new Set(parameters.map((p) => p.name));
        for (const removed of set.parameters.filter((p) => !kept.has(p.name))) {
          const users = await referencesTo(em, `\${${set.name}__${removed.name}}`);
          if (users.length > 0) throw new ConflictError('parameters', `\${${set.name}__${removed.name}} is used: ${describe(users)}`, { dependents: users });
        }
        set.parameters = parameters;
      }
      return set;
    });
  }

  /** Deletes a set nothing uses; DELETE refused with the users listed otherwise. */
  delete(id: string): Promise<string> {
    return this.write(async (em) => {
      const set = await load(em, id);
      const users = await usesOf(em, set);
      if (users.length > 0) throw new ConflictError('id', `parameter set ${JSON.stringify(set.name)} is used by ${users.length} object(s) and cannot be deleted: ${describe(users)}`, { dependents: users });
      await em.nativeDelete(ParameterSet, { id });
      noteDeleted('ParameterSet', id, set.name);
      return id;
    });
  }

  /** What uses the set: automations it is attached to (live or in a version not live yet) and FILE paths naming it. */
  usedBy(id: string): Promise<DependentInfo[]> {
    return load(this.em, id).then((set) => usesOf(this.em, set));
  }

  // The version lock serializes these with automation saves, which attach sets and check references.
  private write<T extends ParameterSet | string>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return writeTransaction(this.em, 'a parameter set', work);
  }
}

async function load(em: EntityManager, id: string): Promise<ParameterSet> {
  const set = await em.findOne(ParameterSet, { id });
  if (!set) throw new NotFoundError('ParameterSet', id, 'id');
  return set;
}

async function checkSetName(em: EntityManager, name: string | null | undefined, exceptId?: string): Promise<string> {
  const checked = (name ?? '').trim();
  if (!isParameterName(checked)) {
    throw new BadUserInputError('name', 'a parameter set name is a letter, then letters, digits and single underscores (at most 100), e.g. "sales_eu": references read ${sales_eu__param}');
  }
  const clash = await em.findOne(ParameterSet, { name: checked }, { fields: ['id'] });
  if (clash && clash.id !== exceptId) throw new ConflictError('name', `a parameter set named ${JSON.stringify(checked)} already exists`);
  return checked;
}

export function checkParameters(parameters: Parameter[]): Parameter[] {
  if (parameters.length > PARAMETERS_PER_SET_MAX) throw new BadUserInputError('parameters', `a set holds at most ${PARAMETERS_PER_SET_MAX} parameters`);
  const seen = new Set<string>();
  return parameters.map((p, i) => {
    const name = (p.name ?? '').trim();
    if (!isParameterName(name)) throw new BadUserInputError(`parameters[${i}].name`, 'a parameter name is a letter, then letters, digits and single underscores (at most 100)');
    if (seen.has(name)) throw new BadUserInputError(`parameters[${i}].name`, `parameter ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
    if (typeof p.value !== 'string') throw new BadUserInputError(`parameters[${i}].value`, 'a value is a string');
    if (Buffer.byteLength(p.value, 'utf8') > PARAMETER_VALUE_MAX_BYTES) throw new BadUserInputError(`parameters[${i}].value`, `a value is at most ${PARAMETER_VALUE_MAX_BYTES} bytes`);
    if (p.value.includes('\0')) throw new BadUserInputError(`parameters[${i}].value`, 'a value cannot hold a NUL character');
    return { name, value: p.value };
  });
}

async function usesOf(em: EntityManager, set: ParameterSet): Promise<DependentInfo[]> {
  const links = await em.find(AutomationParameterSet, { parameterSet: set.id }, { populate: ['automation'] });
  const attached = links.map((l) => {
    const a = l.automation.getEntity();
    return { id: a.id, name: a.name, type: a.kind, reason: `attached to ${JSON.stringify(a.name)}` };
  });
  const pending = await pendingUses(em, [set.id], (d) => (d.parameterSetIds?.includes(set.id) ? 'attached to' : null));
  return [...attached, ...pending, ...(await pathsNaming(em, `\${${set.name}__`))];
}

/** Who refers to one parameter: attached automations whose settings name it, versions not live yet, FILE paths. */
async function referencesTo(em: EntityManager, reference: string): Promise<DependentInfo[]> {
  const setName = reference.slice(2, reference.indexOf('__'));
  const set = await em.findOneOrFail(ParameterSet, { name: setName });
  const links = await em.find(AutomationParameterSet, { parameterSet: set.id }, { fields: ['automation'] });
  const automations = links.length > 0 ? await em.find(Automation, { id: { $in: links.map((l) => l.automation.id) } }) : [];
  const live = automations
    .filter((a) => parameterizedSettings(a).some((s) => JSON.stringify(s.value ?? null).includes(reference)))
    .map((a) => ({ id: a.id, name: a.name, type: a.kind, reason: `named in the settings of ${JSON.stringify(a.name)}` }));
  const pending = await pendingUses(em, [reference], (d) => (JSON.stringify(d).includes(reference) ? 'named in' : null));
  return [...live, ...pending, ...(await pathsNaming(em, reference))];
}

// `_` in LIKE matches any character: a wider net, narrowed by the exact check after.
async function pathsNaming(em: EntityManager, text: string): Promise<DependentInfo[]> {
  const files = await em.find(Datasource, { kind: DatasourceKind.FILE, path: { $like: `%${text}%` } }, { fields: ['id', 'name', 'kind', 'path'] });
  return files.filter((d) => d.path?.includes(text)).map((d) => ({ id: d.id, name: d.name, type: 'DATASOURCE', reason: `named in the path of ${JSON.stringify(d.name)}` }));
}

function describe(users: DependentInfo[]): string {
  return users.map((u) => u.reason).join(', ');
}
