import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { createNotificationActivities } from '../../activities/notifications.js';
import type { Contact } from '../../src/contacts/provider.js';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { emailChannel, webhookChannel, webhookSignature, type WebhookPayload } from '../../src/notifications/channels.js';
import { createMailer } from '../../src/notifications/mailer.js';
import { NotificationLog } from '../../src/notifications/notification-log.entity.js';
import { NotificationInFlightError, sendNotificationOnce, type Delivery, type NotificationRequest } from '../../src/notifications/send.js';
import { mailTo } from '../support/mailbox.js';
import { insertSignupRow } from '../support/signup-rows.js';
import { eventually, insertEvent, openTestOrm, testConfig } from '../support/stack.js';

let orm: MikroORM;
const mailer = createMailer(testConfig().smtp);
const byMail = (to: string, through = mailer): Delivery => ({ channel: emailChannel(through), to });

beforeAll(async () => {
  orm = await openTestOrm();
});

afterAll(async () => {
  mailer.close();
  await orm.close(true);
});

function reminderFor(version: number): NotificationRequest {
  const eventId = randomUUID();
  return {
    key: `reminder:${eventId}:user-1:v${version}`,
    kind: 'reminder',
    eventId,
    recipient: { userId: 'user-1', locale: 'en' },
    context: { timezone: 'Europe/Oslo', event: { title: 'Chess camp', startsAt: '2027-07-01T08:00:00Z' } },
  };
}

