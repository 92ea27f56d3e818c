import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  activitiesRun,
  deliverWebhook,
  mailsMatching,
  newUser,
  paymentIntentOf,
  postSignup,
  signUp,
  signupRow,
  stripeEvent,
  subjects,
  waitForMail,
  waitForStatus,
} from '../support/signup-steps.js';
import { countersAndRows, insertEvent, startTestStack, type RunningApi, type TestStack } from '../support/stack.js';
import type { MikroORM } from '../../src/db/orm.js';
import { intentAtStripe, refundsAtStripe } from '../support/stripe-control.js';
import { PromoCode } from '../../src/events/promo-code.entity.js';
import { TicketType } from '../../src/events/ticket-type.entity.js';

// Holds of 5 s: what happens when the payment does not come in time, or comes late. Long enough for a
// fresh worker's first workflow task to come before the deadline on a loaded machine: a workflow
// that gets going after its hold's deadline creates no PaymentIntent at all (by design), and these
// tests pay or cancel one (a clean-clone run saw the first test's workflow miss a 2 s hold).
let stack: TestStack;
let orm: MikroORM;
let api: RunningApi;

beforeAll(async () => {
  stack = await startTestStack({
    worker: true,
    env: { SIGNUP_HOLD_SECONDS: '5', SIGNUP_LATE_PAYMENT_GRACE_SECONDS: '30' },
  });
  ({ orm, api } = stack);
});

afterAll(() => stack.stop());

const paidEvent = (capacity: number) =>
  insertEvent(orm, { capacity, title: 'Paid workshop', ticketTypes: [{ code: 'standard', amountMinor: 25_000 }] });

async function expectCountersMatchRows(eventId: string) {
  const counters = await countersAndRows(orm, eventId);
  expect(counters.held).toBe(counters.heldRows);
  expect(counters.confirmed).toBe(counters.confirmedRows);
  return counters;
}

describe('a hold that runs out unpaid', () => {
  it('releases the seats, cancels the PaymentIntent and tells the participant', async () => {
    const event = await paidEvent(1);
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);

    const released = await waitForStatus(api, user, signupId, 'released', 20_000);
    expect(await intentAtStripe(intentId)).toMatchObject({ status: 'canceled' });
    expect(released).toMatchObject({ payment: null, holdExpiresAt: null, releasedAt: expect.any(String) });
    expect(await signupRow(orm, signupId)).toMatchObject({ status: 'released', paymentClientSecret: null });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 0 });
    const activities = await activitiesRun(stack.client, signupId);
    // One step at the deadline: the intent cancelled (so it can no longer be paid), then the seats released.
    expect(activities).toContain('endUnpaidHold');
    expect(activities).not.toContain('releaseHold');
    expect(activities).not.toContain('refundSignup');
    const [told] = await waitForMail(user.email, subjects.rejection);
    expect(told?.text).toContain('the payment did not arrive before the reservation ran out');
  });
});

describe('a payment that arrives after the hold ran out', () => {
  it('confirms the signup after all when a seat is still free', async () => {
    const event = await paidEvent(2);
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);
    await waitForStatus(api, user, signupId, 'released', 20_000);

    const delivered = await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intentId));
    expect(delivered.body).toMatchObject({ delivered: true });
    const confirmed = await waitForStatus(api, user, signupId, 'confirmed');
    expect((confirmed.attendees as { ticketCode: string | null }[])[0]?.ticketCode).toEqual(expect.any(String));
    expect(await signupRow(orm, signupId)).toMatchObject({ status: 'confirmed', refundedMinor: 0, releasedAt: null });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 1 });
    await waitForMail(user.email, subjects.receipt);
    await waitForMail(user.email, subjects.confirmation);
  });

  it('refunds it in full, and says so, when the seat went to someone else', async () => {
    const event = await paidEvent(1);
    const late = await newUser(api);
    const lateId = await signUp(api, late, event.id);
    const lateIntent = await paymentIntentOf(orm, lateId);
    await waitForStatus(api, late, lateId, 'released', 20_000);

    const next = await newUser(api);
    const nextId = await signUp(api, next, event.id);
    const nextIntent = await paymentIntentOf(orm, nextId);
    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', nextId, nextIntent));
    await waitForStatus(api, next, nextId, 'confirmed');

    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', lateId, lateIntent));
    const refunded = await waitForStatus(api, late, lateId, 'released', 20_000, (view) => view.refundedMinor === 25_000);
    expect(refunded.attendees).toEqual([expect.objectContaining({ ticketCode: null })]);
    expect(await signupRow(orm, lateId)).toMatchObject({ status: 'released', refundedMinor: 25_000 });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 1, capacity: 1 });
    // First told that the hold ran out, then (by the payment's refund flow) that the late payment is refunded.
    await waitForMail(late.email, subjects.rejection);
    const [refundMail] = await waitForMail(late.email, subjects.refund);
    expect(refundMail?.text).toContain('so it is refunded in full');
    expect(refundMail?.text).toContain(lateIntent);
    expect(await refundsAtStripe(lateIntent)).toEqual([expect.objectContaining({ amount: 25_000 })]);
    expect(await mailsMatching(late.email, subjects.confirmation)).toHaveLength(0);
  });
});

describe('promo codes and ticket types', () => {
  it('gives the promo use back when the hold runs out, and moves the ticket type counters with the event', async () => {
    const event = await insertEvent(orm, {
      capacity: 5,
      ticketTypes: [
        { code: 'adult', amountMinor: 20_000 },
        { code: 'vip', amountMinor: 50_000, capacity: 1 },
      ],
    });
    const em = orm.em.fork();
    em.create(PromoCode, { id: randomUUID(), event: event.id, code: 'HALF', kind: 'percent', value: 50, maxUses: 1 });
    await em.flush();

    const user = await newUser(api);
    const accepted = await postSignup(api, user, event.id, { ticketType: 'vip', promoCode: 'half' });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ ticketType: 'vip', price: { amountMinor: 25_000, currency: 'NOK', promoCode: 'HALF' } });
    const signupId = accepted.body.id as string;
    await waitForStatus(api, user, signupId, 'held');
    expect(await typeCounters(event.id, 'vip')).toEqual({ held: 1, confirmed: 0 });
    expect((await orm.em.fork().findOneOrFail(PromoCode, { event: event.id, code: 'HALF' })).usedCount).toBe(1);

    // The only vip seat is held and there is no waiting list: refused at once, like a full event.
    const other = await newUser(api);
    const refused = await postSignup(api, other, event.id, { ticketType: 'vip' });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: '/problems/sold-out' });

    await waitForStatus(api, user, signupId, 'released', 20_000);
    expect(await typeCounters(event.id, 'vip')).toEqual({ held: 0, confirmed: 0 });
    expect((await orm.em.fork().findOneOrFail(PromoCode, { event: event.id, code: 'HALF' })).usedCount).toBe(0);
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 0 });
  });
});

async function typeCounters(eventId: string, code: string) {
  const type = await orm.em.fork().findOneOrFail(TicketType, { event: eventId, code });
  return { held: type.heldCount, confirmed: type.confirmedCount };
}
