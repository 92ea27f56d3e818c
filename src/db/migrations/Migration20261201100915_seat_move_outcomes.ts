import { Migration } from '@mikro-orm/migrations';

export class Migration20261201100915_seat_move_outcomes extends Migration {

  override name = 'Migration20261201100915_seat_move_outcomes';

  override up(): void | Promise<void> {
    this.addSql(`create table "seat_move" ("move_id" varchar(300) not null, "signup_id" uuid not null, "move" varchar(40) not null, "outcome" jsonb not null, "created_at" timestamptz not null, primary key ("move_id"));`);
    this.addSql(`create index "seat_move_signup_id_index" on "seat_move" ("signup_id");`);

    this.addSql(`alter table "seat_move" add constraint "seat_move_signup_id_foreign" foreign key ("signup_id") references "signup" ("id") on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "seat_move" cascade;`);
  }

}
