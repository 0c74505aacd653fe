import type { EntityManager } from '@mikro-orm/knex';
import type { SecretBox } from '../secrets.js';
import { Setting } from './entities/index.js';

/** The setting holding the check value of the key that seals this database's secrets. */
export const KEY_CHECK_SETTING = 'secret_key_check';

/** This process's key is not the one the database's secrets were sealed with: it must not start. */
export class SecretKeyMismatchError extends Error {
  constructor(keySource: string) {
    super(
      `TRIBUTARY_SECRET_KEY does not match the key this database's secrets are sealed with (this process's key comes from ${keySource}). ` +
        'Every process that shares a database must use the same TRIBUTARY_SECRET_KEY: copy it from the process that first used this database. Refusing to start.',
    );
    this.name = 'SecretKeyMismatchError';
  }
}

/**
 * Records the key's check value on first use (the first of several processes starting at once
 * wins; the others compare against it) and refuses a process whose key differs, at start rather
 * than with a run failing later on a secret it cannot open.
 */
export async function verifySecretKey(em: EntityManager, secrets: SecretBox, keySource: string): Promise<void> {
  const mine = secrets.checkValue();
  await em.createQueryBuilder(Setting).insert({ key: KEY_CHECK_SETTING, value: mine }).onConflict('key').ignore().execute();
  const stored = await em.fork().findOneOrFail(Setting, { key: KEY_CHECK_SETTING });
  if (stored.value !== mine) throw new SecretKeyMismatchError(keySource);
}
