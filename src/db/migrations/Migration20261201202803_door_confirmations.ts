import { Migration } from '@mikro-orm/migrations';

export class Migration20261201202803_door_confirmations extends Migration {

  override name = 'Migration20261201202803_door_confirmations';

  override up(): void | Promise<void> {
    this.addSql(`alter table "signup_workflow_start" add "door_flow_id" varchar(200) null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "signup_workflow_start" drop column "door_flow_id";`);
  }

}
