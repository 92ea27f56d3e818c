import { Migration } from '@mikro-orm/migrations';

export class Migration20261121204542_initial_schema extends Migration {

  override name = 'Migration20261121204542_initial_schema';

  override up(): void | Promise<void> {
    this.addSql(`create table "event" ("id" uuid not null, "title" varchar(200) not null, "market" varchar(8) not null, "timezone" varchar(64) not null, "status" text not null default 'draft', "starts_at" timestamptz not null, "ends_at" timestamptz not null, "capacity" int not null, "held_count" int not null default 0, "confirmed_count" int not null default 0, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);

    this.addSql(`create table "signup" ("id" uuid not null, "event_id" uuid not null, "user_id" varchar(200) not null, "seats" int not null, "status" text not null default 'requested', "hold_expires_at" timestamptz null, "confirmed_at" timestamptz null, "released_at" timestamptz null, "rejection_reason" varchar(64) null, "workflow_id" varchar(200) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "signup_event_id_status_index" on "signup" ("event_id", "status");`);
    this.addSql(`create index "signup_user_id_index" on "signup" ("user_id");`);

    this.addSql(`alter table "event" add constraint "event_seats_within_capacity" check (held_count + confirmed_count <= capacity);`);
    this.addSql(`alter table "event" add constraint "event_counters_not_negative" check (capacity >= 0 and held_count >= 0 and confirmed_count >= 0);`);
    this.addSql(`alter table "event" add constraint "event_ends_after_start" check (ends_at > starts_at);`);
    this.addSql(`alter table "event" add constraint "event_status_check" check ("status" in ('draft', 'published', 'cancelled'));`);

    this.addSql(`alter table "signup" add constraint "signup_event_id_foreign" foreign key ("event_id") references "event" ("id");`);
    this.addSql(`alter table "signup" add constraint "signup_seats_positive" check (seats > 0);`);
    this.addSql(`alter table "signup" add constraint "signup_status_check" check ("status" in ('requested', 'held', 'confirmed', 'released', 'rejected'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "signup" drop constraint "signup_event_id_foreign";`);

    this.addSql(`drop table if exists "event" cascade;`);
    this.addSql(`drop table if exists "signup" cascade;`);
  }

}
