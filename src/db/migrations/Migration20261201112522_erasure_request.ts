import { Migration } from '@mikro-orm/migrations';

export class Migration20261201112522_erasure_request extends Migration {

  override name = 'Migration20261201112522_erasure_request';

  override up(): void | Promise<void> {
    this.addSql(`create table "erasure_request" ("id" uuid not null, "subject_digest" varchar(64) not null, "pending_user_id" varchar(200) null, "status" text not null default 'running', "workflow_id" varchar(200) not null, "requested_at" timestamptz not null, "completed_at" timestamptz null, "counts" jsonb null, primary key ("id"));`);
    this.addSql(`create index "erasure_request_subject_digest_index" on "erasure_request" ("subject_digest");`);

    this.addSql(`alter table "erasure_request" add constraint "erasure_request_status_check" check ("status" in ('running', 'done'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "erasure_request" cascade;`);
  }

}
