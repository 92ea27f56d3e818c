import { Migration } from '@mikro-orm/migrations';

/**
 * Keyword search bounded in time asks one GIN index for the words and the weeks at once:
 * event_translation carries the week its event starts in, kept by triggers (declared on the
 * entities), and btree_gin lets the GIN index hold it next to the search vector.
 */
export class Migration20261121224119_public_search_start_week extends Migration {

  override name = 'Migration20261121224119_public_search_start_week';

  override up(): void | Promise<void> {
    // btree_gin (stock contrib, trusted): a plain integer column inside a GIN index.
    this.addSql(`create extension if not exists btree_gin;`);
    this.addSql(`drop index "event_translation_search_idx";`);
    this.addSql(`alter table "event_translation" add "event_start_week" int null;`);
    this.addSql(`update "event_translation" t set "event_start_week" = floor(extract(epoch from e."starts_at") / 604800)::int from "event" e where e."id" = t."event_id";`);
    this.addSql(`create or replace function "event_translation_copy_event_starts_at_fn"() returns trigger as $$ begin select floor(extract(epoch from e.starts_at) / 604800)::int into new.event_start_week from event e where e.id = new.event_id; return new; end; $$ language plpgsql;`);
    this.addSql(`create trigger "copy_event_starts_at" BEFORE INSERT OR UPDATE on "event_translation" for each ROW execute function "event_translation_copy_event_starts_at_fn"();`);
    this.addSql(`create or replace function "event_push_starts_at_fn"() returns trigger as $$ begin update event_translation set event_start_week = floor(extract(epoch from new.starts_at) / 604800)::int where event_id = new.id; return null; end; $$ language plpgsql;`);
    this.addSql(`create trigger "push_starts_at" AFTER UPDATE on "event" for each ROW
  when ((old.starts_at IS DISTINCT FROM new.starts_at)) execute function "event_push_starts_at_fn"();`);
    this.addSql(`create index "event_translation_search_starts_idx" on "event_translation" using gin ("search_vector", "event_start_week");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop trigger if exists "push_starts_at" on "event";`);
    this.addSql(`drop function if exists "event_push_starts_at_fn"();`);

    this.addSql(`drop index "event_translation_search_starts_idx";`);
    this.addSql(`drop trigger if exists "copy_event_starts_at" on "event_translation";`);
    this.addSql(`drop function if exists "event_translation_copy_event_starts_at_fn"();`);
    this.addSql(`alter table "event_translation" drop column "event_start_week";`);
    this.addSql(`create index "event_translation_search_idx" on "event_translation" using gin ("search_vector");`);
  }

}
