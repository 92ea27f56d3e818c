/**
 * Durability: 100 signups through the API while the only worker is killed (SIGKILL, no graceful
 * shutdown) part-way and a new one started. Every signup must reach its proper end state, no seat
 * may be oversold, and no e-mail may go out twice. Then the same for paid signups whose payments
 * arrive together: the worker is killed while their confirmations (seats, receipt and confirmation
 * mail, in one workflow task) are under way.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { mailTo } from '../support/mailbox.js';
import { deliverWebhook, newUser, paymentIntentOf, postSignup, signUp, stripeEvent, subjects, type TestUser } from '../support/signup-steps.js';
import {
  connectTestClient,
  countersAndRows,
  eventually,
  insertEvent,
  openTestOrm,
  startTestApi,
  type RunningApi,
} from '../support/stack.js';
import { spawnWorker, type ChildWorker } from '../support/worker-child.js';

const SIGNUPS = 100;
const SEATS = 60;

let orm: MikroORM;
let api: RunningApi;
let client: Awaited<ReturnType<typeof connectTestClient>>;
const workers: ChildWorker[] = [];
const taskQueue = `crash-${randomUUID()}`;

beforeAll(async () => {
  orm = await openTestOrm();
  client = await connectTestClient();
  api = await startTestApi({ orm, temporal: client, taskQueue });
});

afterAll(async () => {
  for (const worker of workers) await worker.kill();
  await api.close();
  await client.connection.close();
  await orm.close(true);
});

async function statusCounts(eventId: string): Promise<Record<string, number>> {
  const rows = await orm.em.getConnection().execute<{ status: string; n: number }[]>(
    'select status, count(*)::int as n from signup where event_id = ? group by status',
    [eventId],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

describe('a worker killed in the middle of 100 signups', () => {
  it('loses nothing, oversells nothing and sends no e-mail twice', async () => {
    const event = await insertEvent(orm, { capacity: SEATS, waitlistEnabled: true });
    const users: TestUser[] = await Promise.all(Array.from({ length: SIGNUPS }, () => newUser(api, { name: 'crash' })));
    workers.push(await spawnWorker(taskQueue));

    // Free signups are confirmed at the door; what the worker does is each one's confirmation mail.
    // Kill it once the first of those is under way, while the rest still come in: work is in flight.
    const confirmationsLogged = async (state?: string) => {
      const [row] = await orm.em.getConnection().execute<{ n: number }[]>(
        `select count(*)::int as n from notification_log where event_id = ? and kind = 'confirmation' and state = coalesce(?, state)`,
        [event.id, state ?? null],
      );
      return row?.n ?? 0;
    };
    const posting = Promise.all(
      users.map((user) => postSignup(api, user, event.id, { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' })),
    );
    await eventually('the first confirmation mail under way', async () => ((await confirmationsLogged()) >= 1 ? true : undefined), 60_000, 10);
    await workers[0]!.kill();
    expect(await confirmationsLogged('sent')).toBeLessThan(SEATS);
    const accepted = await posting;
    expect(accepted.map((answer) => answer.status).filter((status) => status !== 202)).toEqual([]);
    workers.push(await spawnWorker(taskQueue));

    // Every seat ends confirmed (free event), everyone else waits; nothing stays requested or held.
    const settled = await eventually(
      'every signup at rest',
      async () => {
        const counts = await statusCounts(event.id);
        return counts.confirmed === SEATS && counts.waitlisted === SIGNUPS - SEATS ? counts : undefined;
      },
      120_000,
      250,
    );
    expect(settled).toEqual({ confirmed: SEATS, waitlisted: SIGNUPS - SEATS });
    expect(await countersAndRows(orm, event.id)).toEqual({ capacity: SEATS, held: 0, confirmed: SEATS, heldRows: 0, confirmedRows: SEATS });

    // Every confirmed participant got exactly one confirmation; nobody got any message twice.
    const signups = await orm.em.fork().find(Signup, { event: event.id });
    const emailOf = new Map(users.map((user) => [user.sub, user.email]));
    await eventually('the confirmation mails', async () => {
      const counts = await Promise.all(
        signups.filter((s) => s.status === 'confirmed').map(async (s) => (await mailTo(emailOf.get(s.userId) ?? '')).filter((m) => m.subject.startsWith("You're in")).length),
      );
      return counts.every((count) => count >= 1) ? true : undefined;
      // A mail in flight on the killed worker is retried after its start-to-close timeout (1 minute).
    }, 150_000, 250);
    const duplicates: string[] = [];
    for (const user of users) {
      const subjects = (await mailTo(user.email)).map((mail) => mail.subject);
      if (new Set(subjects).size !== subjects.length) duplicates.push(`${user.email}: ${subjects.join(' | ')}`);
    }
    expect(duplicates).toEqual([]);

    // Every workflow is at rest: confirmed and waitlisted ones wait for a signal, none failed.
    const notRunning: string[] = [];
    for await (const workflow of client.workflow.list({ query: `EventId = "${event.id}" AND ExecutionStatus != "Running"` })) {
      notRunning.push(`${workflow.workflowId}: ${workflow.status.name}`);
    }
    expect(notRunning).toEqual([]);
    // The event's flows: signup workflows, and door-confirmations flows for signups that have none.
    const running: string[] = [];
    for await (const workflow of client.workflow.list({ query: `EventId = "${event.id}" AND ExecutionStatus = "Running"` })) running.push(workflow.workflowId);
    for (const workflowId of running) await client.workflow.getHandle(workflowId).terminate('test over');
  }, 330_000);
});

describe('a worker killed while paid signups are confirmed', () => {
  it('confirms each once, with one receipt and one confirmation mail', async () => {
    const PAID = 30;
    const event = await insertEvent(orm, { capacity: PAID, title: 'Paid crash', ticketTypes: [{ code: 'standard', amountMinor: 25_000 }] });
    const users: TestUser[] = await Promise.all(Array.from({ length: PAID }, () => newUser(api, { name: 'paid-crash' })));
    workers.push(await spawnWorker(taskQueue));
    const signupIds = await Promise.all(users.map((user) => signUp(api, user, event.id)));
    // Thirty flows begin at once on a worker that has just started: on a loaded CI their first
    // workflow tasks were seen taking over 5 s each, so their payment intents get the file's longer wait.
    const intents = await Promise.all(signupIds.map((signupId) => paymentIntentOf(orm, signupId, 120_000)));

    const logged = async (kind: string, state?: string) => {
      const [row] = await orm.em.getConnection().execute<{ n: number }[]>(
        `select count(*)::int as n from notification_log where event_id = ? and kind = ? and state = coalesce(?, state)`,
        [event.id, kind, state ?? null],
      );
      return row?.n ?? 0;
    };
    // Every payment arrives at once; the worker dies once the first receipt is under way.
    const delivering = Promise.all(signupIds.map((signupId, index) => deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intents[index]!))));
    await eventually('the first receipt under way', async () => ((await logged('payment-receipt')) >= 1 ? true : undefined), 60_000, 10);
    const killed = workers.length - 1;
    await workers[killed]!.kill();
    expect(await logged('confirmation', 'sent')).toBeLessThan(PAID);
    expect((await delivering).map((answer) => answer.status)).toEqual(Array(PAID).fill(200));
    workers.push(await spawnWorker(taskQueue));

    const settled = await eventually('every paid signup confirmed', async () => ((await statusCounts(event.id)).confirmed === PAID ? true : undefined), 120_000, 250);
    expect(settled).toBe(true);
    expect(await statusCounts(event.id)).toEqual({ confirmed: PAID });
    expect(await countersAndRows(orm, event.id)).toEqual({ capacity: PAID, held: 0, confirmed: PAID, heldRows: 0, confirmedRows: PAID });

    // Each got its receipt and its confirmation, once: a mail in flight on the killed worker is sent
    // again only if it was never logged as sent.
    await eventually('the receipts and confirmations', async () => ((await logged('confirmation', 'sent')) === PAID && (await logged('payment-receipt', 'sent')) === PAID ? true : undefined), 150_000, 250);
    for (const user of users) {
      const mails = (await mailTo(user.email)).map((mail) => mail.subject);
      expect({ user: user.email, receipts: mails.filter((subject) => subjects.receipt.test(subject)).length, confirmations: mails.filter((subject) => subjects.confirmation.test(subject)).length }).toEqual({
        user: user.email,
        receipts: 1,
        confirmations: 1,
      });
    }
    for (const signupId of signupIds) await client.workflow.getHandle(`signup-${signupId}`).terminate('test over');
  }, 330_000);
});
