import { createServer, type IncomingMessage, type Server } from 'node:http';
import { BlockList, isIPv4 } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { signupStatuses } from '../signups/status.js';
import { Problem } from '../http/problem.js';

/**
 * Every Prometheus metric of ours, defined once (names `eventbook_*`), in one registry per process.
 * The API serves it at GET /metrics; the worker on its own small HTTP server
 * (WORKER_APP_METRICS_PORT), next to the Temporal SDK's own worker metrics (WORKER_METRICS_ADDRESS).
 * Counters are per process (Prometheus sums them over the replicas); the signups gauge is read
 * from PostgreSQL on each scrape, so every API replica reports the same truth.
 */
export const metricsRegistry = new Registry();

export const httpRequestDuration = new Histogram({
  name: 'eventbook_http_request_duration_seconds',
  help: 'API request duration, by route template (never the raw URL), method and status',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [metricsRegistry],
});

/**
 * Seats taken, counted where the conditional UPDATE takes them (src/signups/seats.ts): at the door
 * by the API (from `requested`), by the workflow after consent (`awaiting_consent`), as a waiting
 * list offer (`waitlisted`) or for a late payment (`released`).
 */
export const holdsTotal = new Counter({
  name: 'eventbook_holds_total',
  help: 'Seat holds taken, by the status the signup came from',
  labelNames: ['from'] as const,
  registers: [metricsRegistry],
});

/** Holds a seat claim found past their deadline and released itself (src/signups/seats.ts, releaseExpiredHolds). */
export const holdsReleasedByLedgerTotal = new Counter({
  name: 'eventbook_holds_released_at_deadline_total',
  help: 'Holds past their deadline that a seat claim released (before their workflow did)',
  registers: [metricsRegistry],
});

/** Signups per door batch (src/signups/seats.ts, placeAtDoor): mostly 1 when quiet, larger under a burst. */
export const doorBatchClaims = new Histogram({
  name: 'eventbook_door_batch_claims',
  help: 'New signups decided together in one door transaction, per batch',
  buckets: [1, 2, 5, 10, 25, 50, 100, 200, 500, 1000],
  registers: [metricsRegistry],
});

export const confirmationsTotal = new Counter({
  name: 'eventbook_confirmations_total',
  help: 'Signups confirmed, by free or paid: free ones at the door by the API, the rest by the confirmSeats activity',
  labelNames: ['paid'] as const,
  registers: [metricsRegistry],
});

export const seatMovesTotal = new Counter({
  name: 'eventbook_seat_moves_total',
  help: 'Seat moves, by move and the status the signup ended in: executions of the seat activities (a retry that finds the move done counts again), and the API\'s cancels at the door (cancelAtDoor)',
  labelNames: ['move', 'status'] as const,
  registers: [metricsRegistry],
});

/** Outbox starts of signup workflows (src/signups/workflow-starts.ts); failed ones stay in signup_workflow_start. */
export const signupWorkflowStartsTotal = new Counter({
  name: 'eventbook_signup_workflow_starts_total',
  help: 'Signup workflow starts from the outbox, by outcome (started, already-started, failed: retried by a sweep; door-group: a door-confirmations flow for a group of door-confirmed signups)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const refundsTotal = new Counter({
  name: 'eventbook_refunds_total',
  help: 'Refunds made through Stripe, by purpose',
  labelNames: ['purpose'] as const,
  registers: [metricsRegistry],
});

export const refundedMinorTotal = new Counter({
  name: 'eventbook_refunded_minor_total',
  help: 'Money refunded, in minor units, by currency',
  labelNames: ['currency'] as const,
  registers: [metricsRegistry],
});

export const notificationSendsTotal = new Counter({
  name: 'eventbook_notification_sends_total',
  help: 'Notification deliveries attempted, by channel, kind and outcome (sent, already-sent, failed)',
  labelNames: ['channel', 'kind', 'outcome'] as const,
  registers: [metricsRegistry],
});

export const notificationFailuresTotal = new Counter({
  name: 'eventbook_notification_failures_total',
  help: 'Notification deliveries that failed (the activity retries them), by channel and kind',
  labelNames: ['channel', 'kind'] as const,
  registers: [metricsRegistry],
});

export const notificationDeliveriesFailedTotal = new Counter({
  name: 'eventbook_notification_deliveries_failed_total',
  help: 'Notifications given up on after their bounded retries (listed by GET /v1/ops/notifications/failed), by channel and kind',
  labelNames: ['channel', 'kind'] as const,
  registers: [metricsRegistry],
});

/** Where the signups gauge reads its numbers on a scrape; set by the API (createApp). */
let signupCounts: (() => Promise<{ status: string; count: number }[]>) | undefined;

