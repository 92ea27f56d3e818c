import { Migration } from '@mikro-orm/migrations';

export class Migration20261201102411_consent_record extends Migration {

  override name = 'Migration20261201102411_consent_record';

  override up(): void | Promise<void> {
    this.addSql(`create table "consent_record" ("id" uuid not null, "signup_id" uuid not null, "event_id" uuid not null, "user_id" varchar(200) not null, "guardian_email" varchar(320) null, "link_sent_at" timestamptz null, "link_expires_at" timestamptz null, "decision" text null, "answered_at" timestamptz null, "answered_via" text null, "text_version" varchar(64) null, "user_agent" varchar(500) null, "client_network" varchar(64) null, "anonymized_at" timestamptz null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "consent_record" add constraint "consent_record_signup_id_unique" unique ("signup_id");`);
    this.addSql(`create index "consent_record_user_id_index" on "consent_record" ("user_id");`);

    this.addSql(`alter table "consent_record" add constraint "consent_record_decision_check" check ("decision" in ('approved', 'denied'));`);
    this.addSql(`alter table "consent_record" add constraint "consent_record_answered_via_check" check ("answered_via" in ('page', 'api'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "consent_record" cascade;`);
  }

}
