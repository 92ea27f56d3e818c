import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, bundleWorkflowCode } from '@temporalio/worker';
import { pino } from 'pino';
import { createTokenVerifier, mintDevToken } from '../../src/auth/tokens.js';
import type { MikroORM } from '../../src/db/orm.js';
import { createApp, statusFeedOf } from '../../src/http/app.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import { startTracing, tracingClientInterceptors, tracingWorkflowModules, type Tracing } from '../../src/observability/tracing.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { createActivityDependencies, createWorker, workflowsPath, type EventbookWorker } from '../../src/temporal/worker.js';
import { requireEnv } from '../support/environment.js';
import { newUser, postSignup, waitForStatus } from '../support/signup-steps.js';
import { eventually, insertEvent, openTestOrm, testConfig, type RunningApi } from '../support/stack.js';

// API + worker in this process, traced into memory: one trace from the HTTP request through the
// workflow start into the activities; metrics and log fields checked on the same signup.
const spans = new InMemorySpanExporter();
const lines: Record<string, unknown>[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const logger = pino({ level: 'debug' }, capture);

let tracing: Tracing;
let orm: MikroORM;
let client: Client;
let connection: NativeConnection;
let worker: EventbookWorker;
let running: Promise<void>;
let api: RunningApi;
let closeWorkerDeps: () => Promise<void>;

beforeAll(async () => {
  tracing = startTracing({ serviceName: 'eventbook-test', spanProcessor: new SimpleSpanProcessor(spans) })!;
  // Activity log lines (the SDK's "Activity started/completed") go through this pino logger.
  installTemporalRuntime(logger, 'DEBUG');
  orm = await openTestOrm();
  const taskQueue = `test-${randomUUID()}`;
  // A workflow per free signup: this file follows one signup's request, start and activity in one trace.
  const config = testConfig({ SIGNUP_DOOR_CONFIRMATIONS: 'each' });

  // Its own bundle: the shared test bundle has no tracing interceptors (tracing is off by default).
  const quiet = () => {};
  const bundle = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: tracingWorkflowModules(tracing),
    logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet, log: quiet },
  });
  connection = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  const activities = createActivityDependencies(config, orm);
  closeWorkerDeps = () => activities.close();
  worker = await createWorker({ connection, namespace: config.temporal.namespace, taskQueue, activities, workflowBundle: bundle, tracing });
  running = worker.run();

  client = new Client({
    connection: await Connection.connect({ address: config.temporal.address }),
    namespace: config.temporal.namespace,
    interceptors: tracingClientInterceptors(tracing),
  });
  const app = createApp({
    orm,
    temporal: client,
    verifyToken: await createTokenVerifier(config.jwt),
    logger,
    taskQueue,
    config,
    tracing,
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  api = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    config,
    token: (sub, roles = ['participant'], options = {}) => mintDevToken(config.jwt, { sub, roles, markets: options.markets, ttlSeconds: options.ttlSeconds }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await statusFeedOf(app)?.close();
    },
  };
}, 120_000);

afterAll(async () => {
  await api?.close();
  worker?.shutdown();
  await running;
  await connection?.close();
  await closeWorkerDeps?.();
  await client?.connection.close();
  await orm?.close(true);
  await tracing?.shutdown();
});

