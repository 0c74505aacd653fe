import type { EntityManager } from '@mikro-orm/knex';
import { Role, TokenScope } from '../../enums.js';
import { dateOf } from '../dialect.js';

/** A session or API token with its owner, as one statement reads them for each request. */
export interface CredentialRow {
  id: string;
  createdAt: Date;
  /** Sessions: when it ends at the latest. Tokens: when it expires (null: never). */
  expiresAt: Date | null;
  /** Sessions: last use. Tokens: last use (null: never used). */
  lastUsedAt: Date | null;
  /** Tokens only: its role and when it was revoked. */
  role: Role | null;
  revokedAt: Date | null;
  /** Tokens only: LINEAGE_WRITER when the token may only send OpenLineage events. */
  scope?: TokenScope | null;
  user: { id: string; email: string; name: string; role: Role; disabled: boolean; passwordChangedAt: Date };
}

type Raw = Record<string, unknown>;

const flag = (value: unknown): boolean => value === true || value === 1 || value === '1';

function credential(row: Raw, token: boolean): CredentialRow {
  return {
    id: String(row.id),
    createdAt: dateOf(row.created_at)!,
    expiresAt: dateOf(row.expires_at),
    lastUsedAt: dateOf(token ? row.last_used_at : row.last_seen_at),
    role: token ? (row.role as Role) : null,
    revokedAt: token ? dateOf(row.revoked_at) : null,
    scope: token ? ((row.scope as TokenScope | null) ?? null) : null,
    user: {
      id: String(row.user_id),
      email: String(row.email),
      name: String(row.name),
      role: row.user_role as Role,
      disabled: flag(row.disabled),
      passwordChangedAt: dateOf(row.password_changed_at)!,
    },
  };
}

const USER_COLUMNS = 'u.id as user_id, u.email, u.name, u.role as user_role, u.disabled, u.password_changed_at';

/**
 * The accounts' SQL that runs on every request or must not race: a credential and its owner in
 * one statement (checking a session or token costs one indexed read), and counting a failed
 * sign-in in one upsert.
 */
export class AccountRepository {
  constructor(private readonly em: EntityManager) {}

  async sessionByHash(tokenHash: string): Promise<CredentialRow | null> {
    const [row] = (await this.em.execute(
      `select s.id, s.created_at, s.expires_at, s.last_seen_at, ${USER_COLUMNS} from user_session s join user_account u on u.id = s.user_id where s.token_hash = ?`,
      [tokenHash],
    )) as Raw[];
    return row ? credential(row, false) : null;
  }

  async apiTokenByHash(tokenHash: string): Promise<CredentialRow | null> {
    return (await this.apiTokensByHash([tokenHash])).get(tokenHash) ?? null;
  }

  /** Several tokens with their owners in one statement (those asked for together), by hash. */
  async apiTokensByHash(tokenHashes: string[]): Promise<Map<string, CredentialRow>> {
    const rows = (await this.em.execute(
      `select t.id, t.token_hash, t.created_at, t.expires_at, t.last_used_at, t.role, t.revoked_at, t.scope, ${USER_COLUMNS} from api_token t join user_account u on u.id = t.created_by_id
        where t.token_hash in (${tokenHashes.map(() => '?').join(', ')})`,
      tokenHashes,
    )) as Raw[];
    return new Map(rows.map((row) => [String(row.token_hash), credential(row, true)]));
  }

  /** Adds a failed sign-in to `key` (or starts again after `forgetBefore`) and answers the failures counted. */
  async countFailure(key: string, now: Date, forgetBefore: Date): Promise<number> {
    const rows = (await this.em.execute(
      `insert into login_throttle (key, failures, last_failure_at, blocked_until) values (?, 1, ?, null)
       on conflict (key) do update set
         failures = case when login_throttle.last_failure_at < ? then 1 else login_throttle.failures + 1 end,
         last_failure_at = excluded.last_failure_at
       returning failures`,
      [key, now, forgetBefore],
    )) as { failures: number | string }[];
    return Number(rows[0]!.failures);
  }
}
