import { Migration } from '@mikro-orm/migrations';

export class Migration20261121220253_notification_log extends Migration {

  override name = 'Migration20261121220253_notification_log';

  override up(): void | Promise<void> {
    this.addSql(`create table "notification_log" ("id" bigserial primary key, "key" varchar(300) not null, "kind" varchar(64) not null, "channel" varchar(16) not null, "event_id" uuid null, "signup_id" uuid null, "recipient_user_id" varchar(200) not null, "state" text not null, "attempts" int not null default 0, "message_id" varchar(300) null, "created_at" timestamptz not null, "sent_at" timestamptz null);`);
    this.addSql(`alter table "notification_log" add constraint "notification_log_key_unique" unique ("key");`);
    this.addSql(`create index "notification_log_event_id_kind_index" on "notification_log" ("event_id", "kind");`);

    this.addSql(`alter table "notification_log" add constraint "notification_log_state_check" check ("state" in ('sending', 'sent'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "notification_log" cascade;`);
  }

}
