import { Migration } from '@mikro-orm/migrations';

export class Migration20261122014222_signup_workflow_outbox extends Migration {

  override name = 'Migration20261122014222_signup_workflow_outbox';

  override up(): void | Promise<void> {
    this.addSql(`create table "signup_workflow_start" ("signup_id" uuid not null, "workflow_id" varchar(200) not null, "task_queue" varchar(200) not null, "input" jsonb not null, "status" text not null, "market" varchar(8) not null, "summary" text not null, "attempts" int not null default 0, "next_attempt_at" timestamptz not null, "last_error" text null, "created_at" timestamptz not null, primary key ("signup_id"));`);
    this.addSql(`create index "signup_workflow_start_due_idx" on "signup_workflow_start" ("next_attempt_at");`);

    this.addSql(`alter table "signup_workflow_start" add constraint "signup_workflow_start_signup_id_foreign" foreign key ("signup_id") references "signup" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "signup_workflow_start" add constraint "signup_workflow_start_status_check" check ("status" in ('requested', 'awaiting_consent', 'held', 'waitlisted', 'confirmed', 'released', 'rejected', 'cancelled'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "signup_workflow_start" cascade;`);
  }

}
