import { Migration } from '@mikro-orm/migrations';

export class Migration20261201102350_signup_hold_deadline_index extends Migration {

  override name = 'Migration20261201102350_signup_hold_deadline_index';

  override up(): void | Promise<void> {
    this.addSql(`create index "signup_hold_deadline_idx" on "signup" ("event_id", "hold_expires_at") where status = 'held';`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "signup_hold_deadline_idx";`);
  }

}
