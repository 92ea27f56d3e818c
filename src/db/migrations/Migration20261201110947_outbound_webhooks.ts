import { Migration } from '@mikro-orm/migrations';

export class Migration20261201110947_outbound_webhooks extends Migration {

  override name = 'Migration20261201110947_outbound_webhooks';

  override up(): void | Promise<void> {
    this.addSql(`create table "integration_event" ("id" uuid not null, "type" varchar(40) not null, "event_id" uuid not null, "signup_id" uuid null, "market" varchar(2) not null, "category" varchar(64) not null, "payload" jsonb not null, "occurred_at" timestamptz not null, "relayed_at" timestamptz null, primary key ("id"));`);
    this.addSql(`create index "integration_event_unrelayed_index" on "integration_event" ("occurred_at") where "relayed_at" is null;`);

    this.addSql(`create table "webhook_endpoint" ("id" uuid not null, "url" varchar(2000) not null, "description" varchar(500) null, "event_types" text[] not null, "market" varchar(2) null, "category" varchar(64) null, "secret" varchar(200) not null, "enabled" boolean not null default true, "consecutive_failures" int not null default 0, "disabled_at" timestamptz null, "disabled_reason" varchar(500) null, "owner_user_id" varchar(200) not null, "owner_email" varchar(320) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);

    this.addSql(`create table "webhook_delivery" ("id" uuid not null, "endpoint_id" uuid not null, "message_id" uuid not null, "status" text not null default 'pending', "attempts" int not null default 0, "round" int not null default 1, "last_status_code" int null, "last_error" varchar(1000) null, "last_attempt_at" timestamptz null, "delivered_at" timestamptz null, "started_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "webhook_delivery_endpoint_id_created_at_index" on "webhook_delivery" ("endpoint_id", "created_at");`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_endpoint_id_message_id_unique" unique ("endpoint_id", "message_id");`);

    this.addSql(`create or replace function "event_event_integration_event_insert_fn"() returns trigger as $$ begin if new.status = 'published' then insert into integration_event (id, type, event_id, signup_id, market, category, payload, occurred_at) select gen_random_uuid(), k.type, new.id, null, new.market, new.category, jsonb_build_object('eventId', new.id, 'status', new.status, 'version', new.version, 'startsAt', new.starts_at, 'endsAt', new.ends_at), clock_timestamp() from (select 'event.published'::text as type) k; end if; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "event_integration_event_insert" AFTER INSERT on "event" for each ROW execute function "event_event_integration_event_insert_fn"();`);
    this.addSql(`create or replace function "event_event_integration_event_update_fn"() returns trigger as $$ begin insert into integration_event (id, type, event_id, signup_id, market, category, payload, occurred_at) select gen_random_uuid(), k.type, new.id, null, new.market, new.category, jsonb_build_object('eventId', new.id, 'status', new.status, 'version', new.version, 'startsAt', new.starts_at, 'endsAt', new.ends_at), clock_timestamp() from (select case when new.status = 'published' and old.status <> 'published' then 'event.published' when new.status = 'cancelled' and old.status <> 'cancelled' then 'event.cancelled' when new.status = 'published' and old.status = 'published' then 'event.changed' end as type) k where k.type is not null; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "event_integration_event_update" AFTER UPDATE on "event" for each ROW
  when (((old.status IS DISTINCT FROM new.status) OR (old.version IS DISTINCT FROM new.version))) execute function "event_event_integration_event_update_fn"();`);

    this.addSql(`create or replace function "signup_signup_integration_event_fn"() returns trigger as $$ begin if (tg_op = 'INSERT' or old.status is distinct from new.status) and new.status in ('confirmed', 'cancelled', 'waitlisted') then insert into integration_event (id, type, event_id, signup_id, market, category, payload, occurred_at) select gen_random_uuid(), 'signup.' || new.status, new.event_id, new.id, e.market, e.category, jsonb_build_object('signupId', new.id, 'eventId', new.event_id, 'status', new.status, 'seats', new.seats, 'platform', new.platform), clock_timestamp() from event e where e.id = new.event_id; end if; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "signup_integration_event" AFTER INSERT OR UPDATE on "signup" for each ROW execute function "signup_signup_integration_event_fn"();`);

    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_endpoint_id_foreign" foreign key ("endpoint_id") references "webhook_endpoint" ("id") on delete cascade;`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_message_id_foreign" foreign key ("message_id") references "integration_event" ("id");`);
    this.addSql(`alter table "webhook_delivery" add constraint "webhook_delivery_status_check" check ("status" in ('pending', 'delivered', 'failed', 'skipped'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "webhook_delivery" drop constraint "webhook_delivery_message_id_foreign";`);
    this.addSql(`alter table "webhook_delivery" drop constraint "webhook_delivery_endpoint_id_foreign";`);

    this.addSql(`drop table if exists "integration_event" cascade;`);
    this.addSql(`drop table if exists "webhook_endpoint" cascade;`);
    this.addSql(`drop table if exists "webhook_delivery" cascade;`);

    this.addSql(`drop trigger if exists "event_integration_event_insert" on "event";`);
    this.addSql(`drop function if exists "event_event_integration_event_insert_fn"();`);
    this.addSql(`drop trigger if exists "event_integration_event_update" on "event";`);
    this.addSql(`drop function if exists "event_event_integration_event_update_fn"();`);

    this.addSql(`drop trigger if exists "signup_integration_event" on "signup";`);
    this.addSql(`drop function if exists "signup_signup_integration_event_fn"();`);
  }

}
