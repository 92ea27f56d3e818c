import { Migration } from '@mikro-orm/migrations';

export class Migration20261201100557_event_lifecycle_outbox extends Migration {

  override name = 'Migration20261201100557_event_lifecycle_outbox';

  override up(): void | Promise<void> {
    this.addSql(`create table "event_lifecycle_command" ("id" bigserial primary key, "event_id" uuid not null, "kind" text not null, "task_queue" varchar(200) not null, "input" jsonb not null, "market" varchar(8) not null, "summary" text not null, "version" int null, "reason" text null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "last_error" text null, "created_at" timestamptz not null);`);
    this.addSql(`create index "event_lifecycle_command_due_idx" on "event_lifecycle_command" ("next_attempt_at");`);
    this.addSql(`create index "event_lifecycle_command_event_idx" on "event_lifecycle_command" ("event_id", "id");`);

    this.addSql(`alter table "event_lifecycle_command" add constraint "event_lifecycle_command_kind_check" check ("kind" in ('start', 'changed', 'withdrawn', 'cancelled'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "event_lifecycle_command" cascade;`);
  }

}
