import pg from 'pg';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { signupStatuses, type SignupStatus } from './status.js';

/**
 * Signup status changes pushed by PostgreSQL: a trigger on `signup` NOTIFYs `signup_status` with
 * `{ signupId, status }` on insert and on every status change (see signup.entity.ts). One dedicated
 * connection per process LISTENs and fans the notifications out to in-memory subscribers, so the
 * number of open event streams costs no database connections and no polling.
 *
 * NOTIFY is fire-and-forget: whatever is sent while the connection is down is lost. So after every
 * (re)connect each subscriber gets a `resync` signal and must re-read what it follows; the same
 * happens on the first connect, which covers a change between a subscriber's own first read and
 * the moment LISTEN took effect. `closing` says the feed is shutting down: end the stream, the
 * client reconnects to another process.
 */
export type SignupFeedSignal =
  | { type: 'status'; signupId: string; status: SignupStatus }
  | { type: 'resync'; signupId: string }
  | { type: 'closing'; signupId: string };

export type SignupFeedListener = (signal: SignupFeedSignal) => void;

export interface SignupStatusFeed {
  /** Starts (lazily) the LISTEN connection; answers the function that unsubscribes. Throws once closed. */
  subscribe(signupId: string, listener: SignupFeedListener): () => void;
  /** Resolves once LISTEN is in effect (connecting if needed); rejects when the feed is closed first. */
  ready(): Promise<void>;
  /** Sends `closing` to every subscriber, forgets them, and ends the connection. */
  close(): Promise<void>;
  /** Listeners currently subscribed, over all signups. */
  subscriberCount(): number;
}

export interface SignupStatusFeedOptions {
  databaseUrl: string;
  logger: Logger;
  /** Shown in pg_stat_activity; lets tests find (and kill) this feed's backend. */
  applicationName?: string;
  /** Backoff between reconnect attempts: doubles from `initialMs` up to `maxMs`, with jitter. */
  reconnectDelay?: { initialMs: number; maxMs: number };
  /** How often the idle connection is checked: a half-open TCP connection would otherwise go unnoticed for many minutes. */
  heartbeatMs?: number;
}

export class SignupStatusFeedClosedError extends Error {
  constructor() {
    super('the signup status feed is closed');
    this.name = 'SignupStatusFeedClosedError';
  }
}

const CHANNEL = 'signup_status';

const payloadSchema = z.object({ signupId: z.string().min(1), status: z.enum(signupStatuses) });

function parsePayload(payload: string | undefined): { signupId: string; status: SignupStatus } | undefined {
  if (!payload) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const parsed = payloadSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

export function createSignupStatusFeed(options: SignupStatusFeedOptions): SignupStatusFeed {
  const logger = options.logger.child({ component: 'signup-status-feed' });
  const backoff = options.reconnectDelay ?? { initialMs: 500, maxMs: 30_000 };
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const subscribers = new Map<string, Set<SignupFeedListener>>();

  let closed = false;
  /** The client whose LISTEN is in effect; events of any other (older) client are ignored. */
  let active: pg.Client | undefined;
  let connecting: Promise<void> | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let failedAttempts = 0;
  let waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];

  function deliver(listener: SignupFeedListener, signal: SignupFeedSignal): void {
    try {
      listener(signal);
    } catch (error) {
      // One broken subscriber must not keep the others from hearing about the change.
      logger.error({ err: error, signupId: signal.signupId }, 'signup feed subscriber threw');
    }
  }

  function broadcast(make: (signupId: string) => SignupFeedSignal): void {
    for (const [signupId, listeners] of subscribers) {
      const signal = make(signupId);
      for (const listener of [...listeners]) deliver(listener, signal);
    }
  }

  function onNotification(message: pg.Notification): void {
    if (message.channel !== CHANNEL) return;
    const change = parsePayload(message.payload);
    if (!change) {
      logger.warn({ payload: message.payload?.slice(0, 200) }, 'ignoring a malformed signup_status notification');
      return;
    }
    const listeners = subscribers.get(change.signupId);
    if (!listeners) return;
    for (const listener of [...listeners]) deliver(listener, { type: 'status', ...change });
  }

  /** Forgets `client` if it is the active one, and plans the next attempt while anyone still listens. */
  function lost(client: pg.Client, error?: unknown): void {
    if (client !== active) return;
    active = undefined;
    clearInterval(heartbeatTimer);
    client.end().catch(() => undefined); // may already be gone; the socket is released either way
    if (closed) return;
    logger.warn({ err: error }, 'signup status feed lost its connection; reconnecting');
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer || active || connecting) return;
    // Nobody listens: reconnect lazily with the next subscriber instead of holding a connection for nothing.
    if (subscribers.size === 0 && waiters.length === 0) return;
    const ceiling = Math.min(backoff.maxMs, backoff.initialMs * 2 ** failedAttempts);
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    failedAttempts += 1;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      ensureConnected();
    }, delay);
  }

  function ensureConnected(): void {
    if (closed || active || connecting || reconnectTimer) return;
    connecting = connect().finally(() => {
      connecting = undefined;
    });
  }

  async function connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: options.databaseUrl,
      application_name: options.applicationName ?? 'eventbook-signup-feed',
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
      query_timeout: 10_000,
    });
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client));
    client.on('notification', onNotification);
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      client.end().catch(() => undefined);
      if (closed) return;
      logger.warn({ err: error, attempt: failedAttempts + 1 }, 'signup status feed could not connect; retrying');
      scheduleReconnect();
      return;
    }
    if (closed) {
      await client.end().catch(() => undefined);
      return;
    }
    active = client;
    failedAttempts = 0;
    heartbeatTimer = setInterval(() => {
      client.query('select 1').catch((error: unknown) => lost(client, error));
    }, heartbeatMs);
    heartbeatTimer.unref();
    logger.debug('signup status feed listening');
    const ready = waiters;
    waiters = [];
    for (const waiter of ready) waiter.resolve();
    // Anything may have changed while nobody was listening (or before the first LISTEN took effect).
    broadcast((signupId) => ({ type: 'resync', signupId }));
  }

  return {
    subscribe(signupId, listener) {
      if (closed) throw new SignupStatusFeedClosedError();
      let listeners = subscribers.get(signupId);
      if (!listeners) {
        listeners = new Set();
        subscribers.set(signupId, listeners);
      }
      // A wrapper per call, so subscribing the same function twice still unsubscribes one at a time.
      const entry: SignupFeedListener = (signal) => listener(signal);
      listeners.add(entry);
      ensureConnected();
      return () => {
        const current = subscribers.get(signupId);
        if (!current?.delete(entry)) return;
        if (current.size === 0) subscribers.delete(signupId);
      };
    },

    ready() {
      if (closed) return Promise.reject(new SignupStatusFeedClosedError());
      if (active) return Promise.resolve();
      const promise = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
      ensureConnected();
      return promise;
    },

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(reconnectTimer);
      clearInterval(heartbeatTimer);
      for (const waiter of waiters) waiter.reject(new SignupStatusFeedClosedError());
      waiters = [];
      broadcast((signupId) => ({ type: 'closing', signupId }));
      subscribers.clear();
      await connecting; // a connect in flight ends its own client once it sees `closed`
      const client = active;
      active = undefined;
      await client?.end().catch(() => undefined);
    },

    subscriberCount() {
      let count = 0;
      for (const listeners of subscribers.values()) count += listeners.size;
      return count;
    },
  };
}
