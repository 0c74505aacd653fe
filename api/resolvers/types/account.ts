import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { connectionType } from '../../graphql/connection.js';
import { Role, TokenScope } from '../../../core/enums.js';
import '../../graphql/enums.js';

@ObjectType('User', { description: 'A person who signs in' })
export class UserObject {
  @Field(() => ID) id!: string;
  @Field(() => String) email!: string;
  @Field(() => String) name!: string;
  @Field(() => Role) role!: Role;
  @Field(() => Boolean, { description: 'A disabled user cannot sign in; their sessions and tokens stop working' }) disabled!: boolean;
  @Field(() => Date) createdAt!: Date;
}

@ObjectType('ApiToken', { description: "A machine's credential: its secret is shown once, when it is created" })
export class ApiTokenObject {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => Role, { description: "What it may do, at most its owner's role" }) role!: Role;
  @Field(() => TokenScope, { nullable: true, description: 'LINEAGE_WRITER: it only sends OpenLineage events, whatever its role' }) scope!: TokenScope | null;
  @Field(() => Date, { nullable: true, description: 'Refused from then on; null: never expires' }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
  @Field(() => Date) createdAt!: Date;
  @Field(() => Date, { nullable: true, description: 'When it was revoked; refused from then on' }) revokedAt!: Date | null;
}

@ObjectType('CreatedApiToken')
export class CreatedApiTokenObject {
  @Field(() => String, { description: 'The secret, sent as `Authorization: Bearer …`: shown this once, never again' }) token!: string;
  @Field(() => ApiTokenObject) apiToken!: ApiTokenObject;
}

@InputType('CreateUserInput')
export class CreateUserInput {
  @Field(() => String) email!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: '12 to 1,024 characters' }) password!: string;
  @Field(() => Role) role!: Role;
}

@InputType('UpdateUserInput', { description: 'What to change; fields left out stay as they are' })
export class UpdateUserInput {
  @Field(() => Role, { nullable: true }) role?: Role | null;
  @Field(() => Boolean, { nullable: true, description: 'Disabling ends the user’s sessions and stops their tokens' }) disabled?: boolean | null;
}

@InputType('CreateApiTokenInput')
export class CreateApiTokenInput {
  @Field(() => String) name!: string;
  @Field(() => Role, { description: 'At most your own role' }) role!: Role;
  @Field(() => Date, { nullable: true, description: 'When it stops working; null: never' }) expiresAt?: Date | null;
  @Field(() => TokenScope, { nullable: true, description: 'LINEAGE_WRITER: a token that only sends OpenLineage events (its role must be EDITOR; it stops when its owner is no longer an editor)' }) scope?: TokenScope | null;
}

@InputType('SetupFirstAdminInput')
export class SetupFirstAdminInput {
  @Field(() => String, { description: 'The one-time setup token from the server log' }) token!: string;
  @Field(() => String) email!: string;
  @Field(() => String) name!: string;
  @Field(() => String) password!: string;
}

@ObjectType('AuditFieldChange', { description: 'A plain field of one object before and after (secrets show only that they changed)' })
export class AuditFieldChangeObject {
  @Field(() => ID, { description: 'The object (one of the entry’s `changes`)' }) objectId!: string;
  @Field(() => String) field!: string;
  @Field(() => GraphQLJSON, { nullable: true }) before!: unknown;
  @Field(() => GraphQLJSON, { nullable: true }) after!: unknown;
}

@ObjectType('AuditObjectChange', { description: 'What the action did to one object' })
export class AuditObjectChangeObject {
  @Field(() => String, { description: 'Datasource, Automation, EtlStep, UserAccount, ApiToken, Run…' }) type!: string;
  @Field(() => ID) id!: string;
  @Field(() => String, { description: 'created, updated or deleted' }) change!: string;
  @Field(() => String, { nullable: true }) name!: string | null;
}

@ObjectType('AuditEvent', { description: 'One entry of the audit log' })
export class AuditEventObject {
  @Field(() => ID) id!: number;
  @Field(() => Date) at!: Date;
  @Field(() => ID, { nullable: true, description: 'The user who acted (directly or with a token); null for a refused sign-in' }) actorId!: string | null;
  @Field(() => String, { nullable: true }) actorEmail!: string | null;
  @Field(() => ID, { nullable: true, description: 'The API token used, when one was' }) tokenId!: string | null;
  @Field(() => String, { description: 'The mutation (createDatasource…), or login, apiTokenFirstUse' }) action!: string;
  @Field(() => String, { nullable: true }) objectType!: string | null;
  @Field(() => ID, { nullable: true }) objectId!: string | null;
  @Field(() => String, { nullable: true }) objectName!: string | null;
  @Field(() => String, { description: 'OK or REFUSED' }) outcome!: string;
  @Field(() => String, { nullable: true, description: 'The error code of a refused action' }) errorCode!: string | null;
  @Field(() => [AuditObjectChangeObject]) changes!: AuditObjectChangeObject[];
  @Field(() => [AuditFieldChangeObject]) fieldChanges!: AuditFieldChangeObject[];
}

export const AuditEventConnection = connectionType('AuditEvent', AuditEventObject);
