import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { dropDatabase, ensureDatabase, withDatabaseName } from '../src/db/admin.js';
import { migrateToLatest, openOrm } from '../src/db/orm.js';
import { workflowsPath } from '../src/temporal/worker.js';
import { startTemporalDevServer, type TemporalDevServer } from '../scripts/lib/temporal-server.js';
import { testEnvKeys } from './support/environment.js';

/**
 * Starts the real peers once per `npm test`: a throwaway PostgreSQL database with every migration
 * applied, and a Temporal dev server with our search attributes. Also bundles the workflows once,
 * so each test file's worker starts in milliseconds.
 */
declare global {
  var eventbookTestStack: { temporal: TemporalDevServer; databaseUrl: string } | undefined;
}

export async function startTestStack(): Promise<void> {
  const started = Date.now();
  process.env.NODE_ENV = 'test';
  process.env.LOG_LEVEL ??= 'silent';

  const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const databaseUrl = withDatabaseName(serverUrl, `eventbook_test_${process.pid}_${Date.now().toString(36)}`);
  await ensureDatabase(databaseUrl);
  const orm = await openOrm({ url: databaseUrl, poolMax: 2 });
  try {
    await migrateToLatest(orm);
  } finally {
    await orm.close(true);
  }
  process.env.DATABASE_URL = databaseUrl;

  const quiet = () => {};
  const [temporal, bundle] = await Promise.all([
    startTemporalDevServer({ log: (line) => process.stderr.write(`${line}\n`) }),
    bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (message) => console.error(message), log: quiet },
    }),
  ]);
  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.TEMPORAL_NAMESPACE = temporal.namespace;

  const artifacts = join(process.cwd(), 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const bundlePath = join(artifacts, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env[testEnvKeys.workflowBundle] = bundlePath;

  globalThis.eventbookTestStack = { temporal, databaseUrl };
  process.stderr.write(
    `\ntest stack up in ${((Date.now() - started) / 1000).toFixed(1)} s: database ${databaseUrl}, Temporal ${temporal.address}\n`,
  );
}

export async function stopTestStack(): Promise<void> {
  const stack = globalThis.eventbookTestStack;
  if (!stack) return;
  globalThis.eventbookTestStack = undefined;
  await stack.temporal.stop();
  if (!process.env.KEEP_TEST_DATABASE) await dropDatabase(stack.databaseUrl);
}
