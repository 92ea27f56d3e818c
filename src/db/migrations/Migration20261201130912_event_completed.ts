import { Migration } from '@mikro-orm/migrations';

/**
 * Event status `completed` (set by the lifecycle's complete step), and the event's end copied onto
 * event_search (filled here from the existing events) so the catalog's keyword walk can leave
 * ended events out of the default list while staying an index-only scan.
 */
export class Migration20261201130912_event_completed extends Migration {

  override name = 'Migration20261201130912_event_completed';

  override up(): void | Promise<void> {
    this.addSql(`alter table "event" drop constraint "event_status_check";`);
    this.addSql(`drop trigger if exists "push_search_fields" on "event";`);
    this.addSql(`drop function if exists "event_push_search_fields_fn"();`);
    this.addSql(`alter table "event" add constraint "event_status_check" check ("status" in ('draft', 'published', 'completed', 'cancelled'));`);
    this.addSql(`create or replace function "event_push_search_fields_fn"() returns trigger as $$ begin update event_search set starts_at = new.starts_at, ends_at = new.ends_at, status = new.status, announce_at = new.announce_at, is_default = (locale = new.default_locale) where event_id = new.id; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "push_search_fields" AFTER UPDATE on "event" for each ROW
  when (((old.starts_at IS DISTINCT FROM new.starts_at) OR (old.ends_at IS DISTINCT FROM new.ends_at) OR (old.status IS DISTINCT FROM new.status) OR (old.announce_at IS DISTINCT FROM new.announce_at) OR ((old.default_locale)::text IS DISTINCT FROM (new.default_locale)::text))) execute function "event_push_search_fields_fn"();`);

    this.addSql(`drop trigger if exists "sync_search_row" on "event_translation";`);
    this.addSql(`drop function if exists "event_translation_sync_search_row_fn"();`);
    this.addSql(`create or replace function "event_translation_sync_search_row_fn"() returns trigger as $$ begin if tg_op <> 'INSERT' then delete from event_search where event_id = old.event_id and locale = old.locale; end if; if tg_op <> 'DELETE' then insert into event_search (event_id, locale, starts_at, ends_at, status, announce_at, is_default, walk_vector) select e.id, new.locale, e.starts_at, e.ends_at, e.status, e.announce_at, e.default_locale = new.locale, case when pg_column_size(new.search_vector) <= 1500 then new.search_vector end from event e where e.id = new.event_id; end if; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "sync_search_row" AFTER INSERT OR UPDATE OR DELETE on "event_translation" for each ROW execute function "event_translation_sync_search_row_fn"();`);

    this.addSql(`drop index "event_search_walk_idx";`);
    this.addSql(`alter table "event_search" drop constraint "event_search_status_check";`);
    this.addSql(`alter table "event_search" add "ends_at" timestamptz null;`);
    this.addSql(`update "event_search" s set "ends_at" = e."ends_at" from "event" e where e."id" = s."event_id";`);
    this.addSql(`alter table "event_search" alter column "ends_at" set not null;`);
    this.addSql(`create index "event_search_walk_idx" on "event_search" ("starts_at", "event_id", "locale") include ("ends_at", "announce_at", "is_default", "walk_vector") where status = 'published';`);
    this.addSql(`alter table "event_search" add constraint "event_search_status_check" check ("status" in ('draft', 'published', 'completed', 'cancelled'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "event" drop constraint "event_status_check";`);
    this.addSql(`drop trigger if exists "push_search_fields" on "event";`);
    this.addSql(`drop function if exists "event_push_search_fields_fn"();`);
    this.addSql(`alter table "event" add constraint "event_status_check" check ("status" in ('draft', 'published', 'cancelled'));`);
    this.addSql(`create or replace function "event_push_search_fields_fn"() returns trigger as $$ begin update event_search set starts_at = new.starts_at, status = new.status, announce_at = new.announce_at, is_default = (locale = new.default_locale) where event_id = new.id; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "push_search_fields" AFTER UPDATE on "event" for each ROW
  when (((old.starts_at IS DISTINCT FROM new.starts_at) OR (old.status IS DISTINCT FROM new.status) OR (old.announce_at IS DISTINCT FROM new.announce_at) OR ((old.default_locale)::text IS DISTINCT FROM (new.default_locale)::text))) execute function "event_push_search_fields_fn"();`);

    this.addSql(`drop index "event_search_walk_idx";`);
    this.addSql(`alter table "event_search" drop constraint "event_search_status_check";`);
    this.addSql(`alter table "event_search" drop column "ends_at";`);
    this.addSql(`create index "event_search_walk_idx" on "event_search" ("starts_at", "event_id", "locale") include ("announce_at", "is_default", "walk_vector") where status = 'published'::text;`);
    this.addSql(`alter table "event_search" add constraint "event_search_status_check" check ("status" in ('draft', 'published', 'cancelled'));`);

    this.addSql(`drop trigger if exists "sync_search_row" on "event_translation";`);
    this.addSql(`drop function if exists "event_translation_sync_search_row_fn"();`);
    this.addSql(`create or replace function "event_translation_sync_search_row_fn"() returns trigger as $$ begin if tg_op <> 'INSERT' then delete from event_search where event_id = old.event_id and locale = old.locale; end if; if tg_op <> 'DELETE' then insert into event_search (event_id, locale, starts_at, status, announce_at, is_default, walk_vector) select e.id, new.locale, e.starts_at, e.status, e.announce_at, e.default_locale = new.locale, case when pg_column_size(new.search_vector) <= 1500 then new.search_vector end from event e where e.id = new.event_id; end if; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "sync_search_row" AFTER DELETE OR INSERT OR UPDATE on "event_translation" for each ROW execute function "event_translation_sync_search_row_fn"();`);
  }

}
