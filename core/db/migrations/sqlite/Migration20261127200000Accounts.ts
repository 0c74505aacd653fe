import { Migration } from '@mikro-orm/migrations';

/** People who sign in, their sessions, and machines' API tokens (only hashes of secrets), failed logins, the audit log, and who started a run. */
export class Migration20261127200000Accounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      "create table `user_account` (`id` text not null, `email` text not null, `name` text not null, `role` text check (`role` in ('VIEWER', 'EDITOR', 'ADMIN')) not null, `password_hash` text not null, `disabled` integer not null default false, `created_at` datetime not null, `password_changed_at` datetime not null, primary key (`id`));",
    );
    this.addSql('create unique index `user_account_email_unique` on `user_account` (`email`);');
    this.addSql(
      "create table `api_token` (`id` text not null, `name` text not null, `role` text check (`role` in ('VIEWER', 'EDITOR', 'ADMIN')) not null, `token_hash` text not null, `created_by_id` text not null, `created_at` datetime not null, `expires_at` datetime null, `last_used_at` datetime null, `revoked_at` datetime null, constraint `api_token_created_by_id_foreign` foreign key(`created_by_id`) references `user_account`(`id`) on delete cascade on update cascade, primary key (`id`));",
    );
    this.addSql('create unique index `api_token_token_hash_unique` on `api_token` (`token_hash`);');
    this.addSql('create index `api_token_created_by_id_index` on `api_token` (`created_by_id`);');
    this.addSql(
      'create table `user_session` (`id` text not null, `token_hash` text not null, `user_id` text not null, `created_at` datetime not null, `expires_at` datetime not null, `last_seen_at` datetime not null, constraint `user_session_user_id_foreign` foreign key(`user_id`) references `user_account`(`id`) on delete cascade on update cascade, primary key (`id`));',
    );
    this.addSql('create unique index `user_session_token_hash_unique` on `user_session` (`token_hash`);');
    this.addSql('create index `user_session_expires_at_index` on `user_session` (`expires_at`);');
    this.addSql('create index `user_session_user_id_index` on `user_session` (`user_id`);');
    this.addSql(
      'create table `login_throttle` (`key` text not null, `failures` integer not null, `last_failure_at` datetime not null, `blocked_until` datetime null, primary key (`key`));',
    );
    this.addSql(
      'create table `audit_event` (`id` integer not null primary key autoincrement, `at` datetime not null, `actor_id` text null, `actor_email` text null, `token_id` text null, `action` text not null, `object_type` text null, `object_id` text null, `object_name` text null, `outcome` text not null, `error_code` text null, `changes` json null);',
    );
    this.addSql('create index `audit_event_action_id_index` on `audit_event` (`action`, `id`);');
    this.addSql('create index `audit_event_actor_id_id_index` on `audit_event` (`actor_id`, `id`);');
    this.addSql('create index `audit_event_object_id_id_index` on `audit_event` (`object_id`, `id`);');
    this.addSql('alter table `run` add column `started_by_id` text null;');
  }
}
