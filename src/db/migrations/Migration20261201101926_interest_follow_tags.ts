import { Migration } from '@mikro-orm/migrations';

export class Migration20261201101926_interest_follow_tags extends Migration {

  override name = 'Migration20261201101926_interest_follow_tags';

  override up(): void | Promise<void> {
    this.addSql(`alter table "interest" drop constraint "interest_kind_check";`);
    this.addSql(`alter table "interest" add constraint "interest_kind_check" check ("kind" in ('event', 'category', 'market', 'tag'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "interest" drop constraint "interest_kind_check";`);
    this.addSql(`alter table "interest" add constraint "interest_kind_check" check ("kind" in ('event', 'category', 'market'));`);
  }

}
