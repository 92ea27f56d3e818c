/**
 * npm run dev: the whole stack on this machine with local defaults, in one command.
 *
 *   PostgreSQL   DATABASE_URL, else the server on 127.0.0.1:5432, else an embedded one
 *   Temporal     TEMPORAL_ADDRESS, else a dev server of its own on 7233 (UI on 8233, state in .data/,
 *                one file per database); never one that something else started there
 *   mail         maildev on 1025 (web UI 1080), unless SMTP_HOST names another host
 *   stripe-mock  on 12111, unless STRIPE_API_BASE is set
 *   then the migrations, the worker (metrics on 9464 and 9465) and the API (PORT, default 3000).
 *
 * Ports left at their defaults fall back to free ones when taken; ports set explicitly are used
 * as they are. Ctrl-C or SIGTERM stops everything in reverse order and exits 0; a process that
 * dies on its own stops everything too, with exit code 1.
 */
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openOrm } from '../src/db/orm.js';
import {
  chooseTemporal,
  devWorkerMetricsEnv,
  preferredPort,
  releasePortClaims,
  scriptEnvFor,
  startMailSink,
  startStripeMock,
  temporalStateFile,
  watchHealth,
  type MailSink,
  type StripeMock,
  type TemporalChoice,
} from './lib/dev-services.js';
import { waitFor, portAnswers } from './lib/ports.js';
import { choosePostgres, type PostgresChoice } from './lib/postgres.js';
import {
  describeExit,
  label,
  onStopRequest,
  runInOwnProcessGroup,
  startProcess,
  type ManagedProcess,
} from './lib/processes.js';

await runInOwnProcessGroup();

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(repoRoot, '.data');
const defaultConfig = loadConfig({});

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

interface Stack {
  postgres: PostgresChoice;
  temporal: TemporalChoice;
  namespace: string;
  mail: MailSink;
  stripe?: StripeMock;
  apiUrl: string;
}

/** What we started, in start order; stopped in reverse. */
const started: Stoppable[] = [];
/** Aborted when stopping, so that waits during start-up give up at once. */
const stopping = new AbortController();

function logger(name: string, color?: Parameters<typeof label>[1]): (line: string) => void {
  const prefix = label(name, color);
  return (line) => console.log(`${prefix}${line}`);
}
const log = logger('dev', 'green');

onStopRequest((reason) => void shutdown(0, reason));
const startup = startStack();
startup.then(printBox, (error: unknown) => void shutdown(1, `could not start: ${errorText(error)}`));

async function startStack(): Promise<Stack> {
  const config = loadConfig(process.env);
  const namespace = config.temporal.namespace;

  const postgres = await startPostgres();
  const temporal = await startTemporal(namespace, postgres.url);
  const mail = await startMail();
  const stripe = await startStripe();
  stopping.signal.throwIfAborted();

  await migrate(postgres.url);
  const observability = defaultConfig.observability;
  const workerMetrics = await devWorkerMetricsEnv(process.env, {
    sdkAddress: observability.workerMetricsAddress,
    appPort: observability.workerAppMetricsPort,
  });
  log(`worker metrics: SDK ${workerMetrics.WORKER_METRICS_ADDRESS || 'off'}, app port ${workerMetrics.WORKER_APP_METRICS_PORT}`);
  const env = { ...childEnv({ postgres, temporal, namespace, mail, stripe }), ...workerMetrics };
  const worker = startApp('worker', 'src/worker-main.ts', env);
  await waitForWorker(worker, temporal.address, namespace, config.temporal.taskQueue);
  // Chosen only now, just before the API binds it: a stack starting beside this one meanwhile
  // (the worker takes a while) would otherwise pick the same free port.
  const apiPort = process.env.PORT ? config.port : await preferredPort(3000);
  const api = startApp('api', 'src/api-main.ts', { ...env, PORT: String(apiPort) });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await waitForApi(api, apiUrl);
  return { postgres, temporal, namespace, mail, stripe, apiUrl };
}

