import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createNotificationActivities } from '../../activities/notifications.js';
import { tableContactProvider } from '../../src/contacts/provider.js';
import { webhookChannel } from '../../src/notifications/channels.js';
import { createMailer } from '../../src/notifications/mailer.js';
import { NotificationLog } from '../../src/notifications/notification-log.entity.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { request } from '../support/http.js';
import { insertSignupRow } from '../support/signup-rows.js';
import { newUser, type TestUser } from '../support/signup-steps.js';
import { insertEvent, startTestStack, testConfig, type TestStack } from '../support/stack.js';

// GET/PUT /v1/me/notification-preferences over the real API and database, and the notification
// activities reading what was saved: opt-outs, e-mail off, marketing consent for announcements.
const secret = 'notification-preferences-webhook-secret-0123';
let stack: TestStack;
let receiver: { server: Server; url: string; deliveries: string[] };
const mailer = createMailer(testConfig().smtp);

beforeAll(async () => {
  stack = await startTestStack({ env: { NOTIFICATION_WEBHOOK_SECRET: secret } });
  const deliveries: string[] = [];
  const server = createServer((req, res) => {
    deliveries.push(String(req.headers['x-eventbook-notification']));
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  receiver = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`, deliveries };
});

afterAll(async () => {
  mailer.close();
  receiver.server.close();
  await stack.stop();
});

const path = '/v1/me/notification-preferences';
type Preferences = {
  channels: { email: { enabled: boolean; address: string | null }; webhook: { url: string | null } };
  optedOut: string[];
  marketing: { consent: boolean; givenAt: string | null; withdrawnAt: string | null };
  updatedAt: string | null;
};

async function put(user: TestUser, change: { email?: boolean; webhook?: string | null; optedOut?: string[]; consent?: boolean }) {
  return request(stack.api.baseUrl, 'PUT', path, {
    token: user.token,
    body: {
      channels: { email: { enabled: change.email ?? true }, webhook: { url: change.webhook ?? null } },
      optedOut: change.optedOut ?? [],
      marketing: { consent: change.consent ?? false },
    },
  });
}

describe('GET and PUT /v1/me/notification-preferences', () => {
  it('answers the defaults, saves a change, and times the marketing consent given and withdrawn', async () => {
    const user = await newUser(stack.api, { name: 'prefs' });
    const defaults = await request(stack.api.baseUrl, 'GET', path, { token: user.token });
    expect(defaults.status).toBe(200);
    expect(defaults.headers.get('cache-control')).toBe('no-store');
    expect(defaults.body).toEqual({
      channels: { email: { enabled: true, address: user.email }, webhook: { url: null } },
      optedOut: [],
      marketing: { consent: false, givenAt: null, withdrawnAt: null },
      updatedAt: null,
    });

    const given = await put(user, { webhook: receiver.url, optedOut: ['reminder', 'reminder', 'thank-you'], consent: true });
    expect(given.status).toBe(200);
    const saved = given.body as unknown as Preferences;
    expect(saved).toMatchObject({
      channels: { email: { enabled: true, address: user.email }, webhook: { url: receiver.url } },
      optedOut: ['reminder', 'thank-you'],
      marketing: { consent: true, withdrawnAt: null },
    });
    expect(saved.marketing.givenAt).toEqual(expect.any(String));
    expect((await request(stack.api.baseUrl, 'GET', path, { token: user.token })).body).toEqual(saved);

    // Saving the same again keeps when the consent was given.
    const same = (await put(user, { webhook: receiver.url, optedOut: ['reminder', 'thank-you'], consent: true })).body as unknown as Preferences;
    expect(same.marketing).toEqual(saved.marketing);

    const withdrawn = (await put(user, { consent: false })).body as unknown as Preferences;
    expect(withdrawn.marketing).toEqual({ consent: false, givenAt: saved.marketing.givenAt, withdrawnAt: expect.any(String) });
    expect(withdrawn).toMatchObject({ channels: { webhook: { url: null } }, optedOut: [] });

    const regiven = (await put(user, { consent: true })).body as unknown as Preferences;
    expect(regiven.marketing.withdrawnAt).toBeNull();
    expect(Date.parse(regiven.marketing.givenAt ?? '')).toBeGreaterThanOrEqual(Date.parse(withdrawn.marketing.withdrawnAt ?? ''));

    // In the export too.
    const exported = await request(stack.api.baseUrl, 'GET', '/v1/me/data', { token: user.token });
    expect(exported.body.contact).toMatchObject({
      emailMarketingConsent: true,
      emailEnabled: true,
      optedOutKinds: [],
      marketingConsentGivenAt: regiven.marketing.givenAt,
      marketingConsentWithdrawnAt: null,
    });
  });

  it('refuses what the rules do not allow, naming the field, and saves nothing then', async () => {
    const user = await newUser(stack.api, { name: 'prefs-refused' });
    const cases: [Parameters<typeof put>[1], number, string][] = [
      [{ optedOut: ['reminder', 'confirmation'] }, 422, 'optedOut.1'],
      [{ optedOut: ['cancellation-receipt'] }, 422, 'optedOut.0'],
      [{ email: false }, 422, 'channels.email.enabled'],
      [{ webhook: 'ftp://push.example.com/x' }, 400, 'channels.webhook.url'],
      [{ webhook: 'not a url' }, 400, 'channels.webhook.url'],
      [{ optedOut: ['sometimes'] }, 400, 'optedOut.0'],
    ];
    for (const [change, status, field] of cases) {
      const answer = await put(user, change);
      expect([change, answer.status, answer.body.errors]).toEqual([change, status, [expect.objectContaining({ in: 'body', field })]]);
    }
    expect((await request(stack.api.baseUrl, 'GET', path, { token: user.token })).body.updatedAt).toBeNull();
    expect((await request(stack.api.baseUrl, 'PUT', path, { body: {} })).status).toBe(401);
  });
});

describe('the notification activities follow the saved preferences', () => {
  let activities: ReturnType<typeof createNotificationActivities>;
  beforeAll(() => {
    activities = createNotificationActivities({
      orm: stack.orm,
      mailer,
      webhook: webhookChannel({ secret }),
      contacts: tableContactProvider(() => stack.orm.em.fork()),
      links: { publicBaseUrl: 'http://localhost', consentTokenSecret: 'x'.repeat(32), consentSeconds: 60 },
    });
  });

  /** A confirmed signup of the user (straight in the database), so signup messages have someone to go to. */
  async function signupOf(user: TestUser): Promise<string> {
    const signupId = await insertSignupRow(stack.orm, (await insertEvent(stack.orm)).id, { status: 'confirmed' });
    await stack.orm.em.fork().nativeUpdate(Signup, { id: signupId }, { userId: user.sub });
    return signupId;
  }
  const logged = async (key: string) => (await stack.orm.em.fork().find(NotificationLog, { key })).map((row) => row.channel).sort();

  it('keeps a turned-off reminder back, while confirmations and refunds always go', async () => {
    const user = await newUser(stack.api, { name: 'prefs-reminder' });
    expect((await put(user, { optedOut: ['reminder', 'thank-you'] })).status).toBe(200);
    const signupId = await signupOf(user);
    expect(await activities.sendSignupNotification({ signupId, kind: 'reminder', step: 'reminder:1', details: {} })).toBe('opted-out');
    expect(await activities.sendSignupNotification({ signupId, kind: 'thank-you', step: 'thank-you', details: {} })).toBe('opted-out');
    expect(await activities.sendSignupNotification({ signupId, kind: 'confirmation', step: 'confirmation', details: {} })).toBe('sent');
    expect(await activities.sendSignupNotification({ signupId, kind: 'payment-refunded', step: 'refund', details: { refundMinor: 100 } })).toBe('sent');
    expect(await logged(`reminder:1:${signupId}`)).toEqual([]);
    expect(await logged(`confirmation:${signupId}`)).toEqual(['email']);
  });

  it('with e-mail off, sends to the webhook only', async () => {
    const user = await newUser(stack.api, { name: 'prefs-webhook' });
    expect((await put(user, { email: false, webhook: receiver.url })).status).toBe(200);
    const signupId = await signupOf(user);
    expect(await activities.sendSignupNotification({ signupId, kind: 'confirmation', step: 'confirmation', details: {} })).toBe('sent');
    expect(await logged(`confirmation:${signupId}`)).toEqual(['webhook']);
    expect(receiver.deliveries).toContain(`confirmation:${signupId}`);
  });

  it('sends announcements only to those who gave marketing consent, and stops when it is withdrawn', async () => {
    const event = await insertEvent(stack.orm, { title: 'Robot camp' });
    const silent = await newUser(stack.api, { name: 'prefs-no-consent' });
    const consenting = await newUser(stack.api, { name: 'prefs-consent' });
    for (const user of [silent, consenting]) {
      expect((await request(stack.api.baseUrl, 'POST', '/v1/me/interests', { token: user.token, body: { kind: 'market', value: 'NO' } })).status).toBe(201);
    }
    expect((await put(consenting, { consent: true })).status).toBe(200);
    const announce = (user: TestUser, step: string) => activities.sendUserNotification({ userId: user.sub, eventId: event.id, kind: 'announcement', step });
    expect(await announce(silent, 'announcement')).toBe('no-marketing-consent');
    expect(await announce(consenting, 'announcement')).toBe('sent');
    expect(await logged(`announcement:${event.id}:${silent.sub}`)).toEqual([]);

    expect((await put(consenting, { consent: false })).status).toBe(200);
    expect(await announce(consenting, 'announcement-again')).toBe('no-marketing-consent');
  });
});
