import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { seatTaskQueueOf, signupStatusQuery, workflowIds } from '../../src/temporal/contract.js';
import {
  activitiesRun,
  getSignup,
  mailsMatching,
  newUser,
  paymentIntentOf,
  postSignup,
  signUp,
  signupRow,
  subjects,
  waitForMail,
  waitForStatus,
} from '../support/signup-steps.js';
import { countersAndRows, eventually, insertEvent, startTestStack, type TestStack } from '../support/stack.js';
import { startSignupWorkflow } from '../support/signup-flows.js';

// holdExpiresAt is the truth: the workflow's hold timer ends at the stored deadline, a claim that
// finds no room releases holds past their deadline (whatever their workflow is doing), and the app is
// never handed a client secret for a hold that has ended.
const HOLD_SECONDS = 12;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: true, env: { SIGNUP_HOLD_SECONDS: String(HOLD_SECONDS), SIGNUP_OFFER_SECONDS: '600' } });
});

afterAll(() => stack.stop());

const paidEvent = (extra: Parameters<typeof insertEvent>[1] = {}) =>
  insertEvent(stack.orm, { capacity: 1, ticketTypes: [{ code: 'standard', amountMinor: 12_000 }], ...extra });

async function expectCountersMatchRows(eventId: string) {
  const counters = await countersAndRows(stack.orm, eventId);
  expect(counters.held).toBe(counters.heldRows);
  expect(counters.confirmed).toBe(counters.confirmedRows);
  return counters;
}

/** The workflow's hold timer: when it was started and how long it runs (ms). */
async function holdTimerOf(signupId: string): Promise<{ startedAt: number; durationMs: number }> {
  const handle = stack.client.workflow.getHandle(workflowIds.signup(signupId));
  return eventually(`the hold timer of ${signupId}`, async () => {
    const events = (await handle.fetchHistory()).events ?? [];
    const timer = events.find((event) => event.timerStartedEventAttributes);
    const duration = timer?.timerStartedEventAttributes?.startToFireTimeout;
    if (!timer?.eventTime || !duration) return undefined;
    const startedAt = Number(timer.eventTime.seconds) * 1000 + Math.floor((timer.eventTime.nanos ?? 0) / 1e6);
    return { startedAt, durationMs: Number(duration.seconds ?? 0) * 1000 + Math.floor((duration.nanos ?? 0) / 1e6) };
  });
}

/** Moves a hold's deadline into the past, as if its workflow were queued behind a backlog. */
async function expireInDatabase(signupId: string): Promise<void> {
  await stack.orm.em
    .getConnection()
    .execute(`update signup set hold_expires_at = now() - interval '1 second' where id = ?`, [signupId], 'run');
}

