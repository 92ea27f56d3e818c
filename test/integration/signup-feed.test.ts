/**
 * GET /v1/signups/{signupId}/events against the real stack: statuses are changed with plain SQL, so
 * what the client sees comes from the trigger's NOTIFY through the API's one LISTEN connection,
 * never from the signup workflow.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { MikroORM } from '../../src/db/orm.js';
import { createLogger } from '../../src/logger.js';
import { createSignupStatusFeed, SignupStatusFeedClosedError, type SignupFeedSignal, type SignupStatusFeed } from '../../src/signups/status-feed.js';
import type { SignupStatus } from '../../src/signups/status.js';
import { requireEnv } from '../support/environment.js';
import { eventually, insertEvent, startTestStack, type RunningApi, type TestStack } from '../support/stack.js';
import { insertSignupRow } from '../support/signup-rows.js';

let stack: TestStack;
let orm: MikroORM;
let api: RunningApi;
let feed: SignupStatusFeed;

beforeAll(async () => {
  stack = await startTestStack();
  ({ orm, api } = stack);
  if (!api.statusFeed) throw new Error('the test API was built without a status feed');
  feed = api.statusFeed;
});

afterAll(() => stack.stop());

interface SseEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** A client reading one event stream in the background; frames are parsed as the SSE spec says. */
interface SseClient {
  response: Response;
  events: SseEvent[];
  comments: string[];
  ended: boolean;
  abort(): void;
}

const openClients: SseClient[] = [];

afterEach(() => {
  for (const client of openClients.splice(0)) client.abort();
});

function parseFrame(frame: string, client: SseClient): void {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) {
      client.comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'event') event = value;
    else if (name === 'id') id = value;
    else if (name === 'data') data.push(value);
  }
  if (data.length > 0) client.events.push({ event, id, data: data.join('\n') });
}

async function follow(signupId: string, token?: string): Promise<SseClient> {
  const controller = new AbortController();
  const response = await fetch(`${api.baseUrl}/v1/signups/${signupId}/events`, {
    headers: { accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    signal: controller.signal,
  });
  const client: SseClient = { response, events: [], comments: [], ended: false, abort: () => controller.abort() };
  openClients.push(client);
  if (response.ok && response.body) {
    const body = response.body.pipeThrough(new TextDecoderStream());
    void (async () => {
      let buffer = '';
      try {
        for await (const chunk of body) {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            parseFrame(buffer.slice(0, end), client);
            buffer = buffer.slice(end + 2);
          }
        }
        client.ended = true;
      } catch {
        // aborted by the test
      }
    })();
  }
  return client;
}

function statuses(client: SseClient): SignupStatus[] {
  return client.events.map((event) => (JSON.parse(event.data) as { status: SignupStatus }).status);
}

/** Waits until the client has seen `count` events, and answers their statuses. */
async function statusesAfter(client: SseClient, count: number): Promise<SignupStatus[]> {
  return eventually(`${count} events`, () => Promise.resolve(client.events.length >= count ? statuses(client) : undefined), 15_000);
}

/** Waits (generously) until `condition` holds. */
async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  await eventually(what, () => Promise.resolve(condition() ? true : undefined), timeoutMs);
}

async function setStatus(signupId: string, status: SignupStatus): Promise<void> {
  await orm.em.getConnection().execute('update signup set status = ? where id = ?', [status, signupId]);
}

async function notifyRaw(payload: string): Promise<void> {
  await orm.em.getConnection().execute(`select pg_notify('signup_status', ?)`, [payload]);
}

/** A signup of `userId` in `status`, written straight to the database (no workflow). */
async function signupOf(userId: string, status: SignupStatus = 'requested'): Promise<string> {
  const event = await insertEvent(orm);
  const id = await insertSignupRow(orm, event.id, { status });
  await orm.em.getConnection().execute('update signup set user_id = ? where id = ?', [userId, id]);
  return id;
}

