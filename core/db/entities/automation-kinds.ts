import { Entity, Enum, Property } from '@mikro-orm/core';
import { Automation } from './automation.js';
import { AfterImport, AutomationKind, ScriptLanguage } from '../../enums.js';

/** One input datasource → one output datasource, through a transformation. */
@Entity({ discriminatorValue: AutomationKind.ETL_STEP })
export class EtlStep extends Automation {
  @Property({ type: 'json', nullable: true })
  transform: Record<string, unknown> = {};
}

/** Imports files from an SFTP server into one output datasource. Secrets are stored encrypted and never returned. */
@Entity({ discriminatorValue: AutomationKind.SFTP_IMPORT })
export class SftpImport extends Automation {
  @Property({ type: 'string', length: 255, nullable: true })
  host!: string;

  @Property({ type: 'integer', nullable: true })
  port: number = 22;

  @Property({ type: 'string', length: 200, nullable: true })
  username!: string;

  /** AES-256-GCM sealed password; write-only, never exposed. */
  @Property({ type: 'text', nullable: true })
  passwordSealed?: string | null;

  /** AES-256-GCM sealed private key; write-only, never exposed. */
  @Property({ type: 'text', nullable: true })
  privateKeySealed?: string | null;

  get hasPassword(): boolean {
    return this.passwordSealed != null;
  }

  get hasPrivateKey(): boolean {
    return this.privateKeySealed != null;
  }

  /** Set by the update that cleared the stored secrets; never stored (loaded entities skip initializers, hence optional). */
  secretsCleared?: boolean;

  get credentialsDropped(): boolean {
    return this.secretsCleared === true;
  }

  @Property({ type: 'text', nullable: true })
  remoteDir: string = '.';

  @Property({ type: 'string', length: 500, nullable: true })
  filePattern: string = '*';

  @Property({ type: 'string', length: 100, nullable: true })
  hostKeyFingerprint?: string | null;

  @Enum({ items: () => AfterImport, type: 'string', nullable: true, default: AfterImport.KEEP })
  afterImport: AfterImport = AfterImport.KEEP;

  @Property({ type: 'text', nullable: true })
  moveToDir?: string | null;
}

/** User code with declared inputs and outputs (its "Usage"). */
@Entity({ discriminatorValue: AutomationKind.SCRIPT })
export class Script extends Automation {
  @Enum({ items: () => ScriptLanguage, type: 'string', nullable: true })
  language!: ScriptLanguage;

  @Property({ type: 'text', nullable: true })
  code: string = '';

  @Property({ type: 'json', nullable: true })
  variables?: Record<string, unknown> | null;

  @Property({ type: 'integer', nullable: true, default: 600 })
  timeoutSeconds: number = 600;

  @Property({ type: 'integer', nullable: true, default: 512 })
  memoryMb: number = 512;
}

/** Triggers an ordered list of automations (chain tasks included). */
@Entity({ discriminatorValue: AutomationKind.CHAIN_TASK })
export class ChainTask extends Automation {
  @Property({ type: 'boolean', nullable: true })
  continueOnFailure: boolean = false;
}