describe('seeing inside a free signup', () => {
  let signupId: string;
  let eventId: string;

  beforeAll(async () => {
    const event = await insertEvent(orm, { capacity: 5, title: 'Traced event' });
    eventId = event.id;
    const user = await newUser(api);
    const accepted = await postSignup(api, user, event.id);
    expect(accepted.status).toBe(202);
    signupId = accepted.body.id as string;
    await waitForStatus(api, user, signupId, 'confirmed');
  });

  it('traces the request, the workflow start and the activities in one trace', async () => {
    const request = await eventually('the request span', () =>
      Promise.resolve(spans.getFinishedSpans().find((span) => span.name === 'POST /v1/events/:eventId/signups')),
    );
    const traceId = request.spanContext().traceId;
    const inTrace = () => spans.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
    const start = inTrace().find((span) => span.name === 'StartWorkflow:signupWorkflow');
    expect(start).toBeDefined();
    expect(start?.parentSpanId).toBe(request.spanContext().spanId);
    // Confirmed at the door (free): the workflow's one step is the confirmation mail.
    const activity = await eventually('an activity span of the signup', () =>
      Promise.resolve(inTrace().find((span) => span.name === 'RunActivity:sendSignupNotification')),
    );
    expect(activity).toBeDefined();
    // Scheduled by the workflow (its span comes out of the sandbox through the exporter sink).
    await eventually('the workflow span of the activity', () =>
      Promise.resolve(inTrace().some((span) => span.name === 'StartActivity:sendSignupNotification') ? true : undefined),
    );
    expect(request.attributes['http.route']).toBe('/v1/events/:eventId/signups');
  });

  it('counts it in the metrics, by route template and from the database', async () => {
    const response = await fetch(`${api.baseUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/eventbook_http_request_duration_seconds_count\{route="\/v1\/events\/:eventId\/signups",method="POST",status="202"\} 1/);
    expect(text).not.toContain(eventId); // the matched route, never the raw URL
    expect(text).toMatch(/eventbook_signups\{status="confirmed"\} [1-9]/);
    expect(text).toMatch(/eventbook_holds_total\{from="requested"\} [1-9]/);
    expect(text).toMatch(/eventbook_confirmations_total\{paid="false"\} 1/);
    const unmatched = await fetch(`${api.baseUrl}/no/such/${randomUUID()}`);
    expect(unmatched.status).toBe(404);
    expect(await (await fetch(`${api.baseUrl}/metrics`)).text()).toMatch(/route="unmatched",method="GET",status="404"/);
  });

  it('serves the same registry from the worker metrics server', async () => {
    const server = await startMetricsServer(0, '127.0.0.1');
    try {
      const { port } = server.address() as AddressInfo;
      const text = await eventually('notification counters', async () => {
        const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return /eventbook_notification_sends_total\{channel="email",kind="[a-z-]+",outcome="sent"\} [1-9]/.test(body) ? body : undefined;
      });
      expect(text).toContain('eventbook_seat_moves_total');
      expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    } finally {
      server.close();
    }
  });

  it('puts signupId and eventId on request and activity log lines', () => {
    const requestLine = lines.find((line) => (line.req as { method?: string } | undefined)?.method === 'POST' && line.signupId === undefined && line.eventId === eventId);
    expect(requestLine).toBeDefined();
    const viewLine = lines.find((line) => line.signupId === signupId && typeof (line.req as { url?: string } | undefined)?.url === 'string');
    expect(viewLine).toBeDefined();
    const activityLine = lines.find((line) => line.activityType === 'sendSignupNotification' && line.signupId === signupId);
    expect(activityLine).toMatchObject({ workflowId: `signup-${signupId}`, activityType: 'sendSignupNotification', signupId });
  });

  it("keeps the route's ids on the log line of an error answer, and logs no header", async () => {
    const missing = randomUUID();
    const token = await api.token(`observer-${randomUUID()}`);
    const answer = await fetch(`${api.baseUrl}/v1/signups/${missing}`, { headers: { authorization: `Bearer ${token}` } });
    expect(answer.status).toBe(404);
    // The router resets req.params when the error leaves it; the line is written after that.
    const line = await eventually('the 404 request line', () => Promise.resolve(lines.find((entry) => entry.signupId === missing && entry.res !== undefined)));
    expect(line.res).toEqual({ statusCode: 404 });
    expect(line.req).toEqual({ id: expect.any(String), method: 'GET', url: `/v1/signups/${missing}`, remoteAddress: '127.0.0.1' });
  });
});
