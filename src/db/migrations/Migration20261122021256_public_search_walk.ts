import { Migration } from '@mikro-orm/migrations';

/**
 * event_search (src/events/event-search.entity.ts): what the catalog's keyword walk checks, one row
 * per translation in a covering index in start order, copied by triggers from event_translation and
 * event; filled here from the existing rows.
 */
export class Migration20261122021256_public_search_walk extends Migration {

  override name = 'Migration20261122021256_public_search_walk';

  override up(): void | Promise<void> {
    this.addSql(`create table "event_search" ("event_id" uuid not null, "locale" varchar(16) not null, "starts_at" timestamptz not null, "status" text not null, "announce_at" timestamptz null, "is_default" boolean not null, "walk_vector" tsvector null, primary key ("event_id", "locale"));`);
    this.addSql(`alter table "event_search" add constraint "event_search_event_id_foreign" foreign key ("event_id") references "event" ("id") on delete cascade;`);
    this.addSql(`alter table "event_search" add constraint "event_search_status_check" check ("status" in ('draft', 'published', 'cancelled'));`);

    // The rows the triggers below would have written (same expressions), before the index: faster.
    this.addSql(`insert into "event_search" ("event_id", "locale", "starts_at", "status", "announce_at", "is_default", "walk_vector")
  select e.id, t.locale, e.starts_at, e.status, e.announce_at, e.default_locale = t.locale, case when pg_column_size(t.search_vector) <= 1500 then t.search_vector end
    from "event_translation" t join "event" e on e.id = t.event_id;`);
    this.addSql(`create index "event_search_walk_idx" on "event_search" ("starts_at", "event_id", "locale") include ("announce_at", "is_default", "walk_vector") where status = 'published';`);
    // Statistics at once: without them the planner guesses a few rows and sorts the whole table.
    this.addSql(`analyze "event_search";`);

    this.addSql(`create or replace function "event_push_search_fields_fn"() returns trigger as $$ begin update event_search set starts_at = new.starts_at, status = new.status, announce_at = new.announce_at, is_default = (locale = new.default_locale) where event_id = new.id; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "push_search_fields" AFTER UPDATE on "event" for each ROW
  when (((old.starts_at IS DISTINCT FROM new.starts_at) OR (old.status IS DISTINCT FROM new.status) OR (old.announce_at IS DISTINCT FROM new.announce_at) OR ((old.default_locale)::text IS DISTINCT FROM (new.default_locale)::text))) execute function "event_push_search_fields_fn"();`);

    this.addSql(`create or replace function "event_translation_sync_search_row_fn"() returns trigger as $$ begin if tg_op <> 'INSERT' then delete from event_search where event_id = old.event_id and locale = old.locale; end if; if tg_op <> 'DELETE' then insert into event_search (event_id, locale, starts_at, status, announce_at, is_default, walk_vector) select e.id, new.locale, e.starts_at, e.status, e.announce_at, e.default_locale = new.locale, case when pg_column_size(new.search_vector) <= 1500 then new.search_vector end from event e where e.id = new.event_id; end if; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "sync_search_row" AFTER INSERT OR UPDATE OR DELETE on "event_translation" for each ROW execute function "event_translation_sync_search_row_fn"();`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "push_search_fields" on "event";`);
    this.addSql(`drop function if exists "event_push_search_fields_fn"();`);

    this.addSql(`drop trigger if exists "sync_search_row" on "event_translation";`);
    this.addSql(`drop function if exists "event_translation_sync_search_row_fn"();`);

    this.addSql(`drop table if exists "event_search" cascade;`);
  }

}