async function startPostgres(): Promise<PostgresChoice> {
  const postgres = await choosePostgres({
    configuredUrl: process.env.DATABASE_URL,
    // Overridable so that the embedded path can be tried on a machine that has PostgreSQL running.
    probeUrl: process.env.DEV_POSTGRES_PROBE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    database: 'eventbook',
    // PostgreSQL runs as the `postgres` user when we are root, and that user must reach the data
    // directory: /tmp it can, a checkout under /root it cannot. Others keep it in the checkout,
    // out of reach of /tmp cleaners.
    dataDir: process.getuid?.() === 0 ? `/tmp/eventbook-pg-${process.getuid()}` : join(dataDir, 'postgres'),
    log: logger('postgres'),
  });
  log(`PostgreSQL: ${postgres.origin}`);
  if (postgres.stop) {
    started.push({ name: 'postgres', stop: postgres.stop });
    watchPort('PostgreSQL', postgres.port);
  }
  stopping.signal.throwIfAborted();
  return postgres;
}

async function startTemporal(namespace: string, databaseUrl: string): Promise<TemporalChoice> {
  const temporal = await chooseTemporal({
    configuredAddress: process.env.TEMPORAL_ADDRESS,
    namespace,
    dbFilename: temporalStateFile(dataDir, databaseUrl),
    log: logger('temporal'),
  });
  log(`Temporal: ${temporal.address}, ${temporal.origin}`);
  if (temporal.stop) {
    started.push({ name: 'temporal', stop: temporal.stop });
    watchPort('Temporal', Number(temporal.address.split(':').pop()));
  }
  stopping.signal.throwIfAborted();
  return temporal;
}

async function startMail(): Promise<MailSink> {
  const mail = await startMailSink({
    configuredHost: process.env.SMTP_HOST,
    configuredPort: process.env.SMTP_PORT,
    mailDir: join(dataDir, 'maildev'),
    repoRoot,
    env: process.env,
    abort: stopping.signal,
  });
  if (mail.process) supervise(mail.process);
  else log(`mail: SMTP_HOST=${mail.smtpHost}, no local mail sink`);
  return mail;
}

async function startStripe(): Promise<StripeMock | undefined> {
  if (process.env.STRIPE_API_BASE) {
    log(`stripe: STRIPE_API_BASE=${process.env.STRIPE_API_BASE}, no stripe-mock`);
    return undefined;
  }
  const stripe = await startStripeMock({ abort: stopping.signal, log });
  if (stripe) supervise(stripe.process);
  return stripe;
}

async function migrate(url: string): Promise<void> {
  const orm = await openOrm({ url, poolMax: 2 });
  try {
    const applied = await migrateToLatest(orm);
    log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'schema is up to date');
  } finally {
    await orm.close(true);
  }
}

/** The settings the API and the worker run with: what we resolved on top of the caller's environment. */
function childEnv(stack: Omit<Stack, 'apiUrl'>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // So that `#!/usr/bin/env node` (tsx) finds the Node that runs us, not an older one on PATH.
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    DATABASE_URL: stack.postgres.url,
    TEMPORAL_ADDRESS: stack.temporal.address,
    TEMPORAL_NAMESPACE: stack.namespace,
    SMTP_HOST: stack.mail.smtpHost,
    SMTP_PORT: String(stack.mail.smtpPort),
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty',
    ...(stack.stripe ? { STRIPE_API_BASE: stack.stripe.url } : {}),
  };
}

function startApp(name: string, entryPoint: string, env: NodeJS.ProcessEnv): ManagedProcess {
  const proc = startProcess({
    name,
    command: join(repoRoot, 'node_modules/.bin/tsx'),
    args: [entryPoint],
    env,
    cwd: repoRoot,
  });
  supervise(proc);
  return proc;
}

