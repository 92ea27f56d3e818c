/**
 * Outbound webhooks end to end: admin API, PostgreSQL triggers writing the outbox, the relay,
 * Temporal delivery workflows on a real worker, and real local HTTP receivers that verify each
 * signature with the `standardwebhooks` library; one receiver is down (nothing listens on its port).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { mintDevToken } from '../../src/auth/tokens.js';
import { createLogger } from '../../src/logger.js';
import { createWebhookRelay, type WebhookRelay } from '../../src/webhooks/relay.js';
import { freePort } from '../../scripts/lib/ports.js';
import { request } from '../support/http.js';
import { mailTo } from '../support/mailbox.js';
import { eventually, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let relay: WebhookRelay;

interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** A receiver that accepts only correctly signed messages (401 otherwise), as an integrator's would. */
async function startReceiver(): Promise<{ url: string; received: Received[]; rejected: number; setSecret(secret: string): void; server: Server }> {
  let secret = '';
  const state = { received: [] as Received[], rejected: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const message = new Webhook(secret).verify(body, req.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };
        state.received.push({ id: String(req.headers['webhook-id']), type: message.type, data: message.data });
        res.writeHead(204).end();
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
    settings: { retryInitialSeconds: 1, maxAttempts: 3, disableAfterFailures: 2 },
    everyMs: 200,
  });
  relay.start();
});

afterAll(async () => {
  await relay.stop();
  await stack.stop();
});

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

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
      body: {
        defaultLocale: 'en',
        translations: { en: { title: 'Webhook day', description: 'x' } },
        category,
        market: 'NO',
        timezone: 'Europe/Oslo',
        startsAt: inDays(20),
        endsAt: inDays(21),
        cancellationDeadline: inDays(19),
        capacity: 1,
        waitlistEnabled: true,
        publish: true,
      },
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
});
