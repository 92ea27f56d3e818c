import { Migration } from '@mikro-orm/migrations';

export class Migration20261202113500_notification_claims extends Migration {

  override name = 'Migration20261202113500_notification_claims';

  override up(): void | Promise<void> {
    this.addSql(`alter table "notification_log" add "claimed_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "notification_log" drop column "claimed_at";`);
  }

}
