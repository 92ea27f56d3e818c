/**
 * Writes a new migration with the difference between the entities and the committed migrations.
 *   npm run migration:create -- <name>
 * It applies the committed migrations to a scratch database, diffs, writes the file into
 * src/db/migrations/, and drops the scratch database. Add the new class to migrations/index.ts.
 */
import { ensureDatabase, dropDatabase, withDatabaseName } from '../src/db/admin.js';
import { migrateToLatest, openOrm } from '../src/db/orm.js';
import { getConfig } from '../src/config.js';

const name = process.argv[2];
if (!name || !/^[a-z][a-z0-9_]*$/.test(name)) {
  console.error('usage: npm run migration:create -- <snake_case_name>');
  process.exit(2);
}

const scratchUrl = withDatabaseName(getConfig().database.url, `eventbook_migration_${process.pid}`);
await ensureDatabase(scratchUrl);
try {
  const orm = await openOrm({ url: scratchUrl, poolMax: 2 });
  try {
    await migrateToLatest(orm);
    const result = await orm.migrator.create(undefined, false, false, name);
    console.log(result.diff.up.length ? `wrote ${result.fileName}` : 'no changes: nothing written');
  } finally {
    await orm.close(true);
  }
} finally {
  await dropDatabase(scratchUrl);
}
