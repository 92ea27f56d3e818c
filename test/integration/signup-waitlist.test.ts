import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from '../support/http.js';
import {
  adult,
  deliverWebhook,
  mailsMatching,
  newUser,
  paymentIntentOf,
  signUp,
  signupRow,
  stripeEvent,
  subjects,
  waitForMail,
  waitForStatus,
} from '../support/signup-steps.js';
import { countersAndRows, eventually, insertEvent, startTestStack, type TestStack } from '../support/stack.js';

// The waiting list: freed seats are offered in order, taken with POST /confirm or passed on when the offer runs out.
let stack: TestStack;
let shortStack: TestStack;

beforeAll(async () => {
  [stack, shortStack] = await Promise.all([
    startTestStack({ worker: true }),
    // Offers that run out after 2 s.
    startTestStack({ worker: true, env: { SIGNUP_OFFER_SECONDS: '2' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([stack.stop(), shortStack.stop()]);
});

async function expectCountersMatchRows(on: TestStack, eventId: string) {
  const counters = await countersAndRows(on.orm, eventId);
  expect(counters.held).toBe(counters.heldRows);
  expect(counters.confirmed).toBe(counters.confirmedRows);
  return counters;
}

/** A one-seat event with the waiting list on: `a` holds the seat (confirmed), `b` waits first in line. */
async function oneSeatTakenOneWaiting(on: TestStack, names = { a: 'a', b: 'b' }) {
  const { api, orm } = on;
  const event = await insertEvent(orm, { capacity: 1, waitlistEnabled: true, cancellationDeadline: new Date(Date.now() + 86_400_000) });
  const a = await newUser(api, { name: names.a });
  const b = await newUser(api, { name: names.b });
  const aId = await signUp(api, a, event.id);
  await waitForStatus(api, a, aId, 'confirmed');
  const bId = await signUp(api, b, event.id);
  const waiting = await waitForStatus(api, b, bId, 'waitlisted');
  return { event, a, b, aId, bId, waiting };
}

describe('the waiting list', () => {
  it('offers a cancelled seat to the first in line, who takes it with POST /confirm', async () => {
    const { api, orm } = stack;
    const { event, a, b, aId, bId, waiting } = await oneSeatTakenOneWaiting(stack);
    expect(waiting.waitlistPosition).toBe(1);
    const [received] = await waitForMail(b.email, subjects.received);
    expect(received).toBeDefined();
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 0, confirmed: 1 });

    // Taking an offer that was never made is refused.
    const early = await request(api.baseUrl, 'POST', `/v1/signups/${bId}/confirm`, { token: b.token });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ type: '/problems/signup-not-held' });

    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${aId}/cancel`, { token: a.token, body: {} });
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    const offered = await waitForStatus(api, b, bId, 'held');
    expect(offered).toMatchObject({ offeredAt: expect.any(String), holdExpiresAt: expect.any(String), waitlistPosition: null });
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 1, confirmed: 0 });

    // The app may see the offer (GET, status feed) before the mail: taking it at once must work.
    const taken = await request(api.baseUrl, 'POST', `/v1/signups/${bId}/confirm`, { token: b.token });
    expect(taken.status).toBe(200);
    expect(taken.body).toMatchObject({ status: 'confirmed' });
    expect((taken.body.attendees as { ticketCode: string | null }[])[0]?.ticketCode).toEqual(expect.any(String));
    expect(await signupRow(orm, bId)).toMatchObject({ status: 'confirmed' });
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 0, confirmed: 1 });
    await waitForMail(b.email, subjects.waitlistOffer);
    await waitForMail(b.email, subjects.confirmation);
    await waitForMail(a.email, subjects.cancellation);
  });

  // The freeing transaction writes the offer before its workflow signals the offered one's workflow:
  // a client that sees it (GET, the status feed) and takes it at once must not be refused.
  it.each([1, 2, 3])('lets an offer be taken the moment it is in the database (round %s)', async () => {
    const { api, orm } = stack;
    const { event, a, b, aId, bId } = await oneSeatTakenOneWaiting(stack);

    const cancelling = request(api.baseUrl, 'POST', `/v1/signups/${aId}/cancel`, { token: a.token, body: {} });
    await eventually('the offer in the database', async () => ((await signupRow(orm, bId)).status === 'held' ? true : undefined), 20_000, 5);
    const taken = await request(api.baseUrl, 'POST', `/v1/signups/${bId}/confirm`, { token: b.token });
    expect(taken.status).toBe(200);
    expect(taken.body).toMatchObject({ status: 'confirmed' });
    expect((await cancelling).body).toMatchObject({ status: 'cancelled' });
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 0, confirmed: 1 });
  });

  it('passes an offer that runs out to the next in line, and the first ends released', async () => {
    const { api, orm } = shortStack;
    const event = await insertEvent(orm, { capacity: 1, waitlistEnabled: true });
    const a = await newUser(api, { name: 'a' });
    const b = await newUser(api, { name: 'b' });
    const c = await newUser(api, { name: 'c' });
    const aId = await signUp(api, a, event.id);
    await waitForStatus(api, a, aId, 'confirmed');
    const bId = await signUp(api, b, event.id);
    await waitForStatus(api, b, bId, 'waitlisted');
    const cId = await signUp(api, c, event.id);
    const cWaiting = await waitForStatus(api, c, cId, 'waitlisted');
    expect(cWaiting.waitlistPosition).toBe(2);

    const organizer = await api.token('organizer-no-wl', ['organizer'], { markets: ['NO'] });
    const removed = await request(api.baseUrl, 'DELETE', `/v1/admin/events/${event.id}/participants/${aId}`, {
      token: organizer,
      body: { reason: 'double booking' },
    });
    expect(removed.status).toBe(200);

    await waitForMail(b.email, subjects.waitlistOffer);
    const bReleased = await waitForStatus(api, b, bId, 'released', 20_000);
    expect(bReleased.offeredAt).toEqual(expect.any(String));
    const [told] = await waitForMail(b.email, subjects.rejection);
    expect(told?.text).toContain('the offered place was not taken in time');

    await waitForStatus(api, c, cId, 'held', 20_000, (view) => view.offeredAt !== null);
    await waitForMail(c.email, subjects.waitlistOffer);
    expect(await expectCountersMatchRows(shortStack, event.id)).toMatchObject({ held: 1, confirmed: 0 });
    const taken = await request(api.baseUrl, 'POST', `/v1/signups/${cId}/confirm`, { token: c.token });
    expect(taken.body).toMatchObject({ status: 'confirmed' });
    expect(await expectCountersMatchRows(shortStack, event.id)).toMatchObject({ held: 0, confirmed: 1 });
    expect(await mailsMatching(b.email, subjects.confirmation)).toHaveLength(0);
  });

  it('offers freed seats to the first in line whose party fits, keeping the larger party first in line', async () => {
    const { api, orm } = stack;
    const event = await insertEvent(orm, { capacity: 2, waitlistEnabled: true, cancellationDeadline: new Date(Date.now() + 86_400_000) });
    const a = await newUser(api, { name: 'a' });
    const x = await newUser(api, { name: 'x' });
    const big = await newUser(api, { name: 'big' });
    const small = await newUser(api, { name: 'small' });
    const aId = await signUp(api, a, event.id);
    await waitForStatus(api, a, aId, 'confirmed');
    await waitForStatus(api, x, await signUp(api, x, event.id), 'confirmed');
    const bigId = await signUp(api, big, event.id, { attendees: [adult('B1'), adult('B2')] });
    await waitForStatus(api, big, bigId, 'waitlisted');
    const smallId = await signUp(api, small, event.id);
    expect((await waitForStatus(api, small, smallId, 'waitlisted')).waitlistPosition).toBe(2);

    await request(api.baseUrl, 'POST', `/v1/signups/${aId}/cancel`, { token: a.token, body: {} });
    await waitForStatus(api, small, smallId, 'held', 20_000, (view) => view.offeredAt !== null);
    expect((await waitForStatus(api, big, bigId, 'waitlisted')).waitlistPosition).toBe(1);
    const taken = await request(api.baseUrl, 'POST', `/v1/signups/${smallId}/confirm`, { token: small.token });
    expect(taken.body).toMatchObject({ status: 'confirmed' });
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 0, confirmed: 2 });
  });

  it('offers seats to the waiting list when an organizer raises the capacity', async () => {
    const { api, orm } = stack;
    const { event, b, bId } = await oneSeatTakenOneWaiting(stack, { a: 'raise-a', b: 'raise-b' });

    const admin = await api.token('raise-admin', ['admin']);
    const read = await request(api.baseUrl, 'GET', `/v1/admin/events/${event.id}`, { token: admin });
    const patched = await request(api.baseUrl, 'PATCH', `/v1/admin/events/${event.id}`, {
      token: admin,
      body: { capacity: 2 },
      headers: { 'if-match': read.headers.get('etag') ?? '' },
    });
    expect([patched.status, patched.body.errors]).toEqual([200, undefined]);
    expect(await signupRow(orm, bId)).toMatchObject({ status: 'held', offeredAt: expect.any(Date) });
    await waitForMail(b.email, subjects.waitlistOffer);
    const taken = await request(api.baseUrl, 'POST', `/v1/signups/${bId}/confirm`, { token: b.token });
    expect(taken.body).toMatchObject({ status: 'confirmed' });
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 0, confirmed: 2 });
  });

  it('cancels a waitlisted signup without touching the seats', async () => {
    const { api } = stack;
    const { event, b, bId } = await oneSeatTakenOneWaiting(stack);
    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${bId}/cancel`, { token: b.token, body: {} });
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 0, confirmed: 1 });
    await waitForMail(b.email, subjects.cancellation);
  });

  it('lets a paid signup take its offer by paying', async () => {
    const { api, orm } = stack;
    const event = await insertEvent(orm, {
      capacity: 1,
      waitlistEnabled: true,
      cancellationDeadline: new Date(Date.now() + 86_400_000),
      ticketTypes: [{ code: 'standard', amountMinor: 10_000 }],
    });
    const a = await newUser(api, { name: 'a' });
    const b = await newUser(api, { name: 'b' });
    const aId = await signUp(api, a, event.id);
    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', aId, await paymentIntentOf(orm, aId)));
    await waitForStatus(api, a, aId, 'confirmed');
    const bId = await signUp(api, b, event.id);
    await waitForStatus(api, b, bId, 'waitlisted');

    await request(api.baseUrl, 'POST', `/v1/signups/${aId}/cancel`, { token: a.token, body: {} });
    const offered = await waitForStatus(api, b, bId, 'held', 30_000, (view) => view.payment !== null);
    const payment = offered.payment as { paymentIntentId: string };
    const refused = await request(api.baseUrl, 'POST', `/v1/signups/${bId}/confirm`, { token: b.token });
    expect(refused.status).toBe(409);
    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', bId, payment.paymentIntentId));
    await waitForStatus(api, b, bId, 'confirmed');
    await waitForStatus(api, a, aId, 'cancelled', 30_000, (view) => view.refundedMinor === 10_000);
    expect(await expectCountersMatchRows(stack, event.id)).toMatchObject({ held: 0, confirmed: 1 });
    await waitForMail(b.email, subjects.receipt);
  });
});
