/**
 * A lifecycle fan-out with recipients who cannot be reached, against the real Temporal server,
 * worker and PostgreSQL: a follower whose notification webhook is down, and addresses an SMTP
 * server refuses (RCPT 550). The step, the other recipients and the later steps (the signup
 * window's close, the reminder, the thank-you) stay on time; the failed deliveries are retried on
 * their own bounded schedule, then listed by the ops API and counted.
 *
 * Mail goes to an SMTP server of this file's own (smtp-server), which refuses one address per role.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { notificationDeliveriesFailedTotal } from '../../src/observability/metrics.js';
import { workflowIds } from '../../src/temporal/contract.js';
import { closedPortUrl, request } from '../support/http.js';
import { consentToAnnouncements, newUser, signUp, type TestUser } from '../support/signup-steps.js';
import { eventually, startTestStack, type TestStack } from '../support/stack.js';

interface Received {
  to: string[];
  subject: string;
  at: number;
}

const received: Received[] = [];
const refused = new Set<string>();
let smtp: SMTPServer;
let smtpPort: number;
let deadWebhook: string;
let stack: TestStack;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refused.has(address.address.toLowerCase())) {
        callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()),
          subject: /^Subject: (.*)$/im.exec(data)?.[1]?.trim() ?? '',
          at: Date.now(),
        });
        callback();
      });
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  smtpPort = (smtp.server.address() as AddressInfo).port;
  deadWebhook = await closedPortUrl();
  stack = await startTestStack({
    worker: true,
    env: {
      SMTP_HOST: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      NOTIFICATION_WEBHOOK_SECRET: 'fan-out-isolation-webhook-secret-0123456789',
      NOTIFICATION_RETRY_ATTEMPTS: '3',
      NOTIFICATION_RETRY_INITIAL_SECONDS: '1',
      LIFECYCLE_REMINDER_OFFSETS_SECONDS: '5',
    },
  });
});

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const at = (secondsFromNow: number) => new Date(Date.now() + secondsFromNow * 1000);
const mailsTo = (user: TestUser, subject: RegExp) => received.filter((mail) => mail.to.includes(user.email.toLowerCase()) && subject.test(mail.subject));

async function firstMail(user: TestUser, subject: RegExp, timeoutMs: number): Promise<Received> {
  return eventually(`mail "${subject.source}" to ${user.email}`, () => Promise.resolve(mailsTo(user, subject)[0]), timeoutMs, 100);
}

describe('fan-outs isolate recipients who cannot be reached', () => {
  it('keeps the close, the reminder and the thank-you on time, and lists the failed deliveries', async () => {
    const { api, orm, client } = stack;
    const category = `isolation${Date.now()}`;
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const reachable = await newUser(api, { name: 'reachable' });
    const hooked = await newUser(api, { name: 'hooked' });
    const refusedFollower = await newUser(api, { name: 'refused-follower' });
    const participant = await newUser(api, { name: 'participant' });
    const refusedParticipant = await newUser(api, { name: 'refused-participant' });
    refused.add(refusedFollower.email.toLowerCase());
    refused.add(refusedParticipant.email.toLowerCase());
    for (const follower of [reachable, hooked, refusedFollower]) {
      const followed = await request(api.baseUrl, 'POST', '/v1/me/interests', { token: follower.token, body: { kind: 'category', value: category } });
      expect(followed.status).toBe(201);
      await consentToAnnouncements(api, follower);
    }
    await orm.em.getConnection().execute('update user_contact set webhook_url = ? where user_id = ?', [deadWebhook, hooked.sub], 'run');

    const dates = {
      announceAt: at(3),
      signupOpensAt: at(3),
      signupClosesAt: at(14),
      startsAt: at(22),
      endsAt: at(24),
      cancellationDeadline: at(21),
    };
    const created = await request(api.baseUrl, 'POST', '/v1/admin/events', {
      token: organizer.token,
      body: {
        defaultLocale: 'en',
        translations: { en: { title: 'Isolation', description: 'Some recipients cannot be reached' } },
        category,
        market: 'NO',
        timezone: 'Europe/Oslo',
        capacity: 10,
        refundPolicy: { kind: 'none' },
        publish: true,
        ...Object.fromEntries(Object.entries(dates).map(([key, date]) => [key, date.toISOString()])),
      },
    });
    expect(created.status).toBe(201);
    const eventId = created.body.id as string;
    const handle = client.workflow.getHandle(workflowIds.eventLifecycle(eventId));

    // The announcement reaches the followers who can be reached, the hooked one by e-mail too.
    await firstMail(reachable, /^New: /, 20_000);
    await firstMail(hooked, /^New: /, 10_000);
    await signUp(api, participant, eventId);
    await signUp(api, refusedParticipant, eventId);

    // The window closes on time although the announcement failed for two recipients: timed by the
    // step's own completion in the history, not by when a query of this test got its answer.
    const closedAt = await eventually('the close-signups step', async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      const scheduled = events.find((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'closeSignups');
      const completed = scheduled && events.find((event) => String(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? '') === String(scheduled.eventId));
      return completed?.eventTime ? Number(completed.eventTime.seconds) * 1000 + Math.floor((completed.eventTime.nanos ?? 0) / 1e6) : undefined;
    }, 30_000, 200);
    expect(closedAt - dates.signupClosesAt.getTime()).toBeLessThan(6_000);

    const reminder = await firstMail(participant, /^Soon: /, 30_000);
    expect(reminder.at - (dates.startsAt.getTime() - 5_000)).toBeLessThan(6_000);
    const thanks = await firstMail(participant, /^Thank you/, 30_000);
    expect(thanks.at - dates.endsAt.getTime()).toBeLessThan(8_000);

    // Each unreachable recipient and channel, given up on after its 3 tries, listed by ops: the
    // refused participant's confirmation too (sent by a door-confirmations flow, which hands it to a
    // retry of its own as the fan-outs do, where its group once kept retrying it, unlisted).
    const opsToken = await api.token(`ops-${Date.now()}`, ['ops']);
    const failed = await eventually('the failed deliveries', async () => {
      const listed = await request(api.baseUrl, 'GET', `/v1/ops/notifications/failed?eventId=${eventId}`, { token: opsToken });
      expect(listed.status).toBe(200);
      const items = listed.body.items as { kind: string; channel: string; recipientUserId: string; attempts: number; lastError: string | null }[];
      return items.length >= 5 ? items : undefined;
    }, 60_000, 500);
    const summary = failed.map((item) => `${item.kind}/${item.channel}/${item.recipientUserId}`).sort();
    expect(summary).toEqual(
      [
        `announcement/email/${refusedFollower.sub}`,
        `announcement/webhook/${hooked.sub}`,
        `confirmation/email/${refusedParticipant.sub}`,
        `reminder/email/${refusedParticipant.sub}`,
        `thank-you/email/${refusedParticipant.sub}`,
      ].sort(),
    );
    for (const item of failed) {
      // The fan-out's own try and the retry workflow's three.
      expect(item.attempts).toBe(4);
      expect(item.lastError).toBeTruthy();
    }
    const counted = (await notificationDeliveriesFailedTotal.get()).values;
    expect(counted.find((value) => value.labels.kind === 'announcement' && value.labels.channel === 'webhook')?.value).toBeGreaterThanOrEqual(1);

    // What could be sent went out exactly once.
    expect(mailsTo(reachable, /^New: /)).toHaveLength(1);
    expect(mailsTo(hooked, /^New: /)).toHaveLength(1);
    expect(mailsTo(participant, /^Soon: /)).toHaveLength(1);
    expect(mailsTo(refusedFollower, /./)).toHaveLength(0);
  });
});
