import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../../../core/enums.js';
import type { ConnectionInput } from '../../services/connections/connection.service.js';

@ObjectType('Connection', {
  description: 'A stored credential (the connection store): automations and connectors select it; its password and key are write-only',
})
export class ConnectionObject {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => ConnectionType) type!: ConnectionType;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => String) host!: string;
  @Field(() => Int) port!: number;
  @Field(() => String) username!: string;
  @Field(() => String, { nullable: true, description: 'POSTGRES and MYSQL: the database' }) database!: string | null;
  @Field(() => Boolean, { description: 'Whether a password is stored (never returned)' }) hasPassword!: boolean;
  @Field(() => Boolean, { description: 'Whether a private key is stored (never returned)' }) hasPrivateKey!: boolean;
  @Field(() => Boolean, {
    description: 'True in the answer to an update that moved host, port, user or database without giving the secrets again: the stored ones were cleared so they never reach another server',
  })
  secretsCleared!: boolean;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date) modifiedAt!: Date;
}

@ObjectType('ConnectionTest', { description: 'What testing a connection found, within 10 s' })
export class ConnectionTestObject {
  @Field(() => Boolean) ok!: boolean;
  @Field(() => String, { description: 'What was reached, or what failed and why' }) message!: string;
  @Field(() => String, { nullable: true, description: 'DNS, REFUSED, TIMEOUT, AUTH, PERMISSION, NOT_FOUND, TLS or OTHER; null when ok' }) failure!: string | null;
}

@InputType('CreateConnectionInput')
export class CreateConnectionInput implements ConnectionInput {
  @Field(() => String) name!: string;
  @Field(() => ConnectionType) type!: ConnectionType;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String) host!: string;
  @Field(() => Int, { nullable: true, description: 'Defaults to 22, 5432 or 3306 by type' }) port?: number | null;
  @Field(() => String) username!: string;
  @Field(() => String, { nullable: true, description: 'Write-only' }) password?: string | null;
  @Field(() => String, { nullable: true, description: 'SFTP only; write-only, PEM or OpenSSH format' }) privateKey?: string | null;
  @Field(() => String, { nullable: true, description: 'POSTGRES and MYSQL: required' }) database?: string | null;
}

@InputType('UpdateConnectionInput')
export class UpdateConnectionInput implements ConnectionInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String, { nullable: true }) host?: string | null;
  @Field(() => Int, { nullable: true }) port?: number | null;
  @Field(() => String, { nullable: true }) username?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only; null removes the stored password' }) password?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only; null removes the stored key' }) privateKey?: string | null;
  @Field(() => String, { nullable: true }) database?: string | null;
}
