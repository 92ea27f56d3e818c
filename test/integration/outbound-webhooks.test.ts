/**
 * Outbound webhooks end to end: admin API, PostgreSQL triggers writing the outbox, the relay,
 * Temporal delivery workflows on a real worker, and real local HTTP receivers that verify each
 * signature with the `standardwebhooks` library; one receiver is down (nothing listens on its port),
 * one fails twice before it answers; scope by market and category; an endpoint deleted while its
 * delivery retries; and the relay cut off from Temporal while signups go on.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { mintDevToken } from '../../src/auth/tokens.js';
import { createLogger } from '../../src/logger.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { webhookDeliveryWorkflowId } from '../../src/temporal/contract.js';
import { createWebhookRelay, type WebhookRelay } from '../../src/webhooks/relay.js';
import { freePort } from '../../scripts/lib/ports.js';
import { requireEnv } from '../support/environment.js';
import { request } from '../support/http.js';
import { mailTo } from '../support/mailbox.js';
import { eventually, insertEvent, startTestStack, type TestStack } from '../support/stack.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

let stack: TestStack;
let relay: WebhookRelay;
/** The relay's policy in this file: 1 s doubling, 3 attempts, disabled after 2 failed messages. */
const testSettings = { retryInitialSeconds: 1, maxAttempts: 3, disableAfterFailures: 2 };

interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

interface Attempt {
  id: string;
  at: number;
  status: number;
}

/**
 * A receiver that accepts only correctly signed messages (401 otherwise), as an integrator's would.
 * `answer` picks the status for the n-th attempt (1, 2, ...) of a message (204 by default); every
 * attempt is recorded, and what a 2xx took is `received`.
 */
async function startReceiver(answer: (attempt: number) => number = () => 204): Promise<{
  url: string;
  received: Received[];
  attempts: Attempt[];
  rejected: number;
  setSecret(secret: string): void;
  server: Server;
}> {
  let secret = '';
  const state = { received: [] as Received[], attempts: [] as Attempt[], rejected: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const message = new Webhook(secret).verify(body, req.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
        const id = String(req.headers['webhook-id']);
        const status = answer(state.attempts.filter((attempt) => attempt.id === id).length + 1);
        state.attempts.push({ id, at: Date.now(), status });
        if (status < 300) state.received.push({ id, type: message.type, data: message.data });
        res.writeHead(status).end();
      } catch {
        state.rejected += 1;
        res.writeHead(401).end();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    get received() {
      return state.received;
    },
    get attempts() {
      return state.attempts;
    },
    get rejected() {
      return state.rejected;
    },
    setSecret: (value) => (secret = value),
    server,
  };
}

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
  relay = createWebhookRelay({
    orm: stack.orm,
    temporal: stack.client,
    taskQueue: stack.worker!.taskQueue,
    logger: createLogger('warn', 'webhook-relay-test'),
    settings: testSettings,
    everyMs: 200,
  });
  relay.start();
});

afterAll(async () => {
  await relay.stop();
  await stack.stop();
});

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
/** A new event in market NO, published at once, 20 days ahead. */
const publishedEventBody = (title: string, category: string, extra: { capacity: number; waitlistEnabled?: boolean }) => ({
  defaultLocale: 'en',
  translations: { en: { title, description: 'x' } },
  category,
  market: 'NO',
  timezone: 'Europe/Oslo',
  startsAt: inDays(20),
  endsAt: inDays(21),
  cancellationDeadline: inDays(19),
  publish: true,
  ...extra,
});

