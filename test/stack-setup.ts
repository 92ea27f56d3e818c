import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { dropDatabase, ensureDatabase, withDatabaseName } from '../src/db/admin.js';
import { migrateToLatest, openOrm } from '../src/db/orm.js';
import { workflowsPath } from '../src/temporal/worker.js';
import { startQuietMailSink } from '../scripts/lib/mail-sink.js';
import { startQuietStripeMock } from '../scripts/lib/stripe-mock.js';
import { startTemporalDevServer, type TemporalDevServer } from '../scripts/lib/temporal-server.js';
import { freePort } from '../scripts/lib/ports.js';
import { findOrBuildStripeMock } from '../scripts/lib/tools.js';
import { testEnvKeys } from './support/environment.js';
import { startStripeProxy } from './support/stripe-proxy.js';

/**
 * Starts the real peers once per `npm test`: a throwaway PostgreSQL database with every migration
 * applied, and a Temporal dev server with our search attributes. Also bundles the workflows once,
 * so each test file's worker starts in milliseconds.
 */
declare global {
  var eventbookTestStack:
    | {
        temporal: TemporalDevServer;
        databaseUrl: string;
        stripeMock: { stop(): Promise<void> };
        stripeProxy: { stop(): Promise<void> };
        mailSink: { stop(): Promise<void> };
      }
    | undefined;
}

export async function startTestStack(): Promise<void> {
  const started = Date.now();
  process.env.NODE_ENV = 'test';
  process.env.LOG_LEVEL ??= 'silent';
  // Two test files run at once against one PostgreSQL (max_connections 100 here), each with its
  // stack and the API and worker processes it spawns: at the default 20 per pool (and 16 for the
  // rate limiter) their bursts ran out of connections ("too many clients", answered 503).
  process.env.DATABASE_POOL_MAX ??= '8';
  // Every test file's API counts its budgets in the one test database, and every request comes from
  // 127.0.0.1: the per-address budgets, made for one client address, were spent by the files running
  // beside each other on a fast machine (signup-hammer.test.ts got 429 for 87 of its 200 users). The
  // per-user budgets keep their defaults; rate-limits.test.ts tests the limits on a database of its own.
  process.env.RATE_LIMIT_SIGNUP_PER_ADDRESS ??= '100000/60';
  process.env.RATE_LIMIT_ADMIN_PER_ADDRESS ??= '100000/60';
  process.env.RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS ??= '100000/600';

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
    // The Web UI costs no measurable startup time; test/integration/temporal-ui.test.ts browses it.
    freePort().then((uiPort) => startTemporalDevServer({ uiPort, log: (line) => process.stderr.write(`${line}\n`) })),
    bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (message) => console.error(message), log: quiet },
    }),
  ]);
  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.TEMPORAL_NAMESPACE = temporal.namespace;
  if (temporal.uiUrl) process.env[testEnvKeys.temporalUi] = temporal.uiUrl;

  const artifacts = join(process.cwd(), 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  const bundlePath = join(artifacts, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env[testEnvKeys.workflowBundle] = bundlePath;

  // stripe-mock is Stripe's official API mock: the payment code talks HTTP to it as to Stripe.
  const stripeMockBinary = findOrBuildStripeMock((line) => process.stderr.write(`${line}\n`));
  if (!stripeMockBinary) throw new Error('stripe-mock is needed for the tests: install Go, or set STRIPE_MOCK');
  const stripeMock = await startQuietStripeMock(stripeMockBinary);
  // Through a proxy that remembers intents (amounts, statuses) and refunds: stripe-mock keeps no state.
  const stripeProxy = await startStripeProxy(stripeMock.url);
  process.env.STRIPE_API_BASE = stripeProxy.url;

  // A real SMTP server; tests read what arrived through its REST API (test/support/mailbox.ts).
  const mailSink = await startQuietMailSink(process.cwd());
  process.env.SMTP_HOST = '127.0.0.1';
  process.env.SMTP_PORT = String(mailSink.smtpPort);
  process.env[testEnvKeys.mailApi] = mailSink.webUrl;

  globalThis.eventbookTestStack = { temporal, databaseUrl, stripeMock, stripeProxy, mailSink };
  process.stderr.write(
    `\ntest stack up in ${((Date.now() - started) / 1000).toFixed(1)} s: database ${databaseUrl}, Temporal ${temporal.address}, stripe-mock ${stripeMock.url} (proxy ${stripeProxy.url})\n`,
  );
}

export async function stopTestStack(): Promise<void> {
  const stack = globalThis.eventbookTestStack;
  if (!stack) return;
  globalThis.eventbookTestStack = undefined;
  await Promise.all([stack.temporal.stop(), stack.stripeProxy.stop(), stack.stripeMock.stop(), stack.mailSink.stop()]);
  if (!process.env.KEEP_TEST_DATABASE) await dropDatabase(stack.databaseUrl);
}
