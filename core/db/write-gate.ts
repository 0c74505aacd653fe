import type { EntityManager } from '@mikro-orm/knex';

/**
 * How many write transactions one process has open on PostgreSQL at a time. Writes end in the
 * change log's lock, one at a time across all processes; more of them waiting there would each
 * hold a pool connection that reads need, and a process's reads would wait behind its writes.
 */
export const WRITES_AT_ONCE = 3;

/** A first-come, first-served count of turns. */
class Turns {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.size) this.active += 1;
    else await new Promise<void>((go) => this.waiting.push(go)); // the turn is handed over, not counted again
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active -= 1;
    }
  }
}

/** One gate per database connection pool (an ORM's driver is shared by all its entity managers). */
const gates = new WeakMap<object, Turns>();

/** Runs `work`, a write transaction on the pool behind `em`, when that pool has a write turn free. */
export function inWriteTurn<T>(em: EntityManager, work: () => Promise<T>): Promise<T> {
  const driver = em.getDriver();
  let gate = gates.get(driver);
  if (!gate) gates.set(driver, (gate = new Turns(WRITES_AT_ONCE)));
  return gate.run(work);
}
