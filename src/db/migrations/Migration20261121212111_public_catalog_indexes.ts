import { Migration } from '@mikro-orm/migrations';

export class Migration20261121212111_public_catalog_indexes extends Migration {

  override name = 'Migration20261121212111_public_catalog_indexes';

  override up(): void | Promise<void> {
    this.addSql(`create index "event_published_starts_idx" on "event" ("starts_at", "id") where status = 'published';`);
    this.addSql(`create index "event_published_market_starts_idx" on "event" ("market", "starts_at", "id") where status = 'published';`);
    this.addSql(`create index "event_published_category_starts_idx" on "event" ("category", "starts_at", "id") where status = 'published';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "event_published_starts_idx";`);
    this.addSql(`drop index "event_published_market_starts_idx";`);
    this.addSql(`drop index "event_published_category_starts_idx";`);
  }

}
