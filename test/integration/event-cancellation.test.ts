/**
 * Cancelling an event with a few hundred signups (free and paid, confirmed, waitlisted, some already
 * cancelled by their participants) through the admin API, with the worker SIGKILLed in the middle of
 * the lifecycle's fan-out and a new one started on the same task queue: every active signup ends
 * cancelled by the organizer, every payment is refunded in full once, every participant with an
 * address gets exactly one "event cancelled" mail, and nothing else is touched.
 *
 * The worker runs in a child process (test/support/worker-process.ts) so the kill is a real crash:
 * no shutdown grace, no last heartbeat; Temporal notices through the fan-out's heartbeat timeout.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { eventLifecycleQuery, workflowIds } from '../../src/temporal/contract.js';
import { request } from '../support/http.js';
import { mailTo, type ReceivedMail } from '../support/mailbox.js';
import { activitiesRun, deliverWebhook, newUser, paymentIntentOf, postSignup, signupRow, stripeEvent, type TestUser } from '../support/signup-steps.js';
import { connectTestClient, countersAndRows, eventually, openTestOrm, startTestApi, type RunningApi } from '../support/stack.js';
import { spawnWorker, type ChildWorker } from '../support/worker-child.js';
import { requireEnv, testEnvKeys } from '../support/environment.js';

const FREE = 250;
const PAID = 50;
const WAITLISTED = 4;
/** Free participants whose token carries no e-mail address: cancelled, but nobody to write to. */
const WITHOUT_EMAIL = 3;
const PRICE = 15_000;

let orm: MikroORM;
let client: Client;
let api: RunningApi;
let worker: ChildWorker | undefined;
const taskQueue = `test-cancel-${randomUUID()}`;

beforeAll(async () => {
  orm = await openTestOrm();
  client = await connectTestClient();
  worker = await spawnWorker(taskQueue);
  api = await startTestApi({ orm, temporal: client, taskQueue });
});

afterAll(async () => {
  await api?.close();
  // Killed, not stopped: the lifecycle and signup workflows of this file live on (as they would in
  // production), and nothing here needs a graceful end.
  await worker?.kill();
  await client?.connection.close();
  await orm?.close(true);
});

const days = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

/** Runs `act` over the items, at most `limit` at a time. */
async function inBatches<T, R>(items: readonly T[], limit: number, act: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await act(items[index] as T, index);
      }
    }),
  );
  return results;
}

async function createEvent(organizer: TestUser, change: Record<string, unknown> = {}): Promise<string> {
  const created = await request(api.baseUrl, 'POST', '/v1/admin/events', {
    token: organizer.token,
    body: {
      defaultLocale: 'en',
      translations: { en: { title: 'Harbour concert', description: 'Free and paid seats' } },
      category: 'concert',
      market: 'NO',
      timezone: 'Europe/Oslo',
      // Far away: no lifecycle step (announcement aside) falls due while the test runs.
      startsAt: days(60),
      endsAt: days(60.1),
      cancellationDeadline: days(59),
      capacity: FREE + PAID,
      waitlistEnabled: true,
      refundPolicy: { kind: 'full-before-deadline' },
      ticketTypes: [
        { code: 'free', names: { en: 'Free' }, prices: [] },
        { code: 'paid', names: { en: 'Supporter' }, prices: [{ currency: 'NOK', amountMinor: PRICE }] },
      ],
      publish: true,
      ...change,
    },
  });
  if (created.status !== 201) throw new Error(`event not created: ${created.status} ${JSON.stringify(created.body)}`);
  return created.body.id as string;
}

const cancelEvent = (token: string, eventId: string, reason = 'The venue flooded') =>
  request(api.baseUrl, 'POST', `/v1/admin/events/${eventId}/cancel`, { token, body: { reason } });

/** A participant without an e-mail claim (the contact gets no address). */
async function userWithoutEmail(): Promise<TestUser> {
  const sub = `noemail-${randomUUID().slice(0, 8)}`;
  return { sub, email: `${sub}@nowhere.invalid`, token: await api.token(sub) };
}

/**
 * POSTs a signup that must be accepted. No retry: every seat move locks the event row before the
 * ticket type row (src/signups/seats.ts), so a signup next to confirmations cannot deadlock, and a
 * 500 here is a bug to see.
 */
