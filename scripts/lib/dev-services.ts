import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, portAnswers, waitFor } from './ports.js';
import { describeExit, startProcess, type ManagedProcess } from './processes.js';
import { maildevCommand } from './mail-sink.js';
import { stripeMockArgs } from './stripe-mock.js';
import { startTemporalDevServer } from './temporal-server.js';
import { findOrBuildStripeMock } from './tools.js';

/**
 * The services around the app that the dev runner starts: Temporal, the mail sink and stripe-mock.
 * Each one uses its usual port when that is free and a port the OS picks otherwise, so a second
 * checkout or a stray process on the port does not stop the stack from coming up.
 * A process that fails to come up is stopped here; once up, the caller owns it.
 */

const LOCALHOST = '127.0.0.1';

/** Whether we can bind host:port (exclusively) right now. */
export async function canListen(port: number, host = LOCALHOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Where dev runners on this machine note the default ports they chose, one file per port holding
 * the runner's pid: a port is chosen a while before its process binds it (the worker starts for
 * seconds), and a second stack starting meanwhile must not choose it too.
 */
const claimsDir = join(tmpdir(), 'eventbook-dev-ports');
const claimed: string[] = [];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Notes `port` as this process's; false when a live other process has it noted. */
function claimPort(port: number): boolean {
  mkdirSync(claimsDir, { recursive: true });
  const file = join(claimsDir, String(port));
  try {
    const owner = Number(readFileSync(file, 'utf8'));
    if (owner !== process.pid && alive(owner)) return false;
  } catch {
    // no claim yet
  }
  writeFileSync(file, String(process.pid));
  claimed.push(file);
  return true;
}

/** Drops this process's claims (on exit; a claim of a process that is gone counts for nothing anyway). */
export function releasePortClaims(): void {
  for (const file of claimed.splice(0)) {
    try {
      if (Number(readFileSync(file, 'utf8')) === process.pid) rmSync(file);
    } catch {
      // already gone
    }
  }
}

/** `port` when it is free and no other dev runner chose it, else a free one. */
export async function preferredPort(port: number): Promise<number> {
  return (await canListen(port)) && claimPort(port) ? port : freePort();
}

/** Waits until the process listens on every port, failing early when it exits or we are stopping. */
export async function waitForPorts(
  proc: ManagedProcess,
  ports: number[],
  abort: AbortSignal,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    proc.name,
    async () => {
      abort.throwIfAborted();
      if (proc.hasExited()) throw new Error(`${proc.name} ${describeExit(await proc.exited)}`);
      const answers = await Promise.all(ports.map((port) => portAnswers(LOCALHOST, port)));
      return answers.every(Boolean);
    },
    timeoutMs,
  );
}

/**
 * Polls `check` every 2 s and calls `onGone` once after three failures in a row: for the servers
 * that libraries start for us, whose processes we cannot watch directly. Returns the unwatch function.
 */
export function watchHealth(check: () => Promise<boolean>, onGone: () => void): () => void {
  let failures = 0;
  const timer = setInterval(async () => {
    failures = (await check()) ? 0 : failures + 1;
    if (failures === 3) {
      clearInterval(timer);
      onGone();
    }
  }, 2000);
  return () => clearInterval(timer);
}

// ---------------------------------------------------------------- Temporal

export interface TemporalChoice {
  address: string;
  uiUrl?: string;
  origin: string;
  /** Set when we started the server. */
  stop?: () => Promise<void>;
}

/**
 * TEMPORAL_ADDRESS when set; else a dev server of our own, on 7233 (UI 8233) when free, else on
 * free ports. Never a server someone else started: one found on 7233 (another checkout's
 * `npm run dev`, a `temporal server start-dev`) has the same namespace and task queue, and its
 * workers would run our workflows against their database. `usualPort`/`usualUiPort` are for tests.
 */
export async function chooseTemporal(options: {
  configuredAddress?: string;
  namespace: string;
  dbFilename: string;
  log: (line: string) => void;
  usualPort?: number;
  usualUiPort?: number;
}): Promise<TemporalChoice> {
  if (options.configuredAddress) return { address: options.configuredAddress, origin: 'TEMPORAL_ADDRESS' };
  const usualPort = options.usualPort ?? 7233;
  const port = await preferredPort(usualPort);
  if (port !== usualPort) options.log(`port ${usualPort} is taken (another Temporal?): starting our own dev server on ${port}, not sharing that one`);
  mkdirSync(dirname(options.dbFilename), { recursive: true });
  const server = await startTemporalDevServer({
    port,
    uiPort: await preferredPort(options.usualUiPort ?? 8233),
    dbFilename: options.dbFilename,
    namespace: options.namespace,
    log: options.log,
  });
  return {
    address: server.address,
    uiUrl: server.uiUrl,
    origin: `our own dev server, state in ${options.dbFilename}`,
    stop: () => server.stop(),
  };
}

/**
 * The dev server's state file for a database: Temporal's state belongs with the rows its workflows
 * work on, so two stacks with different databases (in one checkout too) never share workflows.
 * The default database keeps the file it always had.
 */
