import { Entity, Enum, Property } from '@mikro-orm/core';
import { Field, Int, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { Automation } from './automation.js';
import { AfterImport, AutomationKind, ScriptLanguage } from './enums.js';

/** One input datasource → one output datasource, through a transformation. */
@Entity({ discriminatorValue: AutomationKind.ETL_STEP })
@ObjectType('EtlStep', { implements: Automation })
export class EtlStep extends Automation {
  @Property({ type: 'json', nullable: true })
  @Field(() => GraphQLJSON, { description: 'The transformation: a pipeline of operations or { "sql": … }' })
  transform: Record<string, unknown> = {};
}

/** Imports files from an SFTP server into one output datasource. Secrets are stored encrypted and never returned. */
@Entity({ discriminatorValue: AutomationKind.SFTP_IMPORT })
@ObjectType('SftpImport', { implements: Automation })
export class SftpImport extends Automation {
  @Property({ type: 'string', length: 255, nullable: true })
  @Field(() => String)
  host!: string;

  @Property({ type: 'integer', nullable: true })
  @Field(() => Int)
  port: number = 22;

  @Property({ type: 'string', length: 200, nullable: true })
  @Field(() => String)
  username!: string;

  /** AES-256-GCM sealed password; write-only, never exposed. */
  @Property({ type: 'text', nullable: true })
  passwordSealed?: string | null;

  /** AES-256-GCM sealed private key; write-only, never exposed. */
  @Property({ type: 'text', nullable: true })
  privateKeySealed?: string | null;

  @Field(() => Boolean, { description: 'Whether a password is stored (the password itself is never returned)' })
  get hasPassword(): boolean {
    return this.passwordSealed != null;
  }

  @Field(() => Boolean, { description: 'Whether a private key is stored (the key itself is never returned)' })
  get hasPrivateKey(): boolean {
    return this.privateKeySealed != null;
  }

  /** Set by the update that cleared the stored secrets; never stored (loaded entities skip initializers, hence optional). */
  secretsCleared?: boolean;

  @Field(() => Boolean, {
    description:
      'True in the answer to an update that changed host, port or username without giving a new password or key: the stored ones were cleared so that they never go to another server. Set one again before the next run.',
  })
  get credentialsDropped(): boolean {
    return this.secretsCleared === true;
  }

  @Property({ type: 'text', nullable: true })
  @Field(() => String)
  remoteDir: string = '.';

  @Property({ type: 'string', length: 500, nullable: true })
  @Field(() => String, { description: 'Glob matched against file names in remoteDir, e.g. "orders-*.csv"' })
  filePattern: string = '*';

  @Property({ type: 'string', length: 100, nullable: true })
  @Field(() => String, { nullable: true, description: 'Pinned host key fingerprint ("SHA256:…"); null: trust the first key seen' })
  hostKeyFingerprint?: string | null;

  @Enum({ items: () => AfterImport, type: 'string', nullable: true, default: AfterImport.KEEP })
  @Field(() => AfterImport)
  afterImport: AfterImport = AfterImport.KEEP;

  @Property({ type: 'text', nullable: true })
  @Field(() => String, { nullable: true, description: 'MOVE: remote directory imported files go to' })
  moveToDir?: string | null;
}

/** User code with declared inputs and outputs (its "Usage"). */
@Entity({ discriminatorValue: AutomationKind.SCRIPT })
@ObjectType('Script', { implements: Automation })
export class Script extends Automation {
  @Enum({ items: () => ScriptLanguage, type: 'string', nullable: true })
  @Field(() => ScriptLanguage)
  language!: ScriptLanguage;

  @Property({ type: 'text', nullable: true })
  @Field(() => String)
  code: string = '';

  @Property({ type: 'json', nullable: true })
  @Field(() => GraphQLJSON, { nullable: true, description: 'Runtime variables: JSON object with optional args, kwargs, job_config' })
  variables?: Record<string, unknown> | null;

  @Property({ type: 'integer', nullable: true, default: 600 })
  @Field(() => Int, { description: 'A run taking longer is stopped and fails (seconds)' })
  timeoutSeconds: number = 600;

  @Property({ type: 'integer', nullable: true, default: 512 })
  @Field(() => Int, { description: 'Memory cap of the script process (MB)' })
  memoryMb: number = 512;
}

/** Triggers an ordered list of automations (chain tasks included). */
@Entity({ discriminatorValue: AutomationKind.CHAIN_TASK })
@ObjectType('ChainTask', { implements: Automation })
export class ChainTask extends Automation {
  @Property({ type: 'boolean', nullable: true })
  @Field(() => Boolean, { description: 'Whether later steps still run after a step fails' })
  continueOnFailure: boolean = false;
}

export const AUTOMATION_CLASSES = { EtlStep, SftpImport, Script, ChainTask };