describe('outbound webhooks', () => {
  it('deliver signed messages for signups and event changes, log them, redeliver one, and disable an endpoint that is down', async () => {
    const category = `wh-${randomUUID().slice(0, 8)}`;
    const ownerEmail = `webhook-owner-${randomUUID()}@example.test`;
    const organizer = await mintDevToken(stack.api.config.jwt, {
      sub: `org-${randomUUID()}`,
      roles: ['organizer'],
      markets: ['NO'],
      extraClaims: { email: ownerEmail },
    });
    const api = (method: string, path: string, options: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
      request(stack.api.baseUrl, method, path, { token: organizer, ...options });

    // Scope: an organizer cannot register for a market it does not have.
    const outside = await api('POST', '/v1/admin/webhook-endpoints', { body: { url: 'http://127.0.0.1:1/x', eventTypes: ['event.published'], market: 'SE' } });
    expect(outside.status).toBe(422);
    expect(outside.body.errors).toEqual([expect.objectContaining({ field: 'market' })]);

    const receiver = await startReceiver();
    const created = await api('POST', '/v1/admin/webhook-endpoints', {
      body: {
        url: receiver.url,
        market: 'NO',
        category,
        eventTypes: ['signup.confirmed', 'signup.cancelled', 'signup.waitlisted', 'event.published', 'event.changed', 'event.cancelled'],
      },
    });
    expect(created.status).toBe(201);
    const endpointId = created.body.id as string;
    expect(created.body.secret).toMatch(/^whsec_/);
    receiver.setSecret(created.body.secret as string);
    expect((await api('GET', `/v1/admin/webhook-endpoints/${endpointId}`)).body).not.toHaveProperty('secret');

    const downPort = await freePort(); // nothing listens there
    const down = await api('POST', '/v1/admin/webhook-endpoints', {
      body: { url: `http://127.0.0.1:${downPort}/hooks`, market: 'NO', category, eventTypes: ['event.changed'] },
    });
    expect(down.status).toBe(201);
    const downId = down.body.id as string;

    // The business flow: publish, a confirmed and a waitlisted signup, a cancellation, two edits, the event's cancellation.
    const event = await api('POST', '/v1/admin/events', {
      body: publishedEventBody('Webhook day', category, { capacity: 1, waitlistEnabled: true }),
    });
    expect(event.status).toBe(201);
    const eventId = event.body.id as string;
    const signUp = async (user: string) =>
      request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
        token: await stack.api.token(user),
        body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
      });
    const first = await signUp(`wh-a-${randomUUID()}`);
    expect(first.body.status).toBe('confirmed');
    const secondUser = `wh-b-${randomUUID()}`;
    const second = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
      token: await stack.api.token(secondUser),
      body: { attendees: [{ firstName: 'Bo', age: 8, kind: 'child' }], platform: 'web' },
    });
    expect(second.body.status).toBe('waitlisted');
    const cancelled = await request(stack.api.baseUrl, 'POST', `/v1/signups/${second.body.id as string}/cancel`, {
      token: await stack.api.token(secondUser),
      body: { reason: 'ill' },
    });
    expect(cancelled.status).toBe(200);
    for (const title of ['Webhook day!', 'Webhook day!!']) {
      const current = await api('GET', `/v1/admin/events/${eventId}`);
      const patched = await api('PATCH', `/v1/admin/events/${eventId}`, {
        body: { translations: { en: { title, description: 'x' } } },
        headers: { 'if-match': current.headers.get('etag') ?? '' },
      });
      expect(patched.status).toBe(200);
    }
    expect((await api('POST', `/v1/admin/events/${eventId}/cancel`, { body: { reason: 'storm' } })).status).toBe(200);

    const wanted = ['event.published', 'signup.confirmed', 'signup.waitlisted', 'signup.cancelled', 'event.changed', 'event.cancelled'];
    await eventually(
      'every message type at the receiver',
      () =>
        Promise.resolve(
          wanted.every((type) => receiver.received.some((message) => message.type === type)) &&
            // Two edits: wait for both, not only the first (each is a delivery of its own).
            receiver.received.filter((message) => message.type === 'event.changed').length >= 2
            ? true
            : undefined,
        ),
      60_000,
      250,
    );
    expect(receiver.rejected).toBe(0);
    expect(receiver.received.filter((message) => message.type === 'event.changed')).toHaveLength(2);
    expect(receiver.received.find((message) => message.type === 'signup.confirmed')?.data).toMatchObject({
      signupId: first.body.id,
      eventId,
      status: 'confirmed',
      seats: 1,
    });

    // The delivery log: one row per message, delivered at the first attempt, under the webhook-id the receiver saw.
    const log = await eventually(
      'every delivery logged as delivered',
      async () => {
        const answer = await api('GET', `/v1/admin/webhook-endpoints/${endpointId}/deliveries`);
        const items = answer.body.items as { id: string; messageId: string; status: string; attempts: number; type: string }[];
        return items.length >= receiver.received.length && items.every((item) => item.status === 'delivered') ? items : undefined;
      },
      30_000,
      250,
    );
    expect(log.map((item) => item.messageId).sort()).toEqual(receiver.received.map((message) => message.id).sort());
    expect(log.every((item) => item.attempts === 1)).toBe(true);

    // Redelivery: the same webhook-id again, a second round in the log.
    const again = log.find((item) => item.type === 'event.published')!;
    const redelivered = await api('POST', `/v1/admin/webhook-endpoints/${endpointId}/deliveries/${again.id}/redeliver`);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ round: 2, status: 'pending' });
    await eventually(
      'the redelivered message',
      () => Promise.resolve(receiver.received.filter((message) => message.id === again.messageId).length === 2 ? true : undefined),
      30_000,
      250,
    );

    // The endpoint that is down: each message fails its 3 attempts; after 2 such messages it is disabled and its owner mailed.
    const disabled = await eventually(
      'the endpoint that is down disabled',
      async () => {
        const answer = await api('GET', `/v1/admin/webhook-endpoints/${downId}`);
        return answer.body.enabled === false ? answer.body : undefined;
      },
      90_000,
      500,
    );
    expect(disabled).toMatchObject({ consecutiveFailures: 2, disabledReason: expect.stringContaining('2 messages in a row') });
    const failed = (await api('GET', `/v1/admin/webhook-endpoints/${downId}/deliveries`)).body.items as { status: string; attempts: number; lastError: string | null }[];
    expect(failed).toHaveLength(2);
    for (const item of failed) expect(item).toMatchObject({ status: 'failed', attempts: 3, lastError: expect.any(String) });
    const mail = await eventually('the owner told', async () => (await mailTo(ownerEmail)).find((m) => m.subject.startsWith('Webhook endpoint disabled')), 30_000, 500);
    expect(mail.text).toContain(`/v1/admin/webhook-endpoints/${downId}`);
    // Messages of the time it is disabled are never fanned out to it: the mail must not promise them.
    expect(mail.text).toContain('are not kept for it');
    // A disabled endpoint cannot be redelivered to until it is enabled again.
    const refused = await api('POST', `/v1/admin/webhook-endpoints/${downId}/deliveries/${randomUUID()}/redeliver`);
    expect(refused.status).toBe(409);
    const enabled = await api('PATCH', `/v1/admin/webhook-endpoints/${downId}`, { body: { enabled: true } });
    expect(enabled.body).toMatchObject({ enabled: true, consecutiveFailures: 0, disabledAt: null });

    expect((await api('GET', '/v1/admin/webhook-endpoints')).body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: endpointId }), expect.objectContaining({ id: downId })]),
    );
    // Another organizer's scope does not see them.
    const stranger = await stack.api.token('org-se', ['organizer'], { markets: ['SE'] });
    expect((await request(stack.api.baseUrl, 'GET', `/v1/admin/webhook-endpoints/${endpointId}`, { token: stranger })).status).toBe(404);
    expect((await api('DELETE', `/v1/admin/webhook-endpoints/${downId}`)).status).toBe(204);
    receiver.server.close();
  }, 240_000);
  it('keep to the market and category of their scope', async () => {
    const mine = `wh-${randomUUID().slice(0, 8)}`;
    const theirs = `wh-${randomUUID().slice(0, 8)}`;
    const organizerOf = (markets: string[], categories?: string[]) =>
      mintDevToken(stack.api.config.jwt, { sub: `org-${randomUUID()}`, roles: ['organizer'], markets, ...(categories ? { extraClaims: { categories } } : {}) });
    const categoryOrganizer = await organizerOf(['NO'], [mine]);
    const as = (token: string) => (method: string, path: string, body?: unknown) => request(stack.api.baseUrl, method, path, { token, body });
    const api = as(categoryOrganizer);

    // A token limited to categories must name one of them.
    for (const category of [undefined, theirs]) {
      const refused = await api('POST', '/v1/admin/webhook-endpoints', { url: 'http://127.0.0.1:1/x', eventTypes: ['event.published'], market: 'NO', category });
      expect({ category, status: refused.status, errors: refused.body.errors }).toEqual({
        category,
        status: 422,
        errors: [expect.objectContaining({ in: 'body', field: 'category' })],
      });
    }
    const receiver = await startReceiver();
    const created = await api('POST', '/v1/admin/webhook-endpoints', { url: receiver.url, eventTypes: ['event.published'], market: 'NO', category: mine });
    expect(created.status).toBe(201);
    receiver.setSecret(created.body.secret as string);
    const endpointId = created.body.id as string;
    const endpoint = `/v1/admin/webhook-endpoints/${endpointId}`;

    // Who sees it: the same market without a category limit does; another category of the market or another market does not.
    const marketOrganizer = as(await organizerOf(['NO']));
    expect((await marketOrganizer('GET', endpoint)).status).toBe(200);
    const otherCategory = as(await organizerOf(['NO'], [theirs]));
    const otherMarket = as(await organizerOf(['SE']));
    for (const stranger of [otherCategory, otherMarket]) {
      expect((await stranger('GET', endpoint)).status).toBe(404);
      expect((await stranger('PATCH', endpoint, { enabled: false })).status).toBe(404);
      expect((await stranger('GET', `${endpoint}/deliveries`)).status).toBe(404);
      expect((await stranger('DELETE', endpoint)).status).toBe(404);
      expect(((await stranger('GET', '/v1/admin/webhook-endpoints')).body.items as { id: string }[]).map((item) => item.id)).not.toContain(endpointId);
    }

    // What it gets: events of its market and category only. The others are written first; the relay
    // fans rows out oldest first, so once the last one has arrived the others have been decided.
    await insertEvent(stack.orm, { market: 'NO', category: theirs, title: 'Other category' });
    await insertEvent(stack.orm, { market: 'SE', category: mine, title: 'Other market' });
    const wanted = await insertEvent(stack.orm, { market: 'NO', category: mine, title: 'In scope' });
    await eventually('the in-scope event at the receiver', () => Promise.resolve(receiver.received.length > 0 ? true : undefined), 30_000, 250);
    expect(receiver.received.map((message) => [message.type, message.data.eventId])).toEqual([['event.published', wanted.id]]);
    const log = (await api('GET', `${endpoint}/deliveries`)).body.items as { type: string }[];
    expect(log.map((item) => item.type)).toEqual(['event.published']);
    receiver.server.close();
  }, 60_000);

  it('retry a failing receiver with growing waits until it answers 2xx, under one webhook-id', async () => {
    const category = `wh-${randomUUID().slice(0, 8)}`;
    const receiver = await startReceiver((attempt) => (attempt <= 2 ? 503 : 204));
    const admin = await stack.api.token(`admin-${randomUUID()}`, ['admin']);
    const created = await request(stack.api.baseUrl, 'POST', '/v1/admin/webhook-endpoints', {
      token: admin,
      body: { url: receiver.url, eventTypes: ['event.published'], market: 'NO', category },
    });
    receiver.setSecret(created.body.secret as string);
    const event = await insertEvent(stack.orm, { category });

    const [delivery] = await eventually(
      'the delivery delivered',
      async () => {
        const items = (await request(stack.api.baseUrl, 'GET', `/v1/admin/webhook-endpoints/${created.body.id as string}/deliveries`, { token: admin })).body
          .items as { status: string; attempts: number; lastStatusCode: number | null; messageId: string }[];
        return items[0]?.status === 'delivered' ? items : undefined;
      },
      30_000,
      250,
    );
    expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 204 });
    // Three signed attempts of one message (the receiver verified each), the waits growing: 1 s, then 2 s.
    expect(receiver.attempts.map((attempt) => [attempt.id, attempt.status])).toEqual([
      [delivery!.messageId, 503],
      [delivery!.messageId, 503],
      [delivery!.messageId, 204],
    ]);
    const [first, second, third] = receiver.attempts.map((attempt) => attempt.at);
    expect(second! - first!).toBeGreaterThanOrEqual(testSettings.retryInitialSeconds * 1000 * 0.9);
    expect(third! - second!).toBeGreaterThanOrEqual(testSettings.retryInitialSeconds * 2 * 1000 * 0.9);
    expect(receiver.received.map((message) => message.data.eventId)).toEqual([event.id]);
    // Delivered in the end: no failed message counts against the endpoint.
    const endpoint = await request(stack.api.baseUrl, 'GET', `/v1/admin/webhook-endpoints/${created.body.id as string}`, { token: admin });
    expect(endpoint.body).toMatchObject({ enabled: true, consecutiveFailures: 0 });
    receiver.server.close();
  }, 60_000);

  it('end a delivery that is still retrying as skipped when its endpoint is deleted', async () => {
    const category = `wh-${randomUUID().slice(0, 8)}`;
    const admin = await stack.api.token(`admin-${randomUUID()}`, ['admin']);
    const created = await request(stack.api.baseUrl, 'POST', '/v1/admin/webhook-endpoints', {
      token: admin,
      body: { url: `http://127.0.0.1:${await freePort()}/hooks`, eventTypes: ['event.published'], market: 'NO', category },
    });
    const endpointId = created.body.id as string;
    await insertEvent(stack.orm, { category });
    const failing = await eventually(
      'a first failed attempt',
      async () => {
        const items = (await request(stack.api.baseUrl, 'GET', `/v1/admin/webhook-endpoints/${endpointId}/deliveries`, { token: admin })).body
          .items as { id: string; attempts: number; round: number }[];
        return items[0] && items[0].attempts >= 1 ? items[0] : undefined;
      },
      30_000,
      250,
    );
    expect((await request(stack.api.baseUrl, 'DELETE', `/v1/admin/webhook-endpoints/${endpointId}`, { token: admin })).status).toBe(204);
    // Its next attempt finds no delivery: the flow ends there, instead of failing attempt after attempt.
    const handle = stack.client.workflow.getHandle(webhookDeliveryWorkflowId(failing.id, failing.round));
    const closed = await eventually(
      'the delivery flow closed',
      async () => {
        const { status } = await handle.describe();
        return status.name === 'RUNNING' ? undefined : status.name;
      },
      30_000,
      250,
    );
    expect(closed).toBe('COMPLETED');
    const outcome: unknown = await handle.result();
    expect(outcome).toBe('skipped');
  }, 60_000);

  it('keep signups and event changes going while the relay cannot reach Temporal, and deliver the messages once it can', async () => {
    const category = `wh-${randomUUID().slice(0, 8)}`;
    const receiver = await startReceiver();
    const admin = await stack.api.token(`admin-${randomUUID()}`, ['admin']);
    const created = await request(stack.api.baseUrl, 'POST', '/v1/admin/webhook-endpoints', {
      token: admin,
      body: { url: receiver.url, eventTypes: ['event.published', 'signup.confirmed'], market: 'NO', category },
    });
    receiver.setSecret(created.body.secret as string);
    const endpointId = created.body.id as string;

    // This test's own relay, reaching Temporal through a proxy that is cut; the file's relay is stopped meanwhile.
    const temporalProxy = await startTcpProxy(requireEnv('TEMPORAL_ADDRESS'));
    const relayClient = await connectTemporalClient({ address: temporalProxy.address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    const outageRelay = createWebhookRelay({
      orm: stack.orm,
      temporal: relayClient,
      taskQueue: stack.worker!.taskQueue,
      logger: createLogger('warn', 'webhook-relay-outage-test'),
      settings: testSettings,
    });
    await relay.stop();
    temporalProxy.cut();
    try {
      const event = await request(stack.api.baseUrl, 'POST', '/v1/admin/events', {
        token: admin,
        body: publishedEventBody('Outage day', category, { capacity: 5 }),
      });
      expect(event.status).toBe(201);
      const signup = await request(stack.api.baseUrl, 'POST', `/v1/events/${event.body.id as string}/signups`, {
        token: await stack.api.token(`wh-outage-${randomUUID()}`),
        body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
      });
      expect({ status: signup.status, signup: signup.body.status }).toEqual({ status: 202, signup: 'confirmed' });

      // The relay fans the messages out (PostgreSQL only) but cannot start their deliveries: they wait, none lost.
      await expect(outageRelay.runOnce()).rejects.toThrow();
      const waiting = await stack.orm.em
        .fork()
        .getConnection()
        .execute<{ type: string; status: string; started_at: Date | null }[]>(
          `select m.type, d.status, d.started_at from webhook_delivery d join integration_event m on m.id = d.message_id where d.endpoint_id = ? order by m.type`,
          [endpointId],
        );
      expect(waiting).toEqual([
        { type: 'event.published', status: 'pending', started_at: null },
        { type: 'signup.confirmed', status: 'pending', started_at: null },
      ]);
      expect(receiver.attempts).toEqual([]);

      temporalProxy.restore();
      // The relay's next passes (every second in the API) start them once Temporal answers again.
      await eventually('a relay pass with Temporal back', () => outageRelay.runOnce().then(() => true, () => undefined), 30_000, 500);
      await eventually('both messages at the receiver', () => Promise.resolve(receiver.received.length >= 2 ? true : undefined), 30_000, 250);
      expect(receiver.received.map((message) => message.type).sort()).toEqual(['event.published', 'signup.confirmed']);
      expect(receiver.attempts).toHaveLength(2);
    } finally {
      temporalProxy.restore();
      relay.start();
      await relayClient.connection.close();
      await temporalProxy.close();
      receiver.server.close();
    }
  }, 90_000);
});