async function signUpOnce(user: TestUser, eventId: string, body: Record<string, unknown>): Promise<string> {
  const response = await postSignup(api, user, eventId, body);
  if (response.status !== 202) throw new Error(`signup refused: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

async function paidSignup(user: TestUser, eventId: string): Promise<string> {
  const signupId = await signUpOnce(user, eventId, { ticketType: 'paid' });
  const intent = await paymentIntentOf(orm, signupId);
  const delivered = await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intent));
  if (delivered.status !== 200) throw new Error(`webhook refused: ${delivered.status} ${JSON.stringify(delivered.body)}`);
  return signupId;
}

interface Row {
  id: string;
  user_id: string;
  status: string;
  cancelled_by: string | null;
  cancelled_at: Date | null;
  amount_minor: number;
  refunded_minor: number;
}

const rowsOf = (eventId: string) =>
  orm.em
    .fork()
    .getConnection()
    .execute<Row[]>(
      `select id, user_id, status, cancelled_by, cancelled_at, amount_minor, refunded_minor from signup where event_id = ? order by id`,
      [eventId],
    );

async function count(sql: string, params: unknown[]): Promise<number> {
  const [row] = await orm.em.fork().getConnection().execute<{ n: string }[]>(sql, params);
  return Number(row?.n ?? 0);
}

const notificationHeader = (mail: ReceivedMail) =>
  Object.entries(mail.headers).find(([name]) => name.toLowerCase() === 'x-eventbook-notification')?.[1];

/** Every mail the sink holds, fetched once (mailTo filters by one address). */
async function allMail(): Promise<ReceivedMail[]> {
  const response = await fetch(`${requireEnv(testEnvKeys.mailApi)}/email`);
  return (await response.json()) as ReceivedMail[];
}

describe('cancelling an event', () => {
  let organizer: TestUser;
  let eventId: string;
  const withEmail = new Map<string, TestUser>(); // by signup id, every signup made
  const users = new Map<string, TestUser>(); // by signup id
  let alreadyCancelled: Row[] = [];

  it('gets ~300 participants in: free and paid confirmed, some waitlisted, two cancelled by themselves', async () => {
    organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    eventId = await createEvent(organizer);

    // Two participants sign up and cancel themselves (one free, one paid and refunded by the policy).
    const quitters = await Promise.all([newUser(api, { name: 'quit-free' }), newUser(api, { name: 'quit-paid' })]);
    const quitIds = [await signUpOnce(quitters[0], eventId, { ticketType: 'free' }), await paidSignup(quitters[1], eventId)];
    quitIds.forEach((id, index) => users.set(id, quitters[index]!));
    await eventually('the quitters to be confirmed', async () =>
      (await count(`select count(*) as n from signup where id in (?, ?) and status = 'confirmed'`, quitIds)) === 2 ? true : undefined,
    );
    for (const [index, id] of quitIds.entries()) {
      const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${id}/cancel`, { token: quitters[index]!.token, body: { reason: 'ill' } });
      expect(cancelled.status).toBe(200);
    }
    await eventually('the quitters receipts (and the refund)', async () =>
      (await count(`select count(*) as n from notification_log where signup_id in (?, ?) and kind = 'cancellation-receipt' and state = 'sent'`, quitIds)) === 2 &&
      (await count(`select count(*) as n from signup where id = ? and refunded_minor = ?`, [quitIds[1], PRICE])) === 1
        ? true
        : undefined,
    );

    // 250 free (three of them without an e-mail address) and 50 paid fill the 300 seats; then the
    // next ones wait. Placed while no worker runs, and only then confirmed by a new worker, so the
    // placing is quick and the cancellation meets every one of them confirmed.
    await worker?.kill();
    worker = undefined;
    const started = Date.now();
    const freeUsers = await Promise.all(
      Array.from({ length: FREE }, (_, index) => (index < WITHOUT_EMAIL ? userWithoutEmail() : newUser(api, { name: `free${index}` }))),
    );
    const paidUsers = await Promise.all(Array.from({ length: PAID }, (_, index) => newUser(api, { name: `paid${index}` })));
    const placed = await inBatches([...freeUsers, ...paidUsers], 20, async (user, index) => {
      const ticketType = index < FREE ? 'free' : 'paid';
      return [await signUpOnce(user, eventId, { ticketType }), user, ticketType] as const;
    });
    for (const [id, user] of placed) users.set(id, user);
    for (let index = 0; index < WAITLISTED; index += 1) {
      const user = await newUser(api, { name: `wait${index}` });
      const answer = await postSignup(api, user, eventId, { ticketType: 'free' });
      expect([answer.status, answer.body.status]).toEqual([202, 'waitlisted']);
      users.set(answer.body.id as string, user);
    }
    process.stderr.write(`event-cancellation: placed ${placed.length + WAITLISTED} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    worker = await spawnWorker(taskQueue);
    // Paid ones: Stripe says paid once the workflow made the intent.
    await inBatches(
      placed.filter(([, , ticketType]) => ticketType === 'paid'),
      20,
      async ([signupId]) => {
        const intent = await eventually(`the payment intent of ${signupId}`, async () => (await signupRow(orm, signupId)).paymentIntentId ?? undefined, 90_000, 250);
        const delivered = await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intent));
        if (delivered.status !== 200) throw new Error(`webhook refused: ${delivered.status} ${JSON.stringify(delivered.body)}`);
      },
    );
    for (const [id, user] of users) if (!user.sub.startsWith('noemail-')) withEmail.set(id, user);

    process.stderr.write(`event-cancellation: webhooks delivered after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    // Settled: every seat confirmed (paid ones by their webhook) and the signup mails out, so the
    // worker is idle when the event is cancelled.
    await eventually(
      'every signup settled',
      async () => {
        const confirmed = await count(`select count(*) as n from signup where event_id = ? and status = 'confirmed'`, [eventId]);
        const sending = await count(`select count(*) as n from notification_log where event_id = ? and state <> 'sent'`, [eventId]);
        const confirmations = await count(
          `select count(*) as n from notification_log l join signup s on s.id = l.signup_id
            where s.event_id = ? and s.status = 'confirmed' and l.kind = 'confirmation' and l.state = 'sent'`,
          [eventId],
        );
        return confirmed === FREE + PAID && sending === 0 && confirmations === FREE + PAID - WITHOUT_EMAIL ? true : undefined;
      },
      60_000,
    );
    const rows = await rowsOf(eventId);
    const byStatus = (status: string) => rows.filter((row) => row.status === status).length;
    expect([byStatus('confirmed'), byStatus('waitlisted'), byStatus('cancelled')]).toEqual([FREE + PAID, WAITLISTED, 2]);
    alreadyCancelled = rows.filter((row) => row.status === 'cancelled');
    expect(alreadyCancelled.map((row) => row.cancelled_by)).toEqual(['participant', 'participant']);
    expect(await countersAndRows(orm, eventId)).toMatchObject({ held: 0, confirmed: FREE + PAID, confirmedRows: FREE + PAID });
    process.stderr.write(
      `event-cancellation: ${rows.length} signups in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }, 120_000);

  it('cancels and refunds each exactly once and notifies each once per key, though the worker is killed mid-way', async () => {
    const active = (await rowsOf(eventId)).filter((row) => row.status !== 'cancelled');
    expect(active).toHaveLength(FREE + PAID + WAITLISTED);
    const cancelledByEvent = async () =>
      count(`select count(*) as n from signup where event_id = ? and status = 'cancelled' and cancelled_by = 'organizer'`, [eventId]);

    const started = Date.now();
    const answer = await cancelEvent(organizer.token, eventId);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'cancelled' });

    // Kill the worker once the fan-out is well under way, and start another on the same queue.
    const atKill = await eventually('the fan-out to make progress', async () => {
      const done = await cancelledByEvent();
      return done >= active.length / 3 ? done : undefined;
    }, 60_000, 20);
    await worker?.kill();
    const killedAt = Date.now();
    const doneWhenKilled = await cancelledByEvent();
    expect(doneWhenKilled).toBeLessThan(active.length);
    worker = await spawnWorker(taskQueue);

    const resumedAt = await eventually('the fan-out to resume', async () =>
      (await cancelledByEvent()) > doneWhenKilled ? Date.now() : undefined, 60_000, 50);
    const lifecycle = client.workflow.getHandle(workflowIds.eventLifecycle(eventId));
    expect(await lifecycle.result()).toEqual({ eventId, phase: 'cancelled' });
    const finishedFanOut = Date.now();

    // Refund and mail activities of the signup workflows may still be finishing (one caught in
    // the kill is retried after its start-to-close timeout).
    const expectedMails = active.filter((row) => withEmail.has(row.id)).length;
    const paid = active.filter((row) => row.amount_minor > 0);
    await eventually(
      'every refund and notice',
      async () => {
        const sent = await count(`select count(*) as n from notification_log where event_id = ? and kind = 'event-cancelled' and state = 'sent'`, [eventId]);
        const refunded = await count(`select count(*) as n from signup where event_id = ? and amount_minor > 0 and refunded_minor = amount_minor`, [eventId]);
        return sent === expectedMails && refunded === PAID + 1 ? true : undefined;
      },
      75_000,
      250,
    );
    const ended = Date.now();
    process.stderr.write(
      `event-cancellation: ${active.length} cancelled; killed at ${atKill}/${doneWhenKilled} done, ${((killedAt - started) / 1000).toFixed(1)} s in; ` +
        `resumed ${((resumedAt - killedAt) / 1000).toFixed(1)} s after the kill; fan-out over after ${((finishedFanOut - started) / 1000).toFixed(1)} s; ` +
        `refunds and mails done after ${((ended - started) / 1000).toFixed(1)} s\n`,
    );

    // Rows: every active signup cancelled by the organizer, the quitters untouched.
    const after = await rowsOf(eventId);
    const afterById = new Map(after.map((row) => [row.id, row]));
    for (const row of active) {
      expect(afterById.get(row.id)).toMatchObject({ status: 'cancelled', cancelled_by: 'organizer' });
    }
    for (const row of alreadyCancelled) expect(afterById.get(row.id)).toEqual(row);
    // Every payment back in full (the organizer cancelled), and only once per signup.
    for (const row of paid) expect(afterById.get(row.id)).toMatchObject({ amount_minor: PRICE, refunded_minor: PRICE });
    expect(after.filter((row) => row.amount_minor === 0).every((row) => row.refunded_minor === 0)).toBe(true);
    const refundsScheduled = await inBatches(paid, 10, async (row) =>
      (await activitiesRun(client, row.id)).filter((name) => name === 'refundSignup').length,
    );
    expect(refundsScheduled).toEqual(paid.map(() => 1));

    // Seats: counters equal rows, and both are zero (the event's and each ticket type's).
    expect(await countersAndRows(orm, eventId)).toMatchObject({ held: 0, confirmed: 0, heldRows: 0, confirmedRows: 0 });
    const ticketCounters = await orm.em
      .fork()
      .getConnection()
      .execute<{ held_count: number; confirmed_count: number }[]>(`select held_count, confirmed_count from ticket_type where event_id = ?`, [eventId]);
    expect(ticketCounters).toEqual([
      { held_count: 0, confirmed_count: 0 },
      { held_count: 0, confirmed_count: 0 },
    ]);

    // The notification log: one event-cancelled entry per cancelled signup with an address, no key twice.
    const log = await orm.em
      .fork()
      .getConnection()
      .execute<{ key: string; kind: string; channel: string; signup_id: string; state: string; attempts: number }[]>(
        `select key, kind, channel, signup_id, state, attempts from notification_log where event_id = ?`,
        [eventId],
      );
    const cancelNotices = log.filter((entry) => entry.kind === 'event-cancelled');
    expect(cancelNotices.map((entry) => entry.signup_id).sort()).toEqual(active.filter((row) => withEmail.has(row.id)).map((row) => row.id).sort());
    expect(cancelNotices.every((entry) => entry.state === 'sent' && entry.channel === 'email')).toBe(true);
    const keys = log.map((entry) => `${entry.key} ${entry.channel}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The quitters got their own receipt once, and nothing about the event's cancellation.
    expect(log.filter((entry) => entry.kind === 'cancellation-receipt').map((entry) => entry.signup_id).sort()).toEqual(
      alreadyCancelled.map((row) => row.id).sort(),
    );

    // The mail sink: one "Cancelled:" mail per participant, the event's notice (or, for the
    // quitters, their own receipt) and no other. The one exception is the window the notification
    // log documents (src/notifications/send.ts): the worker killed after SMTP took a mail and before
    // its row said sent. That mail goes again under the same key (X-Eventbook-Notification, for the
    // receiver to drop), so it can only be one whose row a second attempt claimed.
    const claimedTwice = new Set(cancelNotices.filter((entry) => entry.attempts > 1).map((entry) => entry.signup_id));
    const mails = await allMail();
    const cancelledMailsTo = (user: TestUser) =>
      mails.filter((mail) => mail.to.some((to) => to.address.toLowerCase() === user.email.toLowerCase()) && mail.subject.startsWith('Cancelled:'));
    for (const row of active) {
      const user = users.get(row.id)!;
      const received = cancelledMailsTo(user);
      if (!withEmail.has(row.id)) continue;
      const expected = received.length === 2 && claimedTwice.has(row.id) ? 2 : 1;
      expect({ user: user.sub, count: received.length }).toEqual({ user: user.sub, count: expected });
      expect(received[0]?.text).toContain('We are sorry');
      for (const mail of received) expect(notificationHeader(mail)).toBe(`cancellation-receipt:${row.id}`);
      if (row.amount_minor > 0) expect(received[0]?.text).toMatch(/We refund/);
    }
    for (const row of alreadyCancelled) {
      const received = cancelledMailsTo(users.get(row.id)!);
      expect(received).toHaveLength(1);
      expect(received[0]?.text).not.toContain('We are sorry');
    }

    // The lifecycle: cancelled, and its history short (the fan-out is one activity, not a command per signup).
    expect(await lifecycle.query(eventLifecycleQuery)).toMatchObject({ phase: 'cancelled' });
    const history = await lifecycle.fetchHistory();
    expect((history.events ?? []).length).toBeLessThan(200);
  }, 150_000);

  it('answers 200 when cancelled again, and sends nothing more', async () => {
    const runningSignupFlows = async () => {
      const running: string[] = [];
      for (const row of await rowsOf(eventId)) {
        const description = await client.workflow.getHandle(workflowIds.signup(row.id)).describe().catch(() => undefined);
        if (description?.status.name === 'RUNNING') running.push(row.id);
      }
      return running;
    };
    // Every signup's flow ends on its own. One whose mail activity the kill caught (the row already
    // sent, the completion never reported) ends only after that activity's start-to-close timeout,
    // when its retry finds the row sent: up to a minute after the kill.
    await eventually('every signup flow of the event to end', async () => ((await runningSignupFlows()).length === 0 ? true : undefined), 100_000, 1_000);
    // Other test files mail too: count only what went to this event's participants.
    const addresses = new Set([...users.values()].map((user) => user.email.toLowerCase()));
    const ourMail = async () => (await allMail()).filter((mail) => mail.to.some((to) => addresses.has(to.address.toLowerCase())));
    const mailsBefore = (await ourMail()).length;
    const logBefore = await count(`select count(*) as n from notification_log where event_id = ?`, [eventId]);
    const again = await cancelEvent(organizer.token, eventId, 'Cancelled twice');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'cancelled' });
    // The first reason stands (participants were told that one).
    expect(await count(`select count(*) as n from event where id = ? and cancellation_reason = 'The venue flooded'`, [eventId])).toBe(1);
    // Whatever run of the lifecycle the second call reached has ended, with nothing left to cancel.
    expect(await client.workflow.getHandle(workflowIds.eventLifecycle(eventId)).result()).toEqual({ eventId, phase: 'cancelled' });
    // Nothing is left that could send: the lifecycle has ended (above), and no signup's flow started again.
    expect(await runningSignupFlows()).toEqual([]);
    expect(await count(`select count(*) as n from notification_log where event_id = ?`, [eventId])).toBe(logBefore);
    expect((await ourMail()).length).toBe(mailsBefore);
  }, 150_000);

  it('refuses drafts (409) and hides other markets (404)', async () => {
    const draft = await createEvent(organizer, { publish: false });
    const refused = await cancelEvent(organizer.token, draft);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: '/problems/event-state-conflict' });

    const published = await createEvent(organizer);
    const elsewhere = await newUser(api, { roles: ['organizer'], markets: ['SE'], name: 'org-se' });
    const hidden = await cancelEvent(elsewhere.token, published);
    expect(hidden.status).toBe(404);
    const view = await request(api.baseUrl, 'GET', `/v1/admin/events/${published}`, { token: organizer.token });
    expect(view.body).toMatchObject({ status: 'published' });
    expect((await cancelEvent(organizer.token, published)).status).toBe(200);
    // The lifecycle starts through the outbox, soon after the publish but not within it.
    const lifecycle = client.workflow.getHandle(workflowIds.eventLifecycle(published));
    await eventually('the lifecycle of the published event', async () => ((await lifecycle.describe().catch(() => undefined)) ? true : undefined), 30_000, 100);
    expect(await lifecycle.result()).toEqual({ eventId: published, phase: 'cancelled' });
    expect(await mailTo(organizer.email)).toEqual([]);
  });
});
