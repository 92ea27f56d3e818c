import { Migration } from '@mikro-orm/migrations';

export class Migration20261122000351_interests_and_notification_channels extends Migration {

  override name = 'Migration20261122000351_interests_and_notification_channels';

  override up(): void | Promise<void> {
    this.addSql(`create table "interest" ("id" uuid not null, "user_id" varchar(200) not null, "kind" text not null, "value" varchar(64) not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`create index "interest_kind_value_user_id_index" on "interest" ("kind", "value", "user_id");`);
    this.addSql(`alter table "interest" add constraint "interest_user_id_kind_value_unique" unique ("user_id", "kind", "value");`);

    this.addSql(`alter table "notification_log" drop constraint "notification_log_key_unique";`);
    this.addSql(`alter table "notification_log" add constraint "notification_log_key_channel_unique" unique ("key", "channel");`);

    this.addSql(`alter table "user_contact" add "webhook_url" varchar(2000) null;`);

    this.addSql(`alter table "interest" add constraint "interest_kind_check" check ("kind" in ('event', 'category', 'market'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "interest" cascade;`);

    this.addSql(`alter table "notification_log" drop constraint "notification_log_key_channel_unique";`);
    this.addSql(`alter table "notification_log" add constraint "notification_log_key_unique" unique ("key");`);

    this.addSql(`alter table "user_contact" drop column "webhook_url";`);
  }

}