describe('exact holds', () => {
  it("counts the workflow's hold timer down to the stored deadline", async () => {
    const { api } = stack;
    const event = await paidEvent({ capacity: 5 });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const held = await waitForStatus(api, user, signupId, 'held', 30_000, (view) => view.payment !== null);
    const deadline = Date.parse(held.holdExpiresAt as string);

    const timer = await holdTimerOf(signupId);
    // Not a whole hold after the workflow got going and created the intent: what was left of it.
    expect(timer.durationMs).toBeLessThan(HOLD_SECONDS * 1000);
    expect(Math.abs(timer.startedAt + timer.durationMs - deadline)).toBeLessThanOrEqual(1_000);

    const released = await waitForStatus(api, user, signupId, 'released', 60_000);
    expect(released.payment).toBeNull();
    expect(await activitiesRun(stack.client, signupId)).toContain('endUnpaidHold');
    // On the seat task queue, never behind the mails of the workflow's own queue.
    const history = await stack.client.workflow.getHandle(workflowIds.signup(signupId)).fetchHistory();
    const queues = (history.events ?? []).flatMap((e) => {
      const scheduled = e.activityTaskScheduledEventAttributes;
      return scheduled ? [[scheduled.activityType?.name, scheduled.taskQueue?.name]] : [];
    });
    const workflowQueue = stack.worker!.taskQueue;
    expect(queues).toContainEqual(['endUnpaidHold', seatTaskQueueOf(workflowQueue)]);
    expect(queues).toContainEqual(['sendSignupNotification', workflowQueue]);
  });

  it('shows no client secret once the hold has passed its deadline', async () => {
    const { api } = stack;
    const event = await paidEvent({ capacity: 5 });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    await waitForStatus(api, user, signupId, 'held', 30_000, (view) => view.payment !== null);
    await expireInDatabase(signupId);
    const view = await getSignup(api, user, signupId);
    expect(view).toMatchObject({ status: 'held', payment: null });
  });

  it('creates no PaymentIntent for a hold whose deadline passed before its workflow got going', async () => {
    const event = await paidEvent({ capacity: 5 });
    // A workflow queued behind a backlog until after the deadline the app was shown.
    const { signupId, handle } = await startSignupWorkflow({ orm: stack.orm, client: stack.client, taskQueue: stack.worker!.taskQueue }, event.id, HOLD_SECONDS, {
      paid: { amountMinor: 12_000, currency: 'NOK' },
      heldUntil: new Date(Date.now() - 1_000),
    });
    await handle.result();
    expect(await signupRow(stack.orm, signupId)).toMatchObject({ status: 'released', paymentIntentId: null });
    const activities = await activitiesRun(stack.client, signupId);
    expect(activities).not.toContain('createPaymentIntent');
    expect(activities).toContain('endUnpaidHold');
    await expectCountersMatchRows(event.id);
  });

  it('gives a newcomer the seat that only an expired hold occupies; the late release changes nothing', async () => {
    const { api, orm } = stack;
    const event = await paidEvent({ waitlistEnabled: false });
    const a = await newUser(api, { name: 'a' });
    const b = await newUser(api, { name: 'b' });
    const aId = await signUp(api, a, event.id);
    await waitForStatus(api, a, aId, 'held', 30_000, (view) => view.payment !== null);
    await paymentIntentOf(orm, aId);
    await expireInDatabase(aId);

    const taken = await postSignup(api, b, event.id);
    expect(taken.status).toBe(202);
    expect(taken.body).toMatchObject({ status: 'held' });
    expect(await signupRow(orm, aId)).toMatchObject({ status: 'released', holdExpiresAt: null });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 1, confirmed: 0 });

    // A's workflow reaches its own deadline later: its release is a no-op, its follow-ups still run.
    const aHandle = stack.client.workflow.getHandle(workflowIds.signup(aId));
    // (It then waits out the late-payment grace, so it does not end here.)
    await eventually('the expired hold workflow to release', async () => ((await aHandle.query(signupStatusQuery)) === 'released' ? true : undefined), 40_000, 250);
    const activities = await activitiesRun(stack.client, aId);
    expect(activities).toContain('endUnpaidHold');
    await waitForMail(a.email, subjects.rejection);
    expect(await mailsMatching(a.email, subjects.rejection)).toHaveLength(1);
    // A's late release freed nothing a second time: B's seat is held until B's own deadline (on a slow
    // machine that may have passed by now, and B's own workflow released it).
    const bRow = await signupRow(orm, taken.body.id as string);
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: bRow.status === 'held' ? 1 : 0, confirmed: 0 });
  });

  it('offers the seat of an expired hold to the waiting list first, and its workflow tells the offered', async () => {
    const { api, orm } = stack;
    const event = await paidEvent({ waitlistEnabled: true });
    const a = await newUser(api, { name: 'a' });
    const w = await newUser(api, { name: 'w' });
    const c = await newUser(api, { name: 'c' });
    const aId = await signUp(api, a, event.id);
    await waitForStatus(api, a, aId, 'held', 30_000, (view) => view.payment !== null);
    const wId = await signUp(api, w, event.id);
    await waitForStatus(api, w, wId, 'waitlisted');
    await expireInDatabase(aId);

    // The newcomer's claim frees A's seat, which goes to W (first in line), so C waits behind W.
    const late = await postSignup(api, c, event.id);
    expect(late.status).toBe(202);
    expect(late.body).toMatchObject({ status: 'waitlisted' });
    expect(await signupRow(orm, aId)).toMatchObject({ status: 'released' });
    expect(await signupRow(orm, wId)).toMatchObject({ status: 'held', offeredAt: expect.any(Date) });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 1, confirmed: 0 });

    // A's workflow, at its own deadline, finds the release done and tells W of the offer.
    await waitForMail(w.email, subjects.waitlistOffer, 1, 60_000);
    await eventually('W to know of its offer', async () =>
      (await stack.client.workflow.getHandle(workflowIds.signup(wId)).query(signupStatusQuery)) === 'held' ? true : undefined,
    );
    expect(await mailsMatching(w.email, subjects.waitlistOffer)).toHaveLength(1);
  });
});
