import { Migration } from '@mikro-orm/migrations';

export class Migration20261201130855_needs_note_read extends Migration {

  override name = 'Migration20261201130855_needs_note_read';

  override up(): void | Promise<void> {
    this.addSql(`create table "needs_note_read" ("id" bigserial primary key, "event_id" uuid not null, "read_by" varchar(200) null, "read_at" timestamptz not null, "notes" int not null, "format" text not null);`);
    this.addSql(`create index "needs_note_read_event_id_read_at_index" on "needs_note_read" ("event_id", "read_at");`);

    this.addSql(`alter table "needs_note_read" add constraint "needs_note_read_format_check" check ("format" in ('json', 'csv'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "needs_note_read" cascade;`);
  }

}
