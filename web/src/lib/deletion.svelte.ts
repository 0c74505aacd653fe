import { GraphQLRequestError } from './graphql.js';
import { handleError } from './handle-error.js';

/** An object that blocks a deletion, as the server lists it in `extensions.dependents`. */
export interface Dependent {
  id: string;
  name: string;
  type: string;
  reason: string;
}

export interface Refusal {
  message: string;
  dependents: Dependent[];
}

/** Refusals the page explains in place (what blocks, with links); other errors go to handleError. */
const EXPLAINED = ['DATASOURCE_IN_USE', 'AUTOMATION_IN_USE', 'CONFLICT'];

/**
 * A delete that asks first, goes to `afterHref` when done, and otherwise keeps the server's
 * refusal with the dependents that block it; nothing is deleted then.
 */
export class SafeDeletion {
  busy = $state(false);
  refused = $state<Refusal | null>(null);

  constructor(
    private readonly what: string,
    private readonly remove: () => Promise<unknown>,
    private readonly afterHref: string,
  ) {}

  async run(name: string): Promise<void> {
    if (!confirm(`Delete ${this.what} "${name}"?${this.what === 'datasource' ? ' Its data goes with it.' : ' Its run history goes with it.'}`)) return;
    this.busy = true;
    this.refused = null;
    try {
      await this.remove();
      window.location.assign(this.afterHref);
    } catch (error) {
      if (error instanceof GraphQLRequestError && EXPLAINED.includes(error.code)) {
        this.refused = { message: error.message, dependents: (error.errors[0]?.extensions?.dependents as Dependent[] | undefined) ?? [] };
      } else {
        handleError(error, `Could not delete the ${this.what}`);
      }
    } finally {
      this.busy = false;
    }
  }
}

/** Where a dependent's page is. */
export const dependentHref = (d: Dependent): string =>
  d.type === 'DATASOURCE' || d.type === 'JOIN_DATASOURCE' || d.type === 'EXTERNAL_DATASOURCE' ? `/datasources/${encodeURIComponent(d.id)}` : `/automations/${encodeURIComponent(d.id)}`;
