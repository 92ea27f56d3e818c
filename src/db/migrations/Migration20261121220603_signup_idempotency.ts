import { Migration } from '@mikro-orm/migrations';

export class Migration20261121220603_signup_idempotency extends Migration {

  override name = 'Migration20261121220603_signup_idempotency';

  override up(): void | Promise<void> {
    this.addSql(`alter table "signup" add "idempotency_key" varchar(200) null;`);
    this.addSql(`alter table "signup" add constraint "signup_user_idempotency_key_unique" unique ("user_id", "idempotency_key");`);
    this.addSql(`create unique index "signup_one_active_per_user_and_event" on "signup" ("event_id", "user_id") where status in ('requested', 'held', 'confirmed');`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "signup" drop constraint "signup_user_idempotency_key_unique";`);
    this.addSql(`drop index "signup_one_active_per_user_and_event";`);
    this.addSql(`alter table "signup" drop column "idempotency_key";`);
  }

}
