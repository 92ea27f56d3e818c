import { Migration } from '@mikro-orm/migrations';

export class Migration20261122000144_event_lifecycle extends Migration {

  override name = 'Migration20261122000144_event_lifecycle';

  override up(): void | Promise<void> {
    this.addSql(`alter table "event" add "completed_at" timestamptz null, add "personal_data_purged_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "event" drop column "completed_at", drop column "personal_data_purged_at";`);
  }

}