/** Registers a started process for the ordered stop, and stops everything should it die on its own. */
function supervise(proc: ManagedProcess): void {
  started.push({ name: proc.name, stop: () => proc.stop(15_000) });
  void proc.exited.then((status) => {
    if (!proc.stopRequested()) void shutdown(1, `${proc.name} stopped on its own (${describeExit(status)})`);
  });
}

function watchPort(what: string, port: number | undefined): void {
  if (!port) return;
  watchHealth(
    () => portAnswers('127.0.0.1', port),
    () => void shutdown(1, `${what} stopped answering on port ${port}`),
  );
}

/** Throws, ending the wait, when the process died or we are stopping anyway. */
async function stillStarting(proc: ManagedProcess): Promise<void> {
  stopping.signal.throwIfAborted();
  if (proc.hasExited()) throw new Error(`${proc.name} ${describeExit(await proc.exited)}`);
}

/** The worker is up once it polls its task queue. */
async function waitForWorker(proc: ManagedProcess, address: string, namespace: string, taskQueue: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await waitFor(
      'worker',
      async () => {
        await stillStarting(proc);
        // The task queue type left unset means the workflow task queue.
        const answer = await connection.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } });
        return answer.pollers.length > 0;
      },
      120_000,
    );
  } finally {
    await connection.close();
  }
}

async function waitForApi(proc: ManagedProcess, apiUrl: string): Promise<void> {
  await waitFor(
    'API',
    async () => {
      await stillStarting(proc);
      const response = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      return response?.status === 200;
    },
    60_000,
  );
}

let shuttingDown = false;

async function shutdown(exitCode: number, reason: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  stopping.abort();
  log(`stopping: ${reason}`);
  // Whatever is starting right now gets registered before we stop in order.
  await startup.catch(() => undefined);
  for (const service of started.toReversed()) {
    log(`stopping ${service.name}`);
    await service.stop().catch((error: unknown) => log(`could not stop ${service.name}: ${errorText(error)}`));
  }
  releasePortClaims();
  log(exitCode === 0 ? 'everything stopped' : `everything stopped; exiting with ${exitCode}`);
  process.exit(exitCode);
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

function printBox(stack: Stack): void {
  const rows: Array<[string, string]> = [
    ['API', stack.apiUrl],
    ['Temporal UI', stack.temporal.uiUrl ?? '(none)'],
    ['Temporal', `${stack.temporal.address} (namespace ${stack.namespace})`],
    ['Mail UI', stack.mail.webUrl ?? `(none; SMTP goes to ${stack.mail.smtpHost}:${stack.mail.smtpPort})`],
    ['Database', stack.postgres.url],
    ['stripe-mock', stack.stripe?.url ?? `(none; STRIPE_API_BASE=${process.env.STRIPE_API_BASE ?? 'unset'})`],
  ];
  // The scripts (seed, ops) read DATABASE_URL and TEMPORAL_ADDRESS like the app does; where the
  // defaults would find another stack's (a second one on this machine), say what to set.
  const scriptEnv = scriptEnvFor({ databaseUrl: stack.postgres.url, temporalAddress: stack.temporal.address }, defaultConfig);
  const lines = [
    'eventbook is up',
    '',
    ...rows.map(([name, value]) => `${name.padEnd(12)} ${value}`),
    '',
    ...(scriptEnv ? [`Scripts:   export ${scriptEnv}`] : []),
    'A token:   npm run token -- --sub u1 --role admin',
    `An event:  ${scriptEnv ? `${scriptEnv} ` : ''}npm run seed`,
    'Ctrl-C stops everything.',
  ];
  const width = Math.max(...lines.map((line) => line.length));
  const box = [
    `┌${'─'.repeat(width + 2)}┐`,
    ...lines.map((line) => `│ ${line.padEnd(width)} │`),
    `└${'─'.repeat(width + 2)}┘`,
  ];
  console.log(`\n${box.join('\n')}\n`);
}
