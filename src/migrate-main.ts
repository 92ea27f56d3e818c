import { ensureDatabase } from './db/admin.js';
import { migrateToLatest, openOrm } from './db/orm.js';
import { configOrExit } from './main-support.js';

/** Creates the database if needed and applies every pending migration (npm run migrate; the compose `migrate` service). */
const config = configOrExit();
if (await ensureDatabase(config.database.url)) console.log(`created database ${new URL(config.database.url).pathname.slice(1)}`);
const orm = await openOrm(config.database);
try {
  const applied = await migrateToLatest(orm);
  console.log(applied.length ? `applied ${applied.join(', ')}` : 'schema is up to date');
} finally {
  await orm.close(true);
}
