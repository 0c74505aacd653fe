import { Migration } from '@mikro-orm/migrations';

/** People who sign in, their sessions, and machines' API tokens (only hashes of secrets), failed logins, the audit log, and who started a run. */
export class Migration20261127200000Accounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "user_account" ("id" varchar(36) not null, "email" varchar(320) not null, "name" varchar(200) not null, "role" text check ("role" in ('VIEWER', 'EDITOR', 'ADMIN')) not null, "password_hash" text not null, "disabled" boolean not null default false, "created_at" timestamptz not null, "password_changed_at" timestamptz not null, constraint "user_account_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "user_account" add constraint "user_account_email_unique" unique ("email");`);
    this.addSql(
      `create table "api_token" ("id" varchar(36) not null, "name" varchar(200) not null, "role" text check ("role" in ('VIEWER', 'EDITOR', 'ADMIN')) not null, "token_hash" varchar(64) not null, "created_by_id" varchar(36) not null, "created_at" timestamptz not null, "expires_at" timestamptz null, "last_used_at" timestamptz null, "revoked_at" timestamptz null, constraint "api_token_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "api_token_created_by_id_index" on "api_token" ("created_by_id");`);
    this.addSql(
      `create table "user_session" ("id" varchar(36) not null, "token_hash" varchar(64) not null, "user_id" varchar(36) not null, "created_at" timestamptz not null, "expires_at" timestamptz not null, "last_seen_at" timestamptz not null, constraint "user_session_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "user_session" add constraint "user_session_token_hash_unique" unique ("token_hash");`);
    this.addSql(`create index "user_session_expires_at_index" on "user_session" ("expires_at");`);
    this.addSql(`create index "user_session_user_id_index" on "user_session" ("user_id");`);
    this.addSql(`alter table "api_token" add constraint "api_token_created_by_id_foreign" foreign key ("created_by_id") references "user_account" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "user_session" add constraint "user_session_user_id_foreign" foreign key ("user_id") references "user_account" ("id") on update cascade on delete cascade;`);
    this.addSql(
      `create table "login_throttle" ("key" varchar(400) not null, "failures" int not null, "last_failure_at" timestamptz not null, "blocked_until" timestamptz null, constraint "login_throttle_pkey" primary key ("key"));`,
    );
    this.addSql(
      `create table "audit_event" ("id" serial primary key, "at" timestamptz not null, "actor_id" varchar(36) null, "actor_email" varchar(320) null, "token_id" varchar(36) null, "action" varchar(100) not null, "object_type" varchar(50) null, "object_id" varchar(36) null, "object_name" varchar(320) null, "outcome" varchar(20) not null, "error_code" varchar(50) null, "changes" jsonb null);`,
    );
    this.addSql(`create index "audit_event_action_id_index" on "audit_event" ("action", "id");`);
    this.addSql(`create index "audit_event_actor_id_id_index" on "audit_event" ("actor_id", "id");`);
    this.addSql(`create index "audit_event_object_id_id_index" on "audit_event" ("object_id", "id");`);
    this.addSql(`alter table "run" add column "started_by_id" varchar(36) null;`);
  }
}
