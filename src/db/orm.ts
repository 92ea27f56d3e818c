import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, MikroORM, type Options } from '@mikro-orm/postgresql';
import { eventWeekTerms } from '../events/event-translation.entity.js';
import { entities } from './entities.js';
import { migrations } from './migrations/index.js';

export interface OrmSettings {
  url: string;
  poolMax: number;
  /** How long a query waits for a pool connection, opening one included (node-postgres' connectionTimeoutMillis). */
  acquireTimeoutMs?: number;
  /**
   * How long a query waits for its answer (node-postgres' query_timeout), unset for none. The API's:
   * a database that stopped answering (a host gone, packets dropped) leaves the pool's open
   * connections waiting for replies that never come, which no acquire timeout bounds.
   */
  queryTimeoutMs?: number;
  /** Read replicas: used only where code asks for a read connection (the public catalog). */
  readReplicaUrls?: string[];
  debug?: boolean;
}

/** `{ host }` when the URL names a Unix socket directory in its `host` parameter, as libpq URLs may. */
function socketHostOf(url: string): { host?: string } {
  const host = new URL(url).searchParams.get('host');
  return host?.startsWith('/') ? { host } : {};
}

/**
 * The one place MikroORM is configured. Migrations are listed explicitly (src/db/migrations/index.ts)
 * so that the same list runs under tsx, jest and compiled JavaScript, with no folder discovery.
 */
export function ormOptions(settings: OrmSettings): Options {
  return defineConfig({
    clientUrl: settings.url,
    // libpq's `?host=/run/postgresql` (a Unix socket directory), which MikroORM's URL parsing drops.
    ...socketHostOf(settings.url),
    entities,
    // Functions the schema uses (in index expressions), so the schema diff neither drops nor misses them.
    routines: [eventWeekTerms],
    // Connections stay open a few minutes when idle: opening one costs PostgreSQL a process, and a
    // burst after a quiet spell otherwise opened the whole pool at once, its first answers seconds
    // late (bench/signup-burst.ts, 202 p99).
    pool: { min: 0, max: settings.poolMax, idleTimeoutMillis: 300_000 },
    replicas: (settings.readReplicaUrls ?? []).map((clientUrl, index) => ({ clientUrl, name: `replica-${index + 1}` })),
    // Reads go to the primary unless asked otherwise: a signup must read its own writes at once.
    preferReadReplicas: false,
    // JIT compiles expressions for statements the planner guesses to be costly; for the catalog's
    // short index-driven reads that guess is wrong and compiling cost about 22 ms per statement.
    // connectionTimeoutMillis: a query waits this long for a connection (the pool's or a new one),
    // then fails, so a database that is down answers 503 at once instead of hanging the request.
    driverOptions: {
      options: '-c jit=off',
      connectionTimeoutMillis: settings.acquireTimeoutMs ?? 1500,
      ...(settings.queryTimeoutMs ? { query_timeout: settings.queryTimeoutMs } : {}),
    },
    debug: settings.debug ?? false,
    extensions: [Migrator],
    // Entities are handed over as objects; nothing needs to be discovered from files.
    discovery: { warnWhenNoEntities: true },
    migrations: {
      migrationsList: migrations,
      path: 'src/db/migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
  });
}

export async function openOrm(settings: OrmSettings): Promise<MikroORM> {
  return MikroORM.init(ormOptions(settings));
}

/** Brings the schema up to the newest committed migration. */
export async function migrateToLatest(orm: MikroORM): Promise<string[]> {
  const applied = await orm.migrator.up();
  return applied.map((migration) => migration.name);
}

export { MikroORM };
