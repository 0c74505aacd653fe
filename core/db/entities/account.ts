import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, Index, ManyToOne, PrimaryKey, Property, type Opt, type Ref } from '@mikro-orm/core';
import { Role } from '../../enums.js';

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
