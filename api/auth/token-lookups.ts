import type { EntityManager } from '@mikro-orm/knex';
import { Drain } from '../../core/drain.js';
import { AccountRepository, type CredentialRow } from '../../core/db/repositories/account.repository.js';

/** Most tokens one statement reads. */
const MOST_AT_ONCE = 500;

interface Waiting {
  hash: string;
  resolve: (row: CredentialRow | null) => void;
  reject: (error: unknown) => void;
}

/**
 * API token lookups taken together: while one statement runs, the requests that arrive wait and
 * are read by the next one, all in one statement (group commit, for reads). Every request still
 * reads its token after it arrived: a revocation counts from the next statement on, as it would
 * alone. Many clients at once (OpenLineage producers) then cost the one SQLite connection a read
 * per batch rather than a read each.
 */
export class TokenLookups {
  private readonly waiting: Waiting[] = [];
  private readonly drain = new Drain(
    () => this.waiting.length > 0,
    () => this.readNext(),
  );

  constructor(private readonly em: () => EntityManager) {}

  find(hash: string): Promise<CredentialRow | null> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ hash, resolve, reject });
      this.drain.kick();
    });
  }

  /** Reads the tokens of those waiting now (up to MOST_AT_ONCE) in one statement. */
  private async readNext(): Promise<void> {
    const batch = this.waiting.splice(0, MOST_AT_ONCE);
    try {
      const rows = await new AccountRepository(this.em()).apiTokensByHash([...new Set(batch.map((w) => w.hash))]);
      for (const w of batch) w.resolve(rows.get(w.hash) ?? null);
    } catch (error) {
      for (const w of batch) w.reject(error);
    }
  }
}
