import { BadUserInputError } from '../../core/errors.js';
import type { Context } from '../graphql/context.js';
import { normalizeName } from '../../core/validation.js';

/** Finds an object by id or by name (exactly one of them); unknown ones are null, never an error. */
export async function lookup<T>(
  id: string | null | undefined,
  name: string | null | undefined,
  byId: (id: string) => Promise<T | null>,
  byName: (name: string) => Promise<T | null>,
): Promise<T | null> {
  if ((id == null) === (name == null)) throw new BadUserInputError(id == null ? 'id' : 'name', 'give either id or name');
  return id != null ? byId(id) : byName(normalizeName(name!)); // names are stored in NFC
}

/** Marks the end of a mutation: later fields of the same request must not see cached pre-write data. */
export function written<T>(ctx: Context, result: T): T {
  ctx.invalidate();
  return result;
}
