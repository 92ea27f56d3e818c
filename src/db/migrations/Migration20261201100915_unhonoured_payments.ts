import { Migration } from '@mikro-orm/migrations';

export class Migration20261201100915_unhonoured_payments extends Migration {

  override name = 'Migration20261201100915_unhonoured_payments';

  override up(): void | Promise<void> {
    this.addSql(`create table "unhonoured_payment" ("payment_intent_id" varchar(255) not null, "signup_id" uuid null, "reason" text not null, "state" text not null, "amount_minor" int not null, "currency" varchar(3) not null, "stripe_refund_id" varchar(255) null, "last_error" text null, "created_at" timestamptz not null, "refunded_at" timestamptz null, primary key ("payment_intent_id"));`);
    this.addSql(`create index "unhonoured_payment_signup_id_index" on "unhonoured_payment" ("signup_id");`);
    this.addSql(`create index "unhonoured_payment_state_created_at_index" on "unhonoured_payment" ("state", "created_at");`);

    this.addSql(`alter table "unhonoured_payment" add constraint "unhonoured_payment_reason_check" check ("reason" in ('paid_after_hold_expired', 'signup_cancelled', 'event_cancelled', 'signup_ended', 'signup_unknown', 'payment_not_as_quoted'));`);
    this.addSql(`alter table "unhonoured_payment" add constraint "unhonoured_payment_state_check" check ("state" in ('refunding', 'refunded', 'nothing-paid'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "unhonoured_payment" cascade;`);
  }

}
