import { randomUUID } from 'node:crypto';
import { DateTimeType, Entity, Enum, PrimaryKey, Property } from '@mikro-orm/core';
import { ConnectionType } from '../../enums.js';

/**
 * A named, typed credential (the store the seeds select connection values from): where a source
 * system is and how to log in. Automations and connectors refer to it by id; nobody types its
 * password into a flow. Secrets are sealed with the server's key (core/secrets.ts), write-only.
 */
@Entity({ tableName: 'connection' })
export class Connection {
  @PrimaryKey({ type: 'string', length: 36 })
  id: string = randomUUID();

  @Property({ type: 'string', length: 200, unique: true })
  name!: string;

  @Enum({ items: () => ConnectionType, type: 'string' })
  type!: ConnectionType;

  @Property({ type: 'text', nullable: true })
  description?: string | null;

  @Property({ type: 'string', length: 255 })
  host!: string;

  @Property({ type: 'integer' })
  port!: number;

  @Property({ type: 'string', length: 200 })
  username!: string;

  /** POSTGRES / MYSQL: the database to connect to. */
  @Property({ type: 'string', length: 200, nullable: true })
  database?: string | null;

  /** AES-256-GCM sealed password; write-only, never exposed. */
  @Property({ type: 'text', nullable: true })
  passwordSealed?: string | null;

  /** SFTP: AES-256-GCM sealed private key; write-only, never exposed. */
  @Property({ type: 'text', nullable: true })
  privateKeySealed?: string | null;

  /**
   * The SFTP import it was made for, from settings given inline (createSftpImport's first form, or
   * an upgrade from before connections): only that import's inline settings may change it. Null for
   * a connection an admin made, which only admins change.
   */
  @Property({ type: 'string', length: 36, nullable: true })
  ownerAutomationId?: string | null;

  @Property({ type: DateTimeType })
  createdAt: Date = new Date();

  @Property({ type: DateTimeType, onUpdate: () => new Date() })
  modifiedAt: Date = new Date();

  get hasPassword(): boolean {
    return this.passwordSealed != null;
  }

  get hasPrivateKey(): boolean {
    return this.privateKeySealed != null;
  }

  /** Set by the update that cleared the stored secrets (the endpoint moved); never stored. */
  secretsCleared?: boolean;
}
