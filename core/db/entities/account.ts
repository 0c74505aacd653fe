import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Role, TokenScope } from '../../enums.js';

/**
 * A person who signs in. The email (lowercased, NFC) is the login name; the password is kept
 * only as a scrypt hash (core/auth/passwords.ts). A disabled user cannot sign in, and their
 * sessions and tokens stop working.
 */
@Entity({ tableName: 'user_account' })
export class UserAccount {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 320, unique: true })
  email!: string;

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Enum({ items: () => Role, type: 'string' })
  role!: Role;

  @Property({ type: 'text' })
  passwordHash!: string;

  @Property({ type: 'boolean', default: false })
  disabled: boolean & Opt = false;

  @Property({ type: DateTimeType })
  createdAt: Date & Opt = new Date();

  /** Sessions made before this are no longer valid (a password change ends the other sessions). */
  @Property({ type: DateTimeType })
  passwordChangedAt: Date & Opt = new Date();
}

/** A signed-in browser: the cookie holds the token, the database only its SHA-256. */
@Entity({ tableName: 'user_session' })
@Index({ properties: ['user'] })
@Index({ properties: ['expiresAt'] })
export class UserSession {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 64, unique: true })
  tokenHash!: string;

  @ManyToOne({ entity: () => UserAccount, ref: true, deleteRule: 'cascade' })
  user!: Ref<UserAccount>;

  @Property({ type: DateTimeType })
  createdAt: Date & Opt = new Date();

  @Property({ type: DateTimeType })
  expiresAt!: Date;

  @Property({ type: DateTimeType })
  lastSeenAt: Date & Opt = new Date();
}

/**
 * A machine's credential (CI jobs, OpenLineage producers), sent as `Authorization: Bearer`. Its
 * role is at most its creator's; only its SHA-256 is kept; a revoked token stays listed.
 */
@Entity({ tableName: 'api_token' })
@Index({ properties: ['createdBy'] })
export class ApiToken {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200 })
  name!: string;

  @Enum({ items: () => Role, type: 'string' })
  role!: Role;

  /** LINEAGE_WRITER: the token only sends OpenLineage events (POST /api/v1/lineage), whatever its role. */
  @Enum({ items: () => TokenScope, type: 'string', nullable: true })
  scope?: TokenScope | null;

  @Property({ type: 'string', length: 64, unique: true })
  tokenHash!: string;

  @ManyToOne({ entity: () => UserAccount, ref: true, deleteRule: 'cascade' })
  createdBy!: Ref<UserAccount>;

  @Property({ type: DateTimeType })
  createdAt: Date & Opt = new Date();

  @Property({ type: DateTimeType, nullable: true })
  expiresAt?: Date | null;

  @Property({ type: DateTimeType, nullable: true })
  lastUsedAt?: Date | null;

  @Property({ type: DateTimeType, nullable: true })
  revokedAt?: Date | null;
}

/**
 * Failed logins of one account (`account:<email>`) or one address (`address:<ip>`), kept in the
 * database so every API process slows the same guesser. Forgotten after a quiet spell.
 */
@Entity({ tableName: 'login_throttle' })
export class LoginThrottle {
  @PrimaryKey({ type: 'string', length: 400 })
  key!: string;

  @Property({ type: 'integer' })
  failures!: number;

  @Property({ type: DateTimeType })
  lastFailureAt!: Date;

  /** No attempt is checked before this. */
  @Property({ type: DateTimeType, nullable: true })
  blockedUntil?: Date | null;
}

/**
 * One entry of the audit log: who did what to which object, when, and what changed (plain fields
 * before and after; never a secret's value). Refused mutations are kept too, with their code.
 */
@Entity({ tableName: 'audit_event' })
@Index({ properties: ['objectId', 'id'] })
@Index({ properties: ['actorId', 'id'] })
@Index({ properties: ['action', 'id'] })
export class AuditEvent {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: DateTimeType })
  at: Date & Opt = new Date();

  /** The user, acting directly or through a token; null when nobody was signed in (a failed sign-in). */
  @Property({ type: 'string', length: 36, nullable: true })
  actorId?: string | null;

  @Property({ type: 'string', length: 320, nullable: true })
  actorEmail?: string | null;

  @Property({ type: 'string', length: 36, nullable: true })
  tokenId?: string | null;

  /** The mutation (`createDatasource`), or `login`, `apiTokenFirstUse`… */
  @Property({ type: 'string', length: 100 })
  action!: string;

  @Property({ type: 'string', length: 50, nullable: true })
  objectType?: string | null;

  @Property({ type: 'string', length: 36, nullable: true })
  objectId?: string | null;

  @Property({ type: 'string', length: 320, nullable: true })
  objectName?: string | null;

  /** `OK`, or `REFUSED` with the error's code. */
  @Property({ type: 'string', length: 20 })
  outcome!: string;

  @Property({ type: 'string', length: 50, nullable: true })
  errorCode?: string | null;

  /** Every object the action changed, with its fields before and after. */
  @Property({ type: 'json', nullable: true })
  changes?: unknown[] | null;
}
