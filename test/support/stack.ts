import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createTokenVerifier, mintDevToken } from '../../src/auth/tokens.js';
import type { Role } from '../../src/auth/principal.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openOrm, type MikroORM } from '../../src/db/orm.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { EventTranslation } from '../../src/events/event-translation.entity.js';
import { TicketType } from '../../src/events/ticket-type.entity.js';
import { createApp, rateLimitsOf, statusFeedOf, workflowStarterOf } from '../../src/http/app.js';
import { createApiServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import type { SignupStatusFeed } from '../../src/signups/status-feed.js';
import type { SignupWorkflowStarter } from '../../src/signups/workflow-starts.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { createActivityDependencies, createWorker } from '../../src/temporal/worker.js';
import { requireEnv, testEnvKeys } from './environment.js';

/** Configuration as the processes would read it, pointed at the test stack by the global setup. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ ...process.env, ...overrides });
}

export async function openTestOrm(): Promise<MikroORM> {
  // A generous wait for a pool connection: tests share one pool between the API and a worker on a
  // busy machine, a little larger than each process's DATABASE_POOL_MAX (test/stack-setup.ts).
  return openOrm({ url: requireEnv('DATABASE_URL'), poolMax: 12, acquireTimeoutMs: 10_000 });
}

export async function connectTestClient(): Promise<Client> {
  const connection = await Connection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  return new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
}

export interface RunningWorker {
  taskQueue: string;
  stop(): Promise<void>;
}

/** A real worker on its own task queue (so test files never pick up each other's tasks). */
export async function startTestWorker(
  orm: MikroORM,
  taskQueue = `test-${randomUUID()}`,
  env: Record<string, string> = {},
): Promise<RunningWorker> {
  installTemporalRuntime(createLogger(process.env.LOG_LEVEL ?? 'warn', 'worker-test'), 'WARN');
  const connection = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  const activities = createActivityDependencies(testConfig(env), orm);
  const worker = await createWorker({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue,
    activities,
    workflowBundle: { codePath: requireEnv(testEnvKeys.workflowBundle) },
  });
  const running = worker.run();
  return {
    taskQueue,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await activities.close();
    },
  };
}

export interface RunningApi {
  baseUrl: string;
  config: Config;
  /** The app's signup status feed (GET /v1/signups/{id}/events), e.g. to count its subscribers. */
  statusFeed?: SignupStatusFeed;
  /** The app's outbox relay (signup starts, lifecycle commands), for tests that sweep by hand. */
  relay?: SignupWorkflowStarter;
  token(sub: string, roles?: Role[], options?: { ttlSeconds?: number; markets?: string[] }): Promise<string>;
  close(): Promise<void>;
}

/** The real Express app on an ephemeral port. */
export async function startTestApi(
  deps: { orm: MikroORM; temporal: Client; taskQueue: string },
  overrides: Record<string, string> = {},
): Promise<RunningApi> {
  const config = testConfig(overrides);
  const app = createApp({
    orm: deps.orm,
    temporal: deps.temporal,
    verifyToken: await createTokenVerifier(config.jwt),
    logger: createLogger(config.logLevel, 'api-test'),
    taskQueue: deps.taskQueue,
    config,
    databaseUrl: config.database.url,
  });
  const server = createApiServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    config,
    statusFeed: statusFeedOf(app),
    relay: workflowStarterOf(app),
    token: (sub, roles = ['participant'], options = {}) =>
      mintDevToken(config.jwt, { sub, roles, markets: options.markets, ttlSeconds: options.ttlSeconds }),
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      });
      await statusFeedOf(app)?.close();
      await workflowStarterOf(app)?.stop();
      await rateLimitsOf(app)?.close();
    },
  };
}

/** A ticket type to create with an event: priced in the market's currency when `amountMinor` > 0. */
export interface TestTicketType {
  code: string;
  amountMinor?: number;
  currency?: string;
  capacity?: number;
}