describe('following a signup', () => {
  it('sends the current signup, then each status change in order, and ends after a final status', async () => {
    const userId = `feed-${randomUUID()}`;
    const signupId = await signupOf(userId);
    const client = await follow(signupId, await api.token(userId));

    expect(client.response.status).toBe(200);
    expect(client.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(client.response.headers.get('cache-control')).toBe('no-store');
    expect(client.response.headers.get('x-accel-buffering')).toBe('no');
    expect(await statusesAfter(client, 1)).toEqual(['requested']);
    expect(JSON.parse(client.events[0]!.data)).toMatchObject({ id: signupId, seats: 1, status: 'requested' });

    await setStatus(signupId, 'held');
    expect(await statusesAfter(client, 2)).toEqual(['requested', 'held']);
    await setStatus(signupId, 'confirmed');
    expect(await statusesAfter(client, 3)).toEqual(['requested', 'held', 'confirmed']);
    await setStatus(signupId, 'cancelled');
    expect(await statusesAfter(client, 4)).toEqual(['requested', 'held', 'confirmed', 'cancelled']);

    await until('the end of the stream', () => client.ended, 10_000);
    expect(client.events.map((event) => [event.event, event.id])).toEqual([
      ['signup', '1'],
      ['signup', '2'],
      ['signup', '3'],
      ['signup', '4'],
    ]);
    await until('no subscribers left', () => feed.subscriberCount() === 0, 5_000);
  });

  it('sends no duplicate and survives garbage on the channel', async () => {
    const userId = `feed-${randomUUID()}`;
    const signupId = await signupOf(userId);
    const client = await follow(signupId, await api.token(userId));
    await statusesAfter(client, 1);
    await feed.ready();

    // A notification that disagrees with the row makes the stream re-read, and the row still says requested.
    await notifyRaw(JSON.stringify({ signupId, status: 'held' }));
    await notifyRaw(JSON.stringify({ signupId, status: 'requested' }));
    await notifyRaw('not json');
    await notifyRaw(JSON.stringify({ signupId, status: 'teleported' }));
    await notifyRaw(JSON.stringify({ status: 'held' }));
    await setStatus(signupId, 'waitlisted');

    expect(await statusesAfter(client, 2)).toEqual(['requested', 'waitlisted']);
    // A later change as the marker: the feed handles the channel in order, so a duplicate of
    // 'waitlisted', were one coming, would arrive before it.
    await setStatus(signupId, 'held');
    expect(await statusesAfter(client, 3)).toEqual(['requested', 'waitlisted', 'held']);
    expect(client.ended).toBe(false);
  });

  it('sends a signup that is already final once, then ends', async () => {
    const userId = `feed-${randomUUID()}`;
    const signupId = await signupOf(userId, 'rejected');
    const client = await follow(signupId, await api.token(userId));
    await until('the end of the stream', () => client.ended, 10_000);
    expect(statuses(client)).toEqual(['rejected']);
  });

  it('lets an admin follow anyone\'s signup', async () => {
    const signupId = await signupOf(`feed-${randomUUID()}`);
    const client = await follow(signupId, await api.token(`feed-admin-${randomUUID()}`, ['admin']));
    expect(await statusesAfter(client, 1)).toEqual(['requested']);
  });

  it('keeps each signup\'s notifications to its own streams', async () => {
    const userId = `feed-${randomUUID()}`;
    const [first, second] = [await signupOf(userId), await signupOf(userId)];
    const token = await api.token(userId);
    const firstClient = await follow(first, token);
    const secondClient = await follow(second, token);
    await statusesAfter(firstClient, 1);
    await statusesAfter(secondClient, 1);

    // What the feed hands out, next to what the streams show: a stream would hide a misrouted
    // notification (its re-read finds an unchanged status), a listener does not.
    const heardBySecond: SignupFeedSignal[] = [];
    const stopListening = feed.subscribe(second, (signal) => heardBySecond.push(signal));
    try {
      await feed.ready();
      await setStatus(first, 'held');
      expect(await statusesAfter(firstClient, 2)).toEqual(['requested', 'held']);
      // Notifications arrive in commit order on the one connection: once this one is in, the first one was handled.
      await setStatus(second, 'waitlisted');
      expect(await statusesAfter(secondClient, 2)).toEqual(['requested', 'waitlisted']);
      expect(heardBySecond.filter((signal) => signal.type === 'status')).toEqual([{ type: 'status', signupId: second, status: 'waitlisted' }]);
      expect(statuses(firstClient)).toEqual(['requested', 'held']);
    } finally {
      stopListening();
    }
  });

  it("answers another user's token with a 404 problem, not a stream, and no token with 401", async () => {
    const signupId = await signupOf(`feed-${randomUUID()}`);
    const before = feed.subscriberCount();

    const stranger = await follow(signupId, await api.token(`feed-${randomUUID()}`));
    expect(stranger.response.status).toBe(404);
    expect(stranger.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await stranger.response.json()).toMatchObject({ type: '/problems/not-found', status: 404 });

    const anonymous = await follow(signupId);
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await anonymous.response.body?.cancel();

    const unknown = await follow(randomUUID(), await api.token(`feed-${randomUUID()}`, ['admin']));
    expect(unknown.response.status).toBe(404);
    await unknown.response.body?.cancel();

    expect(feed.subscriberCount()).toBe(before); // the refused requests left no subscriber behind
  });

  it('unsubscribes when the client goes away', async () => {
    const userId = `feed-${randomUUID()}`;
    const signupId = await signupOf(userId);
    const before = feed.subscriberCount();
    const client = await follow(signupId, await api.token(userId));
    await statusesAfter(client, 1);
    expect(feed.subscriberCount()).toBe(before + 1);

    client.abort();
    await until('the stream to unsubscribe', () => feed.subscriberCount() === before, 5_000);
  });
});

describe('the status feed', () => {
  const logger = createLogger('silent', 'feed-test');

  it('tells subscribers to re-read after its connection dropped, and hears changes again', async () => {
    const applicationName = `feed-test-${randomUUID().slice(0, 8)}`;
    const own = createSignupStatusFeed({
      databaseUrl: requireEnv('DATABASE_URL'),
      logger,
      applicationName,
      reconnectDelay: { initialMs: 50, maxMs: 200 },
    });
    try {
      const signupId = await signupOf(`feed-${randomUUID()}`);
      const heard: SignupFeedSignal[] = [];
      const unsubscribe = own.subscribe(signupId, (signal) => heard.push(signal));
      await own.ready();
      expect(heard).toEqual([{ type: 'resync', signupId }]); // the first LISTEN may come after the caller's first read
      heard.length = 0;

      const backends = () =>
        orm.em
          .getConnection()
          .execute<{ pid: number }[]>('select pid from pg_stat_activity where application_name = ?', [applicationName]);
      const [before] = await backends();
      if (!before) throw new Error('the feed has no backend');
      await orm.em.getConnection().execute('select pg_terminate_backend(?)', [before.pid]);

      await until('a resync', () => heard.some((signal) => signal.type === 'resync'), 10_000);
      const after = await backends();
      expect(after).toHaveLength(1);
      expect(after[0]!.pid).not.toBe(before.pid);

      await setStatus(signupId, 'held');
      await until('the change', () => heard.some((signal) => signal.type === 'status' && signal.status === 'held'));
      unsubscribe();
      expect(own.subscriberCount()).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('connects only when someone subscribes, and says closing to subscribers when closed', async () => {
    const applicationName = `feed-test-${randomUUID().slice(0, 8)}`;
    const own = createSignupStatusFeed({ databaseUrl: requireEnv('DATABASE_URL'), logger, applicationName });
    const backendCount = async () => {
      const rows = await orm.em
        .getConnection()
        .execute<{ count: string }[]>('select count(*) from pg_stat_activity where application_name = ?', [applicationName]);
      return Number(rows[0]?.count);
    };
    expect(await backendCount()).toBe(0);

    const signupId = randomUUID();
    const heard: SignupFeedSignal[] = [];
    own.subscribe(signupId, (signal) => heard.push(signal));
    await own.ready();
    expect(await backendCount()).toBe(1);

    await own.close();
    expect(heard.at(-1)).toEqual({ type: 'closing', signupId });
    expect(own.subscriberCount()).toBe(0);
    expect(() => own.subscribe(signupId, () => undefined)).toThrow(SignupStatusFeedClosedError);
    await expect(own.ready()).rejects.toThrow(SignupStatusFeedClosedError);
    await eventually('the backend to go', async () => ((await backendCount()) === 0 ? true : undefined), 5_000);
  });
});
