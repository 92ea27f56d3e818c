import { Migration } from '@mikro-orm/migrations';

export class Migration20261121211342_event_catalog extends Migration {

  override name = 'Migration20261121211342_event_catalog';

  override up(): void | Promise<void> {
    this.addSql(`create table "event_change" ("id" bigserial primary key, "event_id" uuid not null, "action" varchar(32) not null, "changed_by" varchar(200) not null, "changed_at" timestamptz not null, "changes" jsonb not null default '[]');`);
    this.addSql(`create index "event_change_event_id_changed_at_index" on "event_change" ("event_id", "changed_at");`);

    this.addSql(`create table "event_translation" ("event_id" uuid not null, "locale" varchar(16) not null, "title" varchar(200) not null, "summary" varchar(500) null, "description" text not null default '', "search_config" regconfig not null, "search_vector" tsvector generated always as (setweight(to_tsvector(search_config, coalesce(title, '')), 'A') || setweight(to_tsvector(search_config, coalesce(summary, '')), 'B') || setweight(to_tsvector(search_config, coalesce(description, '')), 'C')) stored null, primary key ("event_id", "locale"));`);
    this.addSql(`create index "event_translation_search_idx" on "event_translation" using gin ("search_vector");`);

    this.addSql(`create table "promo_code" ("id" uuid not null, "event_id" uuid not null, "code" varchar(64) not null, "kind" text not null, "value" int not null, "currency" varchar(3) null, "max_uses" int null, "used_count" int not null default 0, "valid_from" timestamptz null, "valid_until" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "promo_code" add constraint "promo_code_event_id_code_unique" unique ("event_id", "code");`);

    this.addSql(`create table "ticket_type" ("id" uuid not null, "event_id" uuid not null, "code" varchar(64) not null, "names" jsonb not null, "prices" jsonb not null default '[]', "capacity" int null, "held_count" int not null default 0, "confirmed_count" int not null default 0, "sort_order" int not null default 0, primary key ("id"));`);
    this.addSql(`alter table "ticket_type" add constraint "ticket_type_event_id_code_unique" unique ("event_id", "code");`);

    this.addSql(`create table "signup_attendee" ("id" uuid not null, "signup_id" uuid not null, "first_name" varchar(100) not null, "age" int not null, "kind" text not null, "needs_note" varchar(1000) null, "ticket_code" varchar(32) null, primary key ("id"));`);
    this.addSql(`alter table "signup_attendee" add constraint "signup_attendee_ticket_code_unique" unique ("ticket_code");`);

    this.addSql(`alter table "event" add "default_locale" varchar(16) not null default 'en', add "category" varchar(64) not null default 'general', add "created_by" varchar(200) not null default 'system', add "tags" text[] not null default '{}', add "venue" jsonb null, add "announce_at" timestamptz null, add "signup_opens_at" timestamptz null, add "signup_closes_at" timestamptz null, add "cancellation_deadline" timestamptz null, add "max_attendees_per_signup" int not null default 10, add "min_age" int null, add "max_age" int null, add "guardian_consent_below_age" int null, add "platforms" text[] not null default '{web,ios,android,unity}', add "waitlist_enabled" boolean not null default false, add "refund_policy" jsonb not null default '{"kind":"full-before-deadline"}', add "internal" jsonb not null default '{}', add "notification_texts" jsonb not null default '{}', add "published_at" timestamptz null, add "cancelled_at" timestamptz null, add "cancellation_reason" varchar(500) null, add "version" int not null default 1;`);
    // Existing events keep their title as their English text; the defaults above only fill old rows.
    this.addSql(`insert into "event_translation" ("event_id", "locale", "title", "search_config") select "id", 'en', "title", 'english' from "event";`);
    this.addSql(`alter table "event" drop column "title";`);
    this.addSql(`alter table "event" alter column "default_locale" drop default, alter column "category" drop default, alter column "created_by" drop default;`);
    this.addSql(`create index "event_public_listing_idx" on "event" ("status", "starts_at");`);
    this.addSql(`create index "event_market_starts_idx" on "event" ("market", "starts_at");`);

    this.addSql(`alter table "signup" add "ticket_type_id" uuid null, add "amount_minor" int null, add "currency" varchar(3) null, add "checked_in_at" timestamptz null, add "checked_in_by" varchar(200) null;`);
    this.addSql(`alter table "signup" add constraint "signup_ticket_type_id_foreign" foreign key ("ticket_type_id") references "ticket_type" ("id") on delete set null;`);

    this.addSql(`alter table "event_translation" add constraint "event_translation_event_id_foreign" foreign key ("event_id") references "event" ("id") on delete cascade;`);

    this.addSql(`alter table "promo_code" add constraint "promo_code_event_id_foreign" foreign key ("event_id") references "event" ("id") on delete cascade;`);
    this.addSql(`alter table "promo_code" add constraint "promo_code_uses_within_max" check (max_uses is null or used_count <= max_uses);`);
    this.addSql(`alter table "promo_code" add constraint "promo_code_kind_check" check ("kind" in ('percent', 'fixed'));`);

    this.addSql(`alter table "ticket_type" add constraint "ticket_type_event_id_foreign" foreign key ("event_id") references "event" ("id") on delete cascade;`);
    this.addSql(`alter table "ticket_type" add constraint "ticket_type_seats_within_capacity" check (capacity is null or held_count + confirmed_count <= capacity);`);
    this.addSql(`alter table "ticket_type" add constraint "ticket_type_counters_not_negative" check (held_count >= 0 and confirmed_count >= 0);`);

    this.addSql(`alter table "signup_attendee" add constraint "signup_attendee_signup_id_foreign" foreign key ("signup_id") references "signup" ("id") on delete cascade;`);
    this.addSql(`alter table "signup_attendee" add constraint "signup_attendee_kind_check" check ("kind" in ('child', 'adult'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "signup" drop constraint "signup_ticket_type_id_foreign";`);

    this.addSql(`alter table "event" add "title" varchar(200) not null default '';`);
    this.addSql(`update "event" e set "title" = t."title" from "event_translation" t where t."event_id" = e."id" and t."locale" = e."default_locale";`);
    this.addSql(`drop table if exists "event_change" cascade;`)
    this.addSql(`drop table if exists "event_translation" cascade;`);
    this.addSql(`drop table if exists "promo_code" cascade;`);
    this.addSql(`drop table if exists "ticket_type" cascade;`);
    this.addSql(`drop table if exists "signup_attendee" cascade;`);

    this.addSql(`drop index "event_public_listing_idx";`);
    this.addSql(`drop index "event_market_starts_idx";`);
    this.addSql(`alter table "event" drop column "default_locale", drop column "category", drop column "tags", drop column "venue", drop column "announce_at", drop column "signup_opens_at", drop column "signup_closes_at", drop column "cancellation_deadline", drop column "max_attendees_per_signup", drop column "min_age", drop column "max_age", drop column "guardian_consent_below_age", drop column "platforms", drop column "waitlist_enabled", drop column "refund_policy", drop column "internal", drop column "notification_texts", drop column "published_at", drop column "cancelled_at", drop column "cancellation_reason", drop column "version";`);
    this.addSql(`alter table "event" drop column "created_by";`);

    this.addSql(`alter table "signup" drop column "ticket_type_id", drop column "amount_minor", drop column "currency", drop column "checked_in_at", drop column "checked_in_by";`);
  }

}