export function temporalStateFile(dataDir: string, databaseUrl: string): string {
  const database = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, '')) || 'eventbook';
  return database === 'eventbook' ? join(dataDir, 'temporal.sqlite') : join(dataDir, `temporal-${database.replace(/[^A-Za-z0-9_-]/g, '_')}.sqlite`);
}

/**
 * `DATABASE_URL='…' TEMPORAL_ADDRESS=…` for the settings of this stack that the scripts' defaults
 * would not find (empty when both are the defaults): `npm run seed` against the default Temporal
 * would start this stack's lifecycle on another stack's server, where the wrong worker runs it.
 */
export function scriptEnvFor(
  stack: { databaseUrl: string; temporalAddress: string },
  defaults: { database: { url: string }; temporal: { address: string } },
): string {
  return [
    ...(stack.databaseUrl !== defaults.database.url ? [`DATABASE_URL='${stack.databaseUrl}'`] : []),
    ...(stack.temporalAddress !== defaults.temporal.address ? [`TEMPORAL_ADDRESS=${stack.temporalAddress}`] : []),
  ].join(' ');
}

// ---------------------------------------------------------------- worker metrics

/**
 * The worker's metrics settings for dev: set ones as they are (empty or 0 still turns them off),
 * defaults (src/config.ts) falling back to free ports like every other default, so a second stack,
 * or anything else on 9464/9465, does not stop the worker (and with it the stack). Production sets
 * them explicitly and never comes here.
 */
export async function devWorkerMetricsEnv(
  env: NodeJS.ProcessEnv,
  defaults: { sdkAddress: string | undefined; appPort: number },
  pick: (port: number) => Promise<number> = preferredPort,
): Promise<{ WORKER_METRICS_ADDRESS: string; WORKER_APP_METRICS_PORT: string }> {
  let sdkAddress = env.WORKER_METRICS_ADDRESS;
  if (sdkAddress === undefined) {
    const [host = LOCALHOST, port = '0'] = defaults.sdkAddress ? splitHostPort(defaults.sdkAddress) : [];
    sdkAddress = defaults.sdkAddress ? `${host}:${await pick(Number(port))}` : '';
  }
  let appPort = env.WORKER_APP_METRICS_PORT;
  if (appPort === undefined) {
    let chosen = defaults.appPort > 0 ? await pick(defaults.appPort) : 0;
    // Two fallbacks may land on one port: the second takes another.
    while (chosen > 0 && sdkAddress.endsWith(`:${chosen}`)) chosen = await freePort();
    appPort = String(chosen);
  }
  return { WORKER_METRICS_ADDRESS: sdkAddress, WORKER_APP_METRICS_PORT: appPort };
}

function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at), address.slice(at + 1)];
}

// ---------------------------------------------------------------- mail sink

export interface MailSink {
  smtpHost: string;
  smtpPort: number;
  webUrl?: string;
  /** Set when we run maildev. */
  process?: ManagedProcess;
}

export async function startMailSink(options: {
  configuredHost?: string;
  configuredPort?: string;
  mailDir: string;
  repoRoot: string;
  env: NodeJS.ProcessEnv;
  abort: AbortSignal;
}): Promise<MailSink> {
  const host = options.configuredHost ?? LOCALHOST;
  if (host !== LOCALHOST && host !== 'localhost') {
    return { smtpHost: host, smtpPort: Number(options.configuredPort ?? 1025) };
  }
  const smtpPort = options.configuredPort ? Number(options.configuredPort) : await preferredPort(1025);
  const webPort = await preferredPort(1080);
  mkdirSync(options.mailDir, { recursive: true });
  const proc = startProcess({
    name: 'mail',
    ...maildevCommand(options.repoRoot, { smtp: smtpPort, web: webPort }, options.mailDir),
    env: options.env,
    cwd: options.repoRoot,
  });
  try {
    await waitForPorts(proc, [smtpPort, webPort], options.abort);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return { smtpHost: LOCALHOST, smtpPort, webUrl: `http://${LOCALHOST}:${webPort}`, process: proc };
}

// ---------------------------------------------------------------- stripe-mock

export interface StripeMock {
  url: string;
  process: ManagedProcess;
}

/** stripe-mock on 12111 (or a free port); undefined with a warning when it cannot be had. */
export async function startStripeMock(options: {
  abort: AbortSignal;
  log: (line: string) => void;
}): Promise<StripeMock | undefined> {
  let binary: string | undefined;
  try {
    binary = findOrBuildStripeMock(options.log);
  } catch (error) {
    options.log(`warning: ${(error as Error).message}`);
  }
  if (!binary) {
    options.log('warning: no stripe-mock (and no Go to build it): running without it, STRIPE_API_BASE stays unset');
    return undefined;
  }
  const port = await preferredPort(12111);
  const proc = startProcess({ name: 'stripe', command: binary, args: stripeMockArgs(port) });
  try {
    await waitForPorts(proc, [port], options.abort);
  } catch (error) {
    await proc.stop();
    if (options.abort.aborted) throw error;
    options.log(`warning: stripe-mock did not start (${(error as Error).message}): running without it`);
    return undefined;
  }
  return { url: `http://${LOCALHOST}:${port}`, process: proc };
}
