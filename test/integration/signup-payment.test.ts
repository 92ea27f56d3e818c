import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from '../support/http.js';
import {
  deliverWebhook,
  getSignup,
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
import { countersAndRows, eventually, insertEvent, startTestStack, workflowIdle, type RunningApi, type TestStack } from '../support/stack.js';
import type { MikroORM } from '../../src/db/orm.js';

// Paid signups, confirmed by Stripe's (signed) webhooks while the hold lasts; stripe-mock serves the API.
let stack: TestStack;
let orm: MikroORM;
let api: RunningApi;

beforeAll(async () => {
  stack = await startTestStack({ worker: true, env: { SIGNUP_HOLD_SECONDS: '60' } });
  ({ orm, api } = stack);
});

afterAll(() => stack.stop());

const paidEvent = (extra: Parameters<typeof insertEvent>[1] = {}) =>
  insertEvent(orm, { capacity: 5, title: 'Paid workshop', ticketTypes: [{ code: 'standard', amountMinor: 25_000 }], ...extra });

async function expectCountersMatchRows(eventId: string) {
  const counters = await countersAndRows(orm, eventId);
  expect(counters.held).toBe(counters.heldRows);
  expect(counters.confirmed).toBe(counters.confirmedRows);
  return counters;
}

describe('a paid signup', () => {
  it('is held with a client secret until the signed succeeded webhook confirms it', async () => {
    const event = await paidEvent();
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);

    const held = await waitForStatus(api, user, signupId, 'held', 30_000, (view) => view.payment !== null);
    expect(held).toMatchObject({ price: { amountMinor: 25_000, currency: 'NOK' } });
    const payment = held.payment as { paymentIntentId: string; clientSecret: string };
    expect(payment.paymentIntentId).toMatch(/^pi_/);
    expect(payment.clientSecret).toEqual(expect.any(String));
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 1, confirmed: 0 });

    const delivered = await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, payment.paymentIntentId));
    expect(delivered).toMatchObject({ status: 200, body: { received: true, delivered: true } });

    const confirmed = await waitForStatus(api, user, signupId, 'confirmed');
    expect(confirmed.payment).toBeNull();
    expect((confirmed.attendees as { ticketCode: string | null }[])[0]?.ticketCode).toEqual(expect.any(String));
    const row = await signupRow(orm, signupId);
    expect(row).toMatchObject({ status: 'confirmed', paymentClientSecret: null });
    expect(row.paidAt).toBeInstanceOf(Date);
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 1 });

    const [receipt] = await waitForMail(user.email, subjects.receipt);
    expect(receipt?.text).toContain(payment.paymentIntentId);
    await waitForMail(user.email, subjects.confirmation);

    // The payment's whole step 5 (seats confirmed, receipt, confirmation) is one workflow task after
    // the webhook's signal: no activity task, no further workflow task. Its mails go out from inside
    // that task, so they can arrive before the task's completion is in the history: wait for it.
    await workflowIdle(stack.client, `signup-${signupId}`);
    const events = (await stack.client.workflow.getHandle(`signup-${signupId}`).fetchHistory()).events ?? [];
    const afterPayment = events.slice(events.findIndex((event) => event.workflowExecutionSignaledEventAttributes));
    expect(afterPayment.filter((event) => event.activityTaskScheduledEventAttributes)).toEqual([]);
    expect(afterPayment.filter((event) => event.workflowTaskCompletedEventAttributes)).toHaveLength(1);
  });

  it('refuses a webhook with a bad signature', async () => {
    const body = JSON.stringify(stripeEvent('payment_intent.succeeded', '00000000-0000-4000-8000-000000000000', 'pi_x'));
    const refused = await request(api.baseUrl, 'POST', '/v1/webhooks/stripe', {
      rawBody: body,
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=deadbeef' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ type: '/problems/webhook-signature-invalid' });
  });

  it('stays held after a failed payment, and is confirmed by the succeeded one that follows', async () => {
    const event = await paidEvent();
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);

    const failed = await deliverWebhook(api, stripeEvent('payment_intent.payment_failed', signupId, intentId));
    expect(failed.body).toMatchObject({ delivered: true });
    const progress = await eventually('the failure to be seen', async () => {
      const seen = await stack.client.workflow.getHandle(`signup-${signupId}`).query<{ paymentState: string }>('signupProgress');
      return seen.paymentState === 'failed' ? seen : undefined;
    });
    expect(progress.paymentState).toBe('failed');
    expect((await getSignup(api, user, signupId)).status).toBe('held');
    expect(await mailsMatching(user.email, subjects.receipt)).toHaveLength(0);

    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intentId));
    await waitForStatus(api, user, signupId, 'confirmed');
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 1 });
    await waitForMail(user.email, subjects.receipt);
    await waitForMail(user.email, subjects.confirmation);
  });

  it('is confirmed once, with one receipt, when Stripe delivers the same event five times', async () => {
    const event = await paidEvent();
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);

    const succeeded = stripeEvent('payment_intent.succeeded', signupId, intentId);
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => deliverWebhook(api, succeeded)));
    for (const answer of answers) expect(answer.status).toBe(200);

    await waitForStatus(api, user, signupId, 'confirmed');
    const progress = await stack.client.workflow.getHandle(`signup-${signupId}`).query<{ seenPaymentEvents: number }>('signupProgress');
    expect(progress.seenPaymentEvents).toBe(1);
    // Again, after confirmation: still nothing new.
    expect((await deliverWebhook(api, succeeded)).status).toBe(200);
    await waitForMail(user.email, subjects.confirmation);
    // The workflow has seen the repeat and has nothing under way: any mail it meant to send is out.
    await workflowIdle(stack.client, `signup-${signupId}`);
    expect(await mailsMatching(user.email, subjects.receipt)).toHaveLength(1);
    expect(await mailsMatching(user.email, subjects.confirmation)).toHaveLength(1);
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 1 });
  });
});

