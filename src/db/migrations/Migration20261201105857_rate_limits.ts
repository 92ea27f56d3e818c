import { Migration } from '@mikro-orm/migrations';

export class Migration20261201105857_rate_limits extends Migration {

  override name = 'Migration20261201105857_rate_limits';

  override up(): void | Promise<void> {
    // Unlogged: counters of the last minutes need no crash safety or replicas, and skipping the WAL
    // keeps the upsert every limited request makes cheap. A crash empties the table: budgets restart.
    this.addSql(`create unlogged table "rate_limit" ("key" varchar(255) not null, "points" int not null default 0, "expire" bigint null, primary key ("key"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "rate_limit" cascade;`);
  }

}
