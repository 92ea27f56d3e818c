import pg from 'pg';

/**
 * Creating and dropping whole databases: used by the dev runner, the test setup and the
 * migration tooling, never by the API or the worker.
 */

function splitUrl(databaseUrl: string): { serverUrl: string; database: string } {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_]+$/.test(database)) {
    throw new Error(`database name "${database}" must be letters, digits and underscores`);
  }
  url.pathname = '/postgres';
  return { serverUrl: url.toString(), database };
}

async function withServer<T>(serverUrl: string, action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await action(client);
  } finally {
    await client.end();
  }
}

/** Creates the database named in the URL unless it exists; answers whether it created it. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const { serverUrl, database } = splitUrl(databaseUrl);
  return withServer(serverUrl, async (client) => {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount) return false;
    await client.query(`create database "${database}"`);
    return true;
  });
}

export async function dropDatabase(databaseUrl: string): Promise<void> {
  const { serverUrl, database } = splitUrl(databaseUrl);
  await withServer(serverUrl, (client) => client.query(`drop database if exists "${database}" with (force)`));
}

/** The same server URL with another database name. */
export function withDatabaseName(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Whether a PostgreSQL server answers at this URL's host (any database). */
export async function serverAnswers(databaseUrl: string): Promise<boolean> {
  try {
    const { serverUrl } = splitUrl(databaseUrl);
    await withServer(serverUrl, (client) => client.query('select 1'));
    return true;
  } catch {
    return false;
  }
}