describe('cancelling a paid signup', () => {
  it('refunds per the policy before the deadline and mails a cancellation receipt', async () => {
    const event = await paidEvent({
      cancellationDeadline: new Date(Date.now() + 86_400_000),
      refundPolicy: { kind: 'full-before-deadline' },
    });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);
    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intentId));
    await waitForStatus(api, user, signupId, 'confirmed');

    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: {} });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    await waitForStatus(api, user, signupId, 'cancelled', 30_000, (view) => view.refundedMinor === 25_000);
    expect(await signupRow(orm, signupId)).toMatchObject({ status: 'cancelled', refundedMinor: 25_000 });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 0 });
    const [receipt] = await waitForMail(user.email, subjects.cancellation);
    expect(receipt?.text).toMatch(/We refund/);
  });

  it('refunds per a tiered policy', async () => {
    const event = await paidEvent({
      cancellationDeadline: new Date(Date.now() + 86_400_000),
      refundPolicy: { kind: 'tiered', tiers: [{ hoursBeforeStart: 24 * 30, percent: 100 }, { hoursBeforeStart: 24, percent: 50 }] },
    });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);
    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intentId));
    await waitForStatus(api, user, signupId, 'confirmed');

    await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: {} });
    await waitForStatus(api, user, signupId, 'cancelled', 30_000, (view) => view.refundedMinor === 12_500);
    await waitForMail(user.email, subjects.cancellation);
  });

  it('cancels the intent of a signup cancelled while paying', async () => {
    const event = await paidEvent();
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    await paymentIntentOf(orm, signupId);
    await waitForStatus(api, user, signupId, 'held');

    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: {} });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', payment: null });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 0 });
    await waitForMail(user.email, subjects.cancellation);
  });

  it('refunds in full when an organizer removes a paid participant', async () => {
    const event = await paidEvent({ refundPolicy: { kind: 'none' } });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);
    await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intentId));
    await waitForStatus(api, user, signupId, 'confirmed');

    const organizer = await api.token('organizer-no-pay', ['organizer'], { markets: ['NO'] });
    const removed = await request(api.baseUrl, 'DELETE', `/v1/admin/events/${event.id}/participants/${signupId}`, {
      token: organizer,
      body: { reason: 'event overbooked' },
    });
    expect(removed.status).toBe(200);
    await waitForStatus(api, user, signupId, 'cancelled', 30_000, (view) => view.refundedMinor === 25_000);
    await waitForMail(user.email, subjects.cancellation);
  });
});
