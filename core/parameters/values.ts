import type { EntityManager } from '@mikro-orm/knex';
import { AutomationParameterSet, ParameterSet } from '../db/entities/index.js';
import { BadUserInputError } from '../errors.js';
import { RESOLVED_TEXT_MAX_BYTES, mapStrings, referencesIn, substitute, type ParameterReference } from './references.js';

const NOT_ATTACHED = 'is not attached to this automation: add it to parameterSetIds';

/** A reference that cannot be resolved, or a text that grows too large: `field` says where. */
export class ParameterError extends BadUserInputError {}

/**
 * The parameter values a text may use, and the ones it used. An automation's settings see the
 * sets attached to it; a FILE datasource's path (a datasource has no sets of its own) sees every
 * set of the workspace.
 */
export class ParameterValues {
  /** `${set__param}` → value, for each reference resolved so far (what a run or a preview logs). */
  readonly used = new Map<string, string>();

  private constructor(
    private readonly sets: Map<string, Map<string, string>>,
    /** Why a set is out of reach: "is not attached to …"; null when every set may be used. */
    private readonly scope: string | null,
    /** Every set's name, to tell a set out of reach from one that does not exist. */
    private readonly known: Set<string> = new Set(sets.keys()),
  ) {}

  /** Values from sets given (not read from the database); `attached`: they are an automation's, the others out of reach. */
  static of(sets: { name: string; parameters: { name: string; value: string }[] }[], attached?: { known: Iterable<string> }): ParameterValues {
    return attached ? new ParameterValues(byName(sets), NOT_ATTACHED, new Set(attached.known)) : new ParameterValues(byName(sets), null);
  }

  /** Every set of the workspace. */
  static async all(em: EntityManager): Promise<ParameterValues> {
    return new ParameterValues(byName(await em.find(ParameterSet, {})), null);
  }

  /** The sets attached to an automation (its row's links), or `setIds` when given (a definition's). */
  static async attached(em: EntityManager, automationId: string | null, setIds?: string[]): Promise<ParameterValues> {
    const ids = setIds ?? (await em.find(AutomationParameterSet, { automation: automationId! }, { fields: ['parameterSet'] })).map((l) => l.parameterSet.id);
    const sets = ids.length > 0 ? await em.find(ParameterSet, { id: { $in: ids } }) : [];
    const known = new Set((await em.find(ParameterSet, {}, { fields: ['name'] })).map((s) => s.name));
    return new ParameterValues(byName(sets), NOT_ATTACHED, known);
  }

  /** The text with its references replaced; an unknown one is a ParameterError on `field`. */
  resolve(text: string, field: string): string {
    const resolved = substitute(text, (reference) => this.valueOf(reference, field));
    if (resolved !== text && Buffer.byteLength(resolved, 'utf8') > RESOLVED_TEXT_MAX_BYTES) {
      throw new ParameterError(field, `${field} is larger than ${RESOLVED_TEXT_MAX_BYTES} bytes once its parameters are filled in`);
    }
    return resolved;
  }

  /** A copy of a JSON value with the references in each of its strings replaced (`field` prefixes their paths). */
  resolveJson<T>(value: T, field: string): T {
    return mapStrings(value, (text, path) => this.resolve(text, path ? `${field}.${path}` : field));
  }

  /** Refuses a text naming a set or parameter these values do not have (what saving checks). */
  check(text: string, field: string): void {
    for (const reference of referencesIn(text)) this.valueOf(reference, field);
  }

  /** The used values as log lines, in the order first used. */
  logLines(): string[] {
    if (this.used.size === 0) return [];
    return [`parameters: ${[...this.used].map(([ref, value]) => `${ref} = ${JSON.stringify(value)}`).join(', ')}`];
  }

  private valueOf(reference: ParameterReference, field: string): string {
    const set = this.sets.get(reference.set);
    if (!set) {
      const why = this.scope !== null && this.known.has(reference.set) ? this.scope : 'does not exist';
      throw new ParameterError(field, `${reference.text} in ${field}: parameter set ${JSON.stringify(reference.set)} ${why}`);
    }
    const value = set.get(reference.param);
    if (value === undefined) {
      throw new ParameterError(field, `${reference.text} in ${field}: parameter set ${JSON.stringify(reference.set)} has no parameter ${JSON.stringify(reference.param)}`);
    }
    this.used.set(reference.text, value);
    return value;
  }
}

function byName(sets: { name: string; parameters: { name: string; value: string }[] }[]): Map<string, Map<string, string>> {
  return new Map(sets.map((s) => [s.name, new Map(s.parameters.map((p) => [p.name, p.value]))]));
}
