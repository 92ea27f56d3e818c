import { Migration } from '@mikro-orm/migrations';

export class Migration20261121230958_signup_flow extends Migration {

  override name = 'Migration20261121230958_signup_flow';

  override up(): void | Promise<void> {
    this.addSql(`create table "user_contact" ("user_id" varchar(200) not null, "email" varchar(320) null, "locale" varchar(16) null, "guardian_email" varchar(320) null, "email_marketing_consent" boolean not null default false, "updated_at" timestamptz not null, primary key ("user_id"));`);

    this.addSql(`drop index "signup_user_id_index";`);
    this.addSql(`drop index "signup_one_active_per_user_and_event";`);
    this.addSql(`alter table "signup" drop constraint "signup_status_check";`);
    this.addSql(`alter table "signup" add "platform" text not null default 'web', add "locale" varchar(16) not null default 'en', add "promo_code" varchar(64) null, add "waitlisted_at" timestamptz null, add "offered_at" timestamptz null, add "guardian_decision" text null, add "guardian_decided_at" timestamptz null, add "payment_intent_id" varchar(255) null, add "payment_client_secret" varchar(255) null, add "paid_at" timestamptz null, add "refunded_minor" int not null default 0, add "cancelled_at" timestamptz null, add "cancelled_by" text null, add "cancellation_reason" varchar(500) null;`);
    this.addSql(`update "signup" set "amount_minor" = 0 where "amount_minor" is null;`);
    this.addSql(`alter table "signup" alter column "amount_minor" set default 0;`);
    this.addSql(`alter table "signup" alter column "amount_minor" set not null;`);
    this.addSql(`create index "signup_user_id_created_at_index" on "signup" ("user_id", "created_at");`);
    this.addSql(`create index "signup_waitlist_order_idx" on "signup" ("event_id", "waitlisted_at", "id") where status = 'waitlisted';`);
    this.addSql(`create unique index "signup_one_active_per_user_and_event" on "signup" ("event_id", "user_id") where status in ('requested', 'awaiting_consent', 'held', 'waitlisted', 'confirmed');`);
    this.addSql(`alter table "signup" add constraint "signup_platform_check" check ("platform" in ('web', 'ios', 'android', 'unity'));`);
    this.addSql(`alter table "signup" add constraint "signup_guardian_decision_check" check ("guardian_decision" in ('approved', 'denied'));`);
    this.addSql(`alter table "signup" add constraint "signup_cancelled_by_check" check ("cancelled_by" in ('participant', 'organizer'));`);
    this.addSql(`alter table "signup" add constraint "signup_status_check" check ("status" in ('requested', 'awaiting_consent', 'held', 'waitlisted', 'confirmed', 'released', 'rejected', 'cancelled'));`);
    this.addSql(`create or replace function "signup_signup_status_notify_fn"() returns trigger as $$ begin if tg_op = 'INSERT' or old.status is distinct from new.status then perform pg_notify('signup_status', json_build_object('signupId', new.id, 'status', new.status)::text); end if; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "signup_status_notify" AFTER INSERT OR UPDATE on "signup" for each ROW execute function "signup_signup_status_notify_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "user_contact" cascade;`);

    this.addSql(`drop index "signup_user_id_created_at_index";`);
    this.addSql(`drop index "signup_waitlist_order_idx";`);
    this.addSql(`drop index "signup_one_active_per_user_and_event";`);
    this.addSql(`alter table "signup" drop constraint "signup_platform_check";`);
    this.addSql(`alter table "signup" drop constraint "signup_guardian_decision_check";`);
    this.addSql(`alter table "signup" drop constraint "signup_cancelled_by_check";`);
    this.addSql(`alter table "signup" drop constraint "signup_status_check";`);
    this.addSql(`drop trigger if exists "signup_status_notify" on "signup";`);
    this.addSql(`drop function if exists "signup_signup_status_notify_fn"();`);
    this.addSql(`alter table "signup" drop column "platform", drop column "locale", drop column "promo_code", drop column "waitlisted_at", drop column "offered_at", drop column "guardian_decision", drop column "guardian_decided_at", drop column "payment_intent_id", drop column "payment_client_secret", drop column "paid_at", drop column "refunded_minor", drop column "cancelled_at", drop column "cancelled_by", drop column "cancellation_reason";`);
    this.addSql(`alter table "signup" alter column "amount_minor" drop default;`);
    this.addSql(`alter table "signup" alter column "amount_minor" drop not null;`);
    this.addSql(`create index "signup_user_id_index" on "signup" ("user_id");`);
    this.addSql(`create unique index "signup_one_active_per_user_and_event" on "signup" ("event_id", "user_id") where status = ANY (ARRAY['requested'::text, 'held'::text, 'confirmed'::text]);`);
    this.addSql(`alter table "signup" add constraint "signup_status_check" check ("status" in ('requested', 'held', 'confirmed', 'released', 'rejected'));`);
  }

}
