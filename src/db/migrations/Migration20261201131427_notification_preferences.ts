import { Migration } from '@mikro-orm/migrations';

export class Migration20261201131427_notification_preferences extends Migration {

  override name = 'Migration20261201131427_notification_preferences';

  override up(): void | Promise<void> {
    this.addSql(`alter table "user_contact" add "email_enabled" boolean not null default true, add "opted_out_kinds" text[] not null default '{}', add "marketing_consent_given_at" timestamptz null, add "marketing_consent_withdrawn_at" timestamptz null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "user_contact" drop column "email_enabled", drop column "opted_out_kinds", drop column "marketing_consent_given_at", drop column "marketing_consent_withdrawn_at";`);
  }

}