/** A published event straight in the database, for tests about signups. */
export async function insertEvent(
  orm: MikroORM,
  fields: Partial<
    Pick<
      LiveEvent,
      | 'capacity'
      | 'status'
      | 'market'
      | 'waitlistEnabled'
      | 'cancellationDeadline'
      | 'guardianConsentBelowAge'
      | 'platforms'
      | 'minAge'
      | 'maxAge'
      | 'maxAttendeesPerSignup'
      | 'refundPolicy'
      | 'startsAt'
      | 'category'
    >
  > & { title?: string; ticketTypes?: TestTicketType[] } = {},
): Promise<LiveEvent> {
  const em = orm.em.fork();
  const startsAt = fields.startsAt ?? new Date(Date.now() + 7 * 86_400_000);
  const event = em.create(LiveEvent, {
    id: randomUUID(),
    market: fields.market ?? 'NO',
    timezone: 'Europe/Oslo',
    defaultLocale: 'en',
    category: fields.category ?? 'workshop',
    status: fields.status ?? 'published',
    startsAt,
    endsAt: new Date(startsAt.getTime() + 3 * 3_600_000),
    capacity: fields.capacity ?? 10,
    createdBy: 'test',
    ...(fields.waitlistEnabled !== undefined ? { waitlistEnabled: fields.waitlistEnabled } : {}),
    ...(fields.cancellationDeadline !== undefined ? { cancellationDeadline: fields.cancellationDeadline } : {}),
    ...(fields.guardianConsentBelowAge !== undefined ? { guardianConsentBelowAge: fields.guardianConsentBelowAge } : {}),
    ...(fields.platforms !== undefined ? { platforms: fields.platforms } : {}),
    ...(fields.minAge !== undefined ? { minAge: fields.minAge } : {}),
    ...(fields.maxAge !== undefined ? { maxAge: fields.maxAge } : {}),
    ...(fields.maxAttendeesPerSignup !== undefined ? { maxAttendeesPerSignup: fields.maxAttendeesPerSignup } : {}),
    ...(fields.refundPolicy !== undefined ? { refundPolicy: fields.refundPolicy } : {}),
  });
  em.create(EventTranslation, { event, locale: 'en', title: fields.title ?? 'Test event', searchConfig: 'english' });
  (fields.ticketTypes ?? []).forEach((type, index) =>
    em.create(TicketType, {
      id: randomUUID(),
      event,
      code: type.code,
      names: { en: type.code },
      prices: type.amountMinor ? [{ currency: type.currency ?? 'NOK', amountMinor: type.amountMinor }] : [],
      capacity: type.capacity ?? null,
      sortOrder: index,
    }),
  );
  await em.flush();
  return event;
}

/** The event's counters next to what its signup rows add up to. */
export async function countersAndRows(orm: MikroORM, eventId: string) {
  const [row] = await orm.em.getConnection().execute<
    { held_count: number; confirmed_count: number; capacity: number; held_rows: string; confirmed_rows: string }[]
  >(
    `select e.held_count, e.confirmed_count, e.capacity,
            coalesce(sum(s.seats) filter (where s.status = 'held'), 0) as held_rows,
            coalesce(sum(s.seats) filter (where s.status = 'confirmed'), 0) as confirmed_rows
       from event e left join signup s on s.event_id = e.id
      where e.id = ? group by e.id`,
    [eventId],
  );
  if (!row) throw new Error(`no event ${eventId}`);
  return {
    capacity: row.capacity,
    held: row.held_count,
    confirmed: row.confirmed_count,
    heldRows: Number(row.held_rows),
    confirmedRows: Number(row.confirmed_rows),
  };
}

export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Waits until a running workflow has handled everything it was sent and has nothing under way: a
 * workflow task completed after its last signal, and no workflow task or activity pending. From
 * then on it does nothing until something new reaches it, so a test can check that a repeat
 * changed nothing without sleeping.
 */
export async function workflowIdle(client: Client, workflowId: string, timeoutMs = 30_000): Promise<void> {
  const handle = client.workflow.getHandle(workflowId);
  await eventually(
    `${workflowId} to be idle`,
    async () => {
      const { raw } = await handle.describe();
      if (raw.pendingWorkflowTask || (raw.pendingActivities?.length ?? 0) > 0) return undefined;
      const events = (await handle.fetchHistory()).events ?? [];
      const lastSignal = events.findLastIndex((event) => event.workflowExecutionSignaledEventAttributes);
      const lastTask = events.findLastIndex((event) => event.workflowTaskCompletedEventAttributes);
      return lastTask > lastSignal ? true : undefined;
    },
    timeoutMs,
  );
}

export interface TestStack {
  orm: MikroORM;
  client: Client;
  /** A worker on its own task queue, when asked for. */
  worker?: RunningWorker;
  api: RunningApi;
  stop(): Promise<void>;
}

/**
 * What most integration test files need: an ORM, a Temporal client, the API on an ephemeral port
 * and, with `worker: true`, a real worker whose task queue the API starts workflows on.
 */
export async function startTestStack(options: { worker?: boolean; env?: Record<string, string> } = {}): Promise<TestStack> {
  const orm = await openTestOrm();
  const client = await connectTestClient();
  const worker = options.worker ? await startTestWorker(orm, undefined, options.env) : undefined;
  const api = await startTestApi({ orm, temporal: client, taskQueue: worker?.taskQueue ?? `no-worker-${randomUUID()}` }, options.env);
  return {
    orm,
    client,
    worker,
    api,
    async stop() {
      await api.close();
      await worker?.stop();
      await client.connection.close();
      await orm.close(true);
    },
  };
}
