import { Migration } from '@mikro-orm/migrations';

/**
 * Cheaper catalog reads at a million events (bench/search.ts):
 * - keyword search bounded in time asks a GIN index of the words tagged with their event's start
 *   week ('concert@2974', event_week_terms below) instead of the btree_gin composite of words and
 *   week, whose every lookup decoded the full posting lists of common words and of whole weeks;
 *   the plain GIN index of the search vector serves lookups without a window;
 * - market + category listings get their own partial index, covering announce_at.
 */
export class Migration20261122014900_public_search_week_terms extends Migration {

  override name = 'Migration20261122014900_public_search_week_terms';

  override up(): void | Promise<void> {
    this.addSql(`create index "event_published_market_category_starts_idx" on "event" ("market", "category", "starts_at", "id") include ("announce_at") where status = 'published';`);

    // eventWeekTerms in event-translation.entity.ts: every lexeme of the vector with '@<week>' appended.
    this.addSql(`create or replace function "event_week_terms"("v" tsvector, "week" integer) returns tsvector immutable language sql as $$ select array_to_tsvector(array(select lexeme || '@' || week::text from unnest(tsvector_to_array(v)) lexeme where week is not null)) $$;`);
    this.addSql(`drop index "event_translation_search_starts_idx";`);
    this.addSql(`create index "event_translation_search_idx" on "event_translation" using gin ("search_vector");`);
    this.addSql(`create index "event_translation_week_terms_idx" on "event_translation" using gin (event_week_terms(search_vector, event_start_week));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "event_published_market_category_starts_idx";`);

    this.addSql(`drop index "event_translation_search_idx";`);
    this.addSql(`drop index "event_translation_week_terms_idx";`);
    this.addSql(`drop function if exists "event_week_terms"(tsvector, integer);`);
    this.addSql(`create index "event_translation_search_starts_idx" on "event_translation" using gin ("search_vector", "event_start_week");`);
  }

}