describe('notifications are sent once per key', () => {
  it('sends once however often the same key is asked for, and logs it', async () => {
    const email = `once-${randomUUID()}@example.test`;
    const request = reminderFor(1);

    const outcomes = [];
    for (let attempt = 0; attempt < 3; attempt++) outcomes.push(await sendNotificationOnce(orm.em.fork(), byMail(email), request));

    expect(outcomes).toEqual(['sent', 'already-sent', 'already-sent']);
    // A second key to the same address as the marker: sent after every call above returned, so a
    // duplicate of the first, were one sent, would be in the mailbox by the time the marker is.
    const marker = reminderFor(2);
    expect(await sendNotificationOnce(orm.em.fork(), byMail(email), marker)).toBe('sent');
    const mails = await eventually('the mail and the marker', async () => {
      const received = await mailTo(email);
      return received.length >= 2 ? received : undefined;
    });
    expect(mails.map((mail) => mail.headers['x-eventbook-notification']).sort()).toEqual([request.key, marker.key].sort());
    const row = await orm.em.fork().findOneOrFail(NotificationLog, { key: request.key, channel: 'email' });
    expect(row).toMatchObject({ state: 'sent', attempts: 1, kind: 'reminder', recipientUserId: 'user-1' });
    expect(row.messageId).toEqual(expect.any(String));
  });

  it('lets one of two senders of a key at once call the channel: the other is told to retry; a stale claim is taken over', async () => {
    // A channel that holds its first call until released, so the second sender comes while it sends.
    let calls = 0;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    const held: Delivery = {
      to: 'held@example.test',
      channel: {
        name: 'email',
        async send() {
          calls += 1;
          await released;
          return { messageId: `held-${calls}` };
        },
      },
    };
    const request = reminderFor(1);
    const first = sendNotificationOnce(orm.em.fork(), held, request);
    await eventually('the first sender at its channel', () => Promise.resolve(calls === 1 ? true : undefined));
    await expect(sendNotificationOnce(orm.em.fork(), held, request)).rejects.toBeInstanceOf(NotificationInFlightError);
    expect(calls).toBe(1);
    release();
    expect(await first).toBe('sent');
    expect(await sendNotificationOnce(orm.em.fork(), held, request)).toBe('already-sent');
    expect(calls).toBe(1);

    // A sender that died mid-send left its claim: once stale, the next sender takes it over.
    const orphan = reminderFor(2);
    await orm.em.getConnection().execute(
      `insert into notification_log (key, kind, channel, event_id, recipient_user_id, state, attempts, created_at, claimed_at)
       values (?, 'reminder', 'email', ?, 'user-1', 'sending', 1, now(), now() - interval '1 minute')`,
      [orphan.key, orphan.eventId],
    );
    expect(await sendNotificationOnce(orm.em.fork(), held, orphan)).toBe('sent');
    expect(calls).toBe(2);
    const row = await orm.em.fork().findOneOrFail(NotificationLog, { key: orphan.key, channel: 'email' });
    expect(row).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('sends again for a new schedule version', async () => {
    const email = `versions-${randomUUID()}@example.test`;
    const first = reminderFor(1);
    await sendNotificationOnce(orm.em.fork(), byMail(email), first);
    await sendNotificationOnce(orm.em.fork(), byMail(email), { ...first, key: first.key.replace(':v1', ':v2') });
    await eventually('two mails', async () => ((await mailTo(email)).length === 2 ? true : undefined));
  });

  it('retries a send whose SMTP call failed, under the same key', async () => {
    const email = `retry-${randomUUID()}@example.test`;
    const request = reminderFor(1);
    const broken = createMailer({ ...testConfig().smtp, port: 1 }); // nothing listens there
    await expect(sendNotificationOnce(orm.em.fork(), byMail(email, broken), request)).rejects.toThrow();
    broken.close();

    expect(await sendNotificationOnce(orm.em.fork(), byMail(email), request)).toBe('sent');
    const row = await orm.em.fork().findOneOrFail(NotificationLog, { key: request.key, channel: 'email' });
    expect(row).toMatchObject({ state: 'sent', attempts: 2 });
    await eventually('the mail', async () => ((await mailTo(email)).length === 1 ? true : undefined));
  });
});

/** A webhook receiver on an ephemeral port: records every delivery, answers what `answers` says (200 when empty). */
interface Receiver {
  url: string;
  deliveries: { headers: Record<string, string | string[] | undefined>; body: string }[];
  /** Statuses for the next requests, in order. */
  answers: number[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const deliveries: Receiver['deliveries'] = [];
  const answers: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answers.shift() ?? 200;
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    deliveries,
    answers,
    url: `http://127.0.0.1:${port}/hooks/eventbook?user=1`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

describe('the webhook channel', () => {
  const secret = 'test-webhook-secret';
  const webhook = webhookChannel({ secret, timeoutMs: 2_000 });
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it('delivers a signed notification exactly once however often it is asked for', async () => {
    receiver.deliveries.length = 0;
    const request = reminderFor(1);
    const outcomes = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      outcomes.push(await sendNotificationOnce(orm.em.fork(), { channel: webhook, to: receiver.url }, request));
    }

    expect(outcomes).toEqual(['sent', 'already-sent', 'already-sent']);
    expect(receiver.deliveries).toHaveLength(1);
    const [delivery] = receiver.deliveries;
    expect(delivery!.headers['x-eventbook-signature']).toBe(webhookSignature(delivery!.body, secret));
    expect(delivery!.headers['x-eventbook-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(delivery!.headers['x-eventbook-notification']).toBe(request.key);
    expect(delivery!.headers['content-type']).toBe('application/json');
    const payload = JSON.parse(delivery!.body) as WebhookPayload;
    expect(payload).toMatchObject({ notificationKey: request.key, kind: 'reminder', locale: 'en' });
    expect(payload.subject).toContain('Chess camp');
    expect(payload.text).toContain('Chess camp');

    const row = await orm.em.fork().findOneOrFail(NotificationLog, { key: request.key, channel: 'webhook' });
    expect(row).toMatchObject({ state: 'sent', attempts: 1, messageId: delivery!.headers['x-eventbook-delivery'] });
  });

  it('sends the same key once per channel: e-mail and webhook each get it', async () => {
    receiver.deliveries.length = 0;
    const email = `both-${randomUUID()}@example.test`;
    const request = reminderFor(1);
    expect(await sendNotificationOnce(orm.em.fork(), byMail(email), request)).toBe('sent');
    expect(await sendNotificationOnce(orm.em.fork(), { channel: webhook, to: receiver.url }, request)).toBe('sent');
    expect(await sendNotificationOnce(orm.em.fork(), byMail(email), request)).toBe('already-sent');
    expect(await sendNotificationOnce(orm.em.fork(), { channel: webhook, to: receiver.url }, request)).toBe('already-sent');

    expect(receiver.deliveries).toHaveLength(1);
    await eventually('the mail', async () => ((await mailTo(email)).length === 1 ? true : undefined));
    const rows = await orm.em.fork().find(NotificationLog, { key: request.key }, { orderBy: { channel: 'asc' } });
    expect(rows.map((row) => [row.channel, row.state])).toEqual([['email', 'sent'], ['webhook', 'sent']]);
  });

  it('throws on a failing webhook, and the retry then delivers it once', async () => {
    receiver.deliveries.length = 0;
    receiver.answers.push(503);
    const request = reminderFor(1);
    const to = { channel: webhook, to: receiver.url };
    await expect(sendNotificationOnce(orm.em.fork(), to, request)).rejects.toThrow(/answered 503/);
    expect(await sendNotificationOnce(orm.em.fork(), to, request)).toBe('sent');
    expect(await sendNotificationOnce(orm.em.fork(), to, request)).toBe('already-sent');

    // The failed attempt reached the receiver too (it answered 503); one delivery was accepted.
    expect(receiver.deliveries).toHaveLength(2);
    const row = await orm.em.fork().findOneOrFail(NotificationLog, { key: request.key, channel: 'webhook' });
    expect(row).toMatchObject({ state: 'sent', attempts: 2 });
  });

  it('throws when the webhook cannot be reached or is too slow', async () => {
    const unreachable = { channel: webhookChannel({ secret, timeoutMs: 500 }), to: 'http://127.0.0.1:1/hook' };
    await expect(sendNotificationOnce(orm.em.fork(), unreachable, reminderFor(1))).rejects.toThrow(/not reached/);

    const silent = createServer(() => undefined); // takes the request and never answers
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const { port } = silent.address() as AddressInfo;
      const slow = { channel: webhookChannel({ secret, timeoutMs: 300 }), to: `http://127.0.0.1:${port}/hook` };
      const started = Date.now();
      await expect(sendNotificationOnce(orm.em.fork(), slow, reminderFor(1))).rejects.toThrow(/not reached/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  describe('signup notifications (the activity)', () => {
    const contacts = new Map<string, Contact>();
    let activities: ReturnType<typeof createNotificationActivities>;
    const notify = (input: Parameters<typeof activities.sendSignupNotification>[0]) => activities.sendSignupNotification(input);

    // The ORM opens in the file's beforeAll, so the activities are built after it.
    beforeAll(() => {
      activities = createNotificationActivities({
        orm,
        mailer,
        webhook,
        contacts: { contactOf: (userId) => Promise.resolve(contacts.get(userId)) },
        links: { publicBaseUrl: 'http://localhost', consentTokenSecret: 'x'.repeat(32), consentSeconds: 60 },
      });
    });

    async function signupFor(contact: Omit<Contact, 'userId'>): Promise<string> {
      const signupId = await insertSignupRow(orm, (await insertEvent(orm)).id, { status: 'confirmed' });
      const { userId } = await orm.em.fork().findOneOrFail(Signup, signupId);
      contacts.set(userId, { userId, ...contact });
      return signupId;
    }
    const base = { locale: 'en', guardianEmail: null, emailMarketingConsent: false };

    it('sends by e-mail and to the webhook when the contact has both, each once', async () => {
      receiver.deliveries.length = 0;
      const email = `activity-${randomUUID()}@example.test`;
      const signupId = await signupFor({ ...base, email, webhookUrl: receiver.url });
      const input = { signupId, kind: 'confirmation' as const, step: 'confirmation', details: {} };
      expect(await notify(input)).toBe('sent');
      expect(await notify(input)).toBe('already-sent');
      expect(receiver.deliveries).toHaveLength(1);
      await eventually('the mail', async () => ((await mailTo(email)).length === 1 ? true : undefined));
    });

    it('reaches a user without e-mail through the webhook alone; without either it is no-address', async () => {
      receiver.deliveries.length = 0;
      const signupId = await signupFor({ ...base, email: null, webhookUrl: receiver.url });
      expect(await notify({ signupId, kind: 'confirmation', step: 'confirmation', details: {} })).toBe('sent');
      expect(receiver.deliveries).toHaveLength(1);
      const nowhere = await signupFor({ ...base, email: null, webhookUrl: null });
      // Decided before the signup and its event are loaded: nothing is read from the event table.
      const statements = jest.spyOn(pg.Client.prototype, 'query');
      try {
        expect(await notify({ signupId: nowhere, kind: 'confirmation', step: 'confirmation', details: {} })).toBe('no-address');
        const texts = statements.mock.calls.map(([query]) => String(typeof query === 'string' ? query : (query as { text?: string }).text));
        expect(texts.filter((text) => text.includes('"event"'))).toEqual([]);
      } finally {
        statements.mockRestore();
      }
    });

    it('sends a paid confirmation\'s receipt and confirmation in one call, in order, from one contact read and one signup load', async () => {
      receiver.deliveries.length = 0;
      const email = `together-${randomUUID()}@example.test`;
      const signupId = await signupFor({ ...base, email });
      const { userId } = await orm.em.fork().findOneOrFail(Signup, signupId);
      const reads: string[] = [];
      const counting = createNotificationActivities({
        orm,
        mailer,
        webhook,
        contacts: { contactOf: (id) => (reads.push(id), Promise.resolve(contacts.get(id))) },
        links: { publicBaseUrl: 'http://localhost', consentTokenSecret: 'x'.repeat(32), consentSeconds: 60 },
      });
      const input = {
        signupId,
        messages: [
          { kind: 'payment-receipt' as const, step: 'payment-receipt', details: {} },
          { kind: 'confirmation' as const, step: 'confirmation', details: {} },
        ],
      };
      const statements = jest.spyOn(pg.Client.prototype, 'query');
      try {
        expect(await counting.sendSignupNotifications(input)).toEqual(['sent', 'sent']);
        const texts = statements.mock.calls.map(([query]) => String(typeof query === 'string' ? query : (query as { text?: string }).text));
        expect(texts.filter((text) => /from "signup" as/.test(text))).toHaveLength(1);
      } finally {
        statements.mockRestore();
      }
      expect(reads).toEqual([userId]);
      // A retry (the activity's next attempt) finds both in the log.
      expect(await counting.sendSignupNotifications(input)).toEqual(['already-sent', 'already-sent']);
      const mails = await eventually('both mails', async () => {
        const sent = await mailTo(email);
        return sent.length === 2 ? sent : undefined;
      });
      const logged = await orm.em.getConnection().execute<{ key: string }[]>('select key from notification_log where signup_id = ? order by id', [signupId]);
      expect(logged.map((row) => row.key)).toEqual([`payment-receipt:${signupId}`, `confirmation:${signupId}`]);
      expect(mails).toHaveLength(2);
    });

    it('sends the later messages of one call when an earlier one fails, throws, and the retry sends only the failed one', async () => {
      receiver.deliveries.length = 0;
      const signupId = await signupFor({ ...base, email: null, webhookUrl: receiver.url });
      const messages = [
        { kind: 'payment-receipt' as const, step: 'payment-receipt', details: {} },
        { kind: 'confirmation' as const, step: 'confirmation', details: {} },
      ];
      receiver.answers.push(500);
      await expect(activities.sendSignupNotifications({ signupId, messages })).rejects.toThrow(/payment-receipt/);
      expect(receiver.deliveries).toHaveLength(2);
      expect(await activities.sendSignupNotifications({ signupId, messages })).toEqual(['sent', 'already-sent']);
      expect(receiver.deliveries).toHaveLength(3);
    });

    it('still sends the e-mail when the webhook fails, throws, and the retry sends only the webhook', async () => {
      receiver.deliveries.length = 0;
      receiver.answers.push(500);
      const email = `activity-retry-${randomUUID()}@example.test`;
      const signupId = await signupFor({ ...base, email, webhookUrl: receiver.url });
      const input = { signupId, kind: 'confirmation' as const, step: 'confirmation', details: {} };
      await expect(notify(input)).rejects.toThrow(/webhook/);
      await eventually('the mail', async () => ((await mailTo(email)).length === 1 ? true : undefined));
      expect(await notify(input)).toBe('sent');
      expect(receiver.deliveries).toHaveLength(2); // the refused one and the accepted one
      // A marker mail to the same address, sent after the retry returned: a second confirmation
      // mail, were the retry to send one, would be in the mailbox by the time the marker is.
      const marker = reminderFor(1);
      expect(await sendNotificationOnce(orm.em.fork(), byMail(email), marker)).toBe('sent');
      const mails = await eventually('the marker', async () => {
        const received = await mailTo(email);
        return received.some((mail) => mail.headers['x-eventbook-notification'] === marker.key) ? received : undefined;
      });
      expect(mails.filter((mail) => mail.headers['x-eventbook-notification'] !== marker.key)).toHaveLength(1);
    });

    it('never sends a consent request to the participant\'s webhook', async () => {
      receiver.deliveries.length = 0;
      const signupId = await signupFor({ ...base, email: null, guardianEmail: `guardian-${randomUUID()}@example.test`, webhookUrl: receiver.url });
      expect(await notify({ signupId, kind: 'consent-request', step: 'consent-request', details: {} })).toBe('sent');
      expect(receiver.deliveries).toHaveLength(0);
    });
  });
});
