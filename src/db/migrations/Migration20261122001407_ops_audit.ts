import { Migration } from '@mikro-orm/migrations';

export class Migration20261122001407_ops_audit extends Migration {

  override name = 'Migration20261122001407_ops_audit';

  override up(): void | Promise<void> {
    this.addSql(`create table "ops_audit" ("id" uuid not null, "at" timestamptz not null, "actor" varchar(200) not null, "action" text not null, "target" text not null, "reason" text null, "outcome" text not null, "message" text null, primary key ("id"));`);
    this.addSql(`create index "ops_audit_at_id_index" on "ops_audit" ("at", "id");`);
    this.addSql(`create index "ops_audit_target_index" on "ops_audit" ("target");`);

    this.addSql(`alter table "ops_audit" add constraint "ops_audit_action_check" check ("action" in ('list', 'show', 'retry', 'reset', 'batch-reset'));`);
    this.addSql(`alter table "ops_audit" add constraint "ops_audit_outcome_check" check ("outcome" in ('ok', 'error'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "ops_audit" cascade;`);
  }

}