export function countSignupsWith(source: typeof signupCounts): void {
  signupCounts = source;
}

export const signupsByStatus = new Gauge({
  name: 'eventbook_signups',
  help: 'Signups by status, counted in PostgreSQL on each scrape',
  labelNames: ['status'] as const,
  registers: [metricsRegistry],
  async collect() {
    if (!signupCounts) return;
    // A database that does not answer leaves the last numbers; the rest of the scrape still works.
    const rows = await signupCounts().catch(() => undefined);
    if (!rows) return;
    for (const status of signupStatuses) this.set({ status }, 0);
    for (const row of rows) this.set({ status: row.status }, row.count);
  },
});

/** Seat move outcome: one call per seat activity execution (in activities/seats.ts) and per cancel at the door (src/signups/workflow-starts.ts). */
export function countSeatMove<T extends { status: string }>(move: string, result: T): T {
  seatMovesTotal.inc({ move, status: result.status });
  return result;
}

/** Delivery outcomes of one notification (in activities/notifications.ts). */
export function countNotificationResults(
  kind: string,
  channels: readonly string[],
  results: readonly PromiseSettledResult<string>[],
): void {
  results.forEach((result, index) => {
    const channel = channels[index] ?? 'unknown';
    const outcome = result.status === 'fulfilled' ? result.value : 'failed';
    notificationSendsTotal.inc({ channel, kind, outcome });
    if (result.status === 'rejected') notificationFailuresTotal.inc({ channel, kind });
  });
}

let processMetrics = false;

/** Node's own numbers (heap, event loop lag, GC, CPU), prefixed `eventbook_`; once per process. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: metricsRegistry, prefix: 'eventbook_' });
}

/** The matched route template (`/v1/signups/:id`), never the raw URL; `unmatched` when no route matched. */
export function routeTemplateOf(req: Request): string {
  const route = (req as { route?: { path?: unknown } }).route;
  const path = route?.path;
  if (typeof path !== 'string') return 'unmatched';
  return `${req.baseUrl}${path}` || '/';
}

/** Express middleware: observes every request's duration once its answer is sent. */
export function observeHttpRequests() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const stop = httpRequestDuration.startTimer();
    res.once('finish', () => stop({ route: routeTemplateOf(req), method: req.method, status: String(res.statusCode) }));
    next();
  };
}

/** Who may read /metrics (METRICS_ALLOWED_ADDRESSES, METRICS_TOKEN; open only outside production with neither). */
export interface MetricsAccess {
  open: boolean;
  addresses: string[];
  token?: string;
}

/**
 * Whether a scrape may read the metrics: from an allowed address or CIDR, or with the bearer
 * token. The metrics tell how many signups exist, which routes are hit and how the process
 * fares: not for the public internet.
 */
export function metricsAllowed(access: MetricsAccess): (address: string | undefined, authorization: string | undefined) => boolean {
  if (access.open) return () => true;
  const allowed = new BlockList();
  for (const entry of access.addresses) {
    const [net = '', prefix] = entry.split('/');
    const type = isIPv4(net) ? 'ipv4' : 'ipv6';
    if (prefix === undefined) allowed.addAddress(net, type);
    else allowed.addSubnet(net, Number(prefix), type);
  }
  const expected = access.token ? Buffer.from(`Bearer ${access.token}`) : undefined;
  return (address, authorization) => {
    if (expected && authorization) {
      const given = Buffer.from(authorization);
      if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    }
    if (!address) return false;
    // IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d.
    const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
    return allowed.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6');
  };
}

/** Express handler for GET /metrics (Prometheus text format), for allowed scrapers only. */
export function serveMetrics(access: MetricsAccess) {
  const allowed = metricsAllowed(access);
  return async (req: Request, res: Response): Promise<void> => {
    // As if there were nothing here: no hint what would open it.
    if (!allowed(req.ip ?? req.socket.remoteAddress, req.get('authorization'))) throw new Problem('not-found');
    const body = await metricsRegistry.metrics();
    res.type(metricsRegistry.contentType).send(body);
  };
}

/**
 * The worker's small metrics server (GET /metrics, anything else 404); port 0 in tests picks a
 * free one. Loopback by default (WORKER_APP_METRICS_HOST), and the same access rule as the API's.
 */
export async function startMetricsServer(port: number, host = '127.0.0.1', access: MetricsAccess = { open: true, addresses: [] }): Promise<Server> {
  const allowed = metricsAllowed(access);
  const server = createServer((req: IncomingMessage, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics' || !allowed(req.socket.remoteAddress, req.headers.authorization)) {
      res.writeHead(404).end();
      return;
    }
    metricsRegistry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(body),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}
