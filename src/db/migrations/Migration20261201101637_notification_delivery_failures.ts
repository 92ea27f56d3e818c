import { Migration } from '@mikro-orm/migrations';

export class Migration20261201101637_notification_delivery_failures extends Migration {

  override name = 'Migration20261201101637_notification_delivery_failures';

  override up(): void | Promise<void> {
    this.addSql(`alter table "notification_log" drop constraint "notification_log_state_check";`);
    this.addSql(`alter table "notification_log" add "last_error" text null, add "failed_at" timestamptz null;`);
    this.addSql(`create index "notification_log_failed_idx" on "notification_log" ("failed_at") where state = 'failed';`);
    this.addSql(`alter table "notification_log" add constraint "notification_log_state_check" check ("state" in ('sending', 'sent', 'retrying', 'failed'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "notification_log_failed_idx";`);
    this.addSql(`alter table "notification_log" drop constraint "notification_log_state_check";`);
    this.addSql(`alter table "notification_log" drop column "last_error", drop column "failed_at";`);
    this.addSql(`alter table "notification_log" add constraint "notification_log_state_check" check ("state" in ('sending', 'sent'));`);
  }

}
