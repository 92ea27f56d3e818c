import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { request } from '../support/http.js';
import {
  activitiesRun,
  deliverWebhook,
  localActivityAttempts,
  mailsMatching,
  newUser,
  paymentIntentOf,
  signUp,
  stripeEvent,
  subjects,
  waitForMail,
  waitForStatus,
  type TestUser,
} from '../support/signup-steps.js';
import { countersAndRows, eventually, insertEvent, startTestStack, type TestStack } from '../support/stack.js';
import { requireEnv } from '../support/environment.js';
import { signupStatusQuery, waitlistOfferSignal, workflowIds } from '../../src/temporal/contract.js';
import { startSignupWorkflow } from '../support/signup-flows.js';

// A seat move whose first attempt commits after its StartToClose timeout (here: waiting for the
// event row, locked by another connection) is retried; the retry must answer what the first
// attempt did, so the workflow's follow-ups (tell the offered signup, cancel the intent) happen once.
const MOVE_TIMEOUT_SECONDS = 2;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    worker: true,
    // A workflow per free signup from the start: the subject is the workflow's cancel move (a free
    // signup under a door-confirmations flow is cancelled by the API in one statement, no retries).
    env: { SIGNUP_SEAT_MOVE_TIMEOUT_SECONDS: String(MOVE_TIMEOUT_SECONDS), SIGNUP_HOLD_SECONDS: '300', SIGNUP_DOOR_CONFIRMATIONS: 'each' },
  });
});

afterAll(() => stack.stop());

/** Holds `select ... for update` on the event row from its own connection until the answer's release(). */
async function lockEventRow(eventId: string): Promise<{ waitingBehind(): Promise<number>; release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: requireEnv('DATABASE_URL') });
  await client.connect();
  await client.query('begin');
  await client.query('select id from "event" where id = $1 for update', [eventId]);
  const holder = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
  return {
    /** Transactions blocked by this lock: one per seat-move attempt that started (a timed-out attempt's transaction still waits). */
    async waitingBehind() {
      // Recursive: the second waiter for a row waits behind the first one's tuple lock, not behind the holder.
      const { rows } = await client.query<{ n: number }>(
        `with recursive waiting(pid) as (
           select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))
           union
           select a.pid from pg_stat_activity a join waiting w on w.pid = any(pg_blocking_pids(a.pid)))
         select count(*)::int as n from waiting`,
        [holder],
      );
      return rows[0]?.n ?? 0;
    },
    async release() {
      await client.query('commit');
      await client.end();
    },
  };
}

/** The offered signup's workflow got the offer signal once, says `held`, and waits on its offer timer. */
async function expectInOfferState(signupId: string) {
  const handle = stack.client.workflow.getHandle(workflowIds.signup(signupId));
  const history = await eventually(`the offer timer of ${signupId}`, async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const signalAt = events.findIndex((event) => event.workflowExecutionSignaledEventAttributes?.signalName === waitlistOfferSignal.name);
    const timerAfter = signalAt >= 0 && events.slice(signalAt).some((event) => event.timerStartedEventAttributes);
    return timerAfter ? events : undefined;
  });
  const offers = history.filter((event) => event.workflowExecutionSignaledEventAttributes?.signalName === waitlistOfferSignal.name);
  expect(offers).toHaveLength(1);
  expect(await handle.query(signupStatusQuery)).toBe('held');
  // The offer mail is sent before the offer timer starts: it is in by now, and only once.
  await waitForMail((await userOf(signupId)).email, subjects.waitlistOffer);
  expect(await mailsMatching((await userOf(signupId)).email, subjects.waitlistOffer)).toHaveLength(1);
}

const users = new Map<string, TestUser>();
const userOf = (signupId: string): Promise<TestUser> => {
  const user = users.get(signupId);
  if (!user) throw new Error(`no user for ${signupId}`);
  return Promise.resolve(user);
};

/** `a` takes the only seat (and waits until `ready`), `b` waits first in line. */
async function oneSeatTakenOneWaiting(options: { paid: boolean }) {
  const { api, orm } = stack;
  const event = await insertEvent(orm, {
    capacity: 1,
    waitlistEnabled: true,
    cancellationDeadline: new Date(Date.now() + 86_400_000),
    ...(options.paid ? { ticketTypes: [{ code: 'standard', amountMinor: 15_000 }] } : {}),
  });
  const a = await newUser(api, { name: 'a' });
  const b = await newUser(api, { name: 'b' });
  const aId = await signUp(api, a, event.id);
  users.set(aId, a);
  if (options.paid) {
    await waitForStatus(api, a, aId, 'held', 30_000, (view) => view.payment !== null);
    await paymentIntentOf(orm, aId);
  } else {
    await waitForStatus(api, a, aId, 'confirmed');
  }
  const bId = await signUp(api, b, event.id);
  users.set(bId, b);
  await waitForStatus(api, b, bId, 'waitlisted');
  await waitForMail(b.email, subjects.received);
  return { event, a, aId, bId };
}

describe('a seat move retried after its first attempt committed late', () => {
  it.each([
    ['a confirmed free signup', false],
    ['a held paid signup', true],
  ])('cancelling %s tells the offered signup once and does every follow-up', async (_what, paid) => {
    const { api } = stack;
    const { event, a, aId, bId } = await oneSeatTakenOneWaiting({ paid });

    const lock = await lockEventRow(event.id);
    const cancelling = request(api.baseUrl, 'POST', `/v1/signups/${aId}/cancel`, { token: a.token, body: {} });
    // Until the lock goes, the cancellation's attempts time out one after another. The move runs inside the workflow task that got the cancel (a local activity, in no list of
    // pending activities): its attempt waits for the lock; let it outlive its timeout twice over.
    const waitingSince = await eventually('the cancellation waiting for the lock', async () => ((await lock.waitingBehind()) >= 1 ? Date.now() : undefined));
    await eventually('the first attempt past its timeout', () => Promise.resolve(Date.now() - waitingSince > 2 * MOVE_TIMEOUT_SECONDS * 1000 ? true : undefined));
    await lock.release();

    const cancelled = await cancelling;
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });

    await waitForStatus(api, users.get(bId) as TestUser, bId, 'held', 30_000, (view) => view.offeredAt !== null);
    await expectInOfferState(bId);

    const aActivities = await activitiesRun(stack.client, aId);
    // One cancel move, answered by a retry: the first attempt had timed out while it waited.
    const cancelAttempts = await localActivityAttempts(stack.client, aId, 'cancelSignup');
    expect(cancelAttempts).toHaveLength(1);
    expect(cancelAttempts[0]).toBeGreaterThanOrEqual(2);
    if (paid) {
      // The intent of the cancelled hold is cancelled at Stripe after the seat move.
      expect(aActivities.indexOf('cancelPaymentIntent')).toBeGreaterThan(aActivities.indexOf('cancelSignup'));
    }
    const counters = await countersAndRows(stack.orm, event.id);
    expect(counters).toMatchObject({ held: counters.heldRows, confirmed: counters.confirmedRows });
    expect(counters).toMatchObject({ held: 1, confirmed: 0 });
  });
});

describe('the end of an unpaid hold retried after its first attempt committed late', () => {
  it('releases once, tells the offered signup once, and leaves the counters equal to the rows', async () => {
    const { api, orm } = stack;
    const event = await insertEvent(orm, { capacity: 1, waitlistEnabled: true, ticketTypes: [{ code: 'standard', amountMinor: 15_000 }] });
    // `a` holds the only seat until a deadline a few seconds away and never pays; `b` waits in line.
    const deadline = new Date(Date.now() + 6_000);
    const a = await startSignupWorkflow({ orm, client: stack.client, taskQueue: stack.worker!.taskQueue }, event.id, 300, {
      paid: { amountMinor: 15_000, currency: 'NOK' },
      heldUntil: deadline,
      seatMoveTimeoutSeconds: MOVE_TIMEOUT_SECONDS,
    });
    const b = await newUser(api, { name: 'b' });
    const bId = await signUp(api, b, event.id);
    users.set(bId, b);
    await waitForStatus(api, b, bId, 'waitlisted');

    // The end of the hold (cancel the intent, release the seats) waits on the locked event row until
    // its attempts have timed out twice; the third finds what the first one committed.
    const lock = await lockEventRow(event.id);
    await eventually(
      'the end of the hold to be on its third attempt',
      async () => {
        const { raw } = await a.handle.describe();
        const pending = raw.pendingActivities?.find((activity) => activity.activityType?.name === 'endUnpaidHold');
        return (pending?.attempt ?? 0) >= 3 ? true : undefined;
      },
      30_000,
    );
    await lock.release();
    await a.handle.result();

    await waitForStatus(api, b, bId, 'held', 30_000, (view) => view.offeredAt !== null);
    await expectInOfferState(bId);
    const aActivities = await activitiesRun(stack.client, a.signupId);
    // One step at the deadline: no separate ask, cancel and release.
    expect(aActivities.filter((name) => ['checkPaymentIntent', 'cancelPaymentIntent', 'releaseHold'].includes(name))).toEqual([]);
    expect(aActivities.filter((name) => name === 'endUnpaidHold')).toHaveLength(1);
    const counters = await countersAndRows(stack.orm, event.id);
    expect(counters).toMatchObject({ held: counters.heldRows, confirmed: counters.confirmedRows });
    expect(counters).toMatchObject({ held: 1, confirmed: 0 });
  });
});

describe('a paid confirmation retried after its first attempt committed late', () => {
  it('confirms once, in the workflow task that saw the payment, and mails the receipt and the confirmation once', async () => {
    const { api, orm } = stack;
    const event = await insertEvent(orm, { capacity: 5, ticketTypes: [{ code: 'standard', amountMinor: 15_000 }] });
    const user = await newUser(api, { name: 'payer' });
    const signupId = await signUp(api, user, event.id);
    await waitForStatus(api, user, signupId, 'held', 30_000, (view) => view.payment !== null);
    const intentId = await paymentIntentOf(orm, signupId);

    // The confirmation's seat move (a local activity) waits on the locked event row past its timeout twice over.
    const lock = await lockEventRow(event.id);
    const delivered = await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intentId));
    expect(delivered.status).toBe(200);
    const waitingSince = await eventually('the confirmation waiting for the lock', async () => ((await lock.waitingBehind()) >= 1 ? Date.now() : undefined));
    await eventually('the first attempt past its timeout', () => Promise.resolve(Date.now() - waitingSince > 2 * MOVE_TIMEOUT_SECONDS * 1000 ? true : undefined));
    await lock.release();

    await waitForStatus(api, user, signupId, 'confirmed');
    await waitForMail(user.email, subjects.confirmation);
    // The row is committed before its workflow task completes: the task's markers come with its completion.
    const attempts = await eventually('the confirmation task in the history', async () => {
      const found = await localActivityAttempts(stack.client, signupId, 'confirmSeats');
      return found.length > 0 ? found : undefined;
    });
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toBeGreaterThanOrEqual(2);
    expect(await mailsMatching(user.email, subjects.receipt)).toHaveLength(1);
    expect(await mailsMatching(user.email, subjects.confirmation)).toHaveLength(1);
    const counters = await countersAndRows(orm, event.id);
    expect(counters).toMatchObject({ held: 0, heldRows: 0, confirmed: 1, confirmedRows: 1 });
  });
});
