import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from '../support/http.js';
import {
  adult,
  attendeeRows,
  child,
  mailsMatching,
  newUser,
  postSignup,
  signUp,
  signupRow,
  subjects,
  waitForMail,
  waitForStatus,
} from '../support/signup-steps.js';
import { countersAndRows, insertEvent, startTestStack, type RunningApi, type TestStack } from '../support/stack.js';
import type { MikroORM } from '../../src/db/orm.js';

// Free signups end to end: REST API, a real worker, the database and the mail sink.
let stack: TestStack;
let orm: MikroORM;
let api: RunningApi;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
  ({ orm, api } = stack);
});

afterAll(() => stack.stop());

async function expectCountersMatchRows(eventId: string) {
  const counters = await countersAndRows(orm, eventId);
  expect(counters.held).toBe(counters.heldRows);
  expect(counters.confirmed).toBe(counters.confirmedRows);
  return counters;
}

describe('a free signup', () => {
  it('is confirmed in the request, with a ticket code per attendee and one confirmation mail', async () => {
    const event = await insertEvent(orm, { capacity: 5, title: 'Free lego day' });
    const user = await newUser(api);
    const accepted = await postSignup(api, user, event.id, { attendees: [adult('Ada'), child('Bo', 9)] });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: 'confirmed' });
    const signupId = accepted.body.id as string;

    const view = await waitForStatus(api, user, signupId, 'confirmed');
    expect(view).toMatchObject({ seats: 2, payment: null, price: { amountMinor: 0, currency: null } });
    const attendees = view.attendees as { firstName: string; ticketCode: string | null }[];
    expect(attendees.map((attendee) => attendee.ticketCode)).toEqual([expect.stringMatching(/^[0-9A-Z]{20}$/), expect.stringMatching(/^[0-9A-Z]{20}$/)]);
    expect((await signupRow(orm, signupId)).status).toBe('confirmed');
    expect((await attendeeRows(orm, signupId)).every((row) => row.ticketCode)).toBe(true);
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 2 });

    const [confirmation] = await waitForMail(user.email, subjects.confirmation);
    expect(confirmation?.subject).toContain('Free lego day');
    for (const attendee of attendees) expect(confirmation?.text).toContain(attendee.ticketCode);
    // Confirmed at once: no separate "we got your signup" mail before the confirmation.
    expect(await mailsMatching(user.email, subjects.received)).toHaveLength(0);
    expect(await mailsMatching(user.email, subjects.confirmation)).toHaveLength(1);
  });
});

describe('requests', () => {
  it('answers the same signup for the same Idempotency-Key, and 409 for a second active signup', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const user = await newUser(api);
    const key = randomUUID();
    const first = await postSignup(api, user, event.id, {}, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await postSignup(api, user, event.id, {}, { 'Idempotency-Key': key });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);

    const second = await postSignup(api, user, event.id, {}, { 'Idempotency-Key': randomUUID() });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ type: '/problems/signup-exists' });
    expect(second.headers.get('location')).toBe(`/v1/signups/${first.body.id as string}`);

    await waitForStatus(api, user, first.body.id as string, 'confirmed');
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ confirmed: 1 });
  });

  it('answers one signup to concurrent retries with the same key, and 409 to concurrent second signups', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const user = await newUser(api);
    const key = randomUUID();
    const answers = await Promise.all([1, 2, 3, 4].map(() => postSignup(api, user, event.id, {}, { 'Idempotency-Key': key })));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202, 202]);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);

    const other = await newUser(api);
    const racing = await Promise.all([1, 2, 3].map(() => postSignup(api, other, event.id, {}, { 'Idempotency-Key': randomUUID() })));
    expect(racing.map((answer) => answer.status).sort()).toEqual([202, 409, 409]);
    await waitForStatus(api, user, answers[0]?.body.id as string, 'confirmed');
    const winner = racing.find((answer) => answer.status === 202);
    await waitForStatus(api, other, winner?.body.id as string, 'confirmed');
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 2 });
  });

  it('refuses a reused key for a different request with 422', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const user = await newUser(api);
    const key = randomUUID();
    expect((await postSignup(api, user, event.id, {}, { 'Idempotency-Key': key })).status).toBe(202);
    const different = await postSignup(api, user, event.id, { attendees: [adult('A'), adult('B')] }, { 'Idempotency-Key': key });
    expect(different.status).toBe(422);
    expect(different.body).toMatchObject({ type: '/problems/idempotency-key-reused' });
  });

  it.each([
    ['too young', { minAge: 8 }, { attendees: [child('Tiny', 5)] }, 'attendees.0'],
    ['wrong platform', { platforms: ['ios' as const, 'android' as const] }, { platform: 'web' }, 'platform'],
    ['party too large', { maxAttendeesPerSignup: 2 }, { attendees: [adult('A'), adult('B'), adult('C')] }, 'attendees'],
  ])('refuses a signup that is %s with 422 naming the field', async (_what, rules, body, field) => {
    const event = await insertEvent(orm, { capacity: 5, ...rules });
    const user = await newUser(api);
    const refused = await postSignup(api, user, event.id, body);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ type: '/problems/signup-not-eligible' });
    expect(refused.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('answers 409 sold-out when the event is full and has no waiting list', async () => {
    const event = await insertEvent(orm, { capacity: 1 });
    const first = await newUser(api);
    await waitForStatus(api, first, await signUp(api, first, event.id), 'confirmed');
    const late = await newUser(api);
    const refused = await postSignup(api, late, event.id);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: '/problems/sold-out' });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ confirmed: 1 });
  });
});

describe('cancellation of a free signup', () => {
  it('is allowed before the deadline: seats go back, a cancellation receipt is mailed', async () => {
    const event = await insertEvent(orm, { capacity: 3, cancellationDeadline: new Date(Date.now() + 86_400_000) });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    await waitForStatus(api, user, signupId, 'confirmed');

    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: { reason: 'ill' } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancellationReason: 'ill' });
    expect(await signupRow(orm, signupId)).toMatchObject({ status: 'cancelled', cancelledBy: 'participant' });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 0 });
    await waitForMail(user.email, subjects.cancellation);

    // Cancelling again changes nothing.
    const again = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: {} });
    expect(again.body).toMatchObject({ status: 'cancelled' });
  });

  it('is refused after the deadline with 409 cancellation-deadline-passed', async () => {
    const event = await insertEvent(orm, { capacity: 3, cancellationDeadline: new Date(Date.now() - 60_000) });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    await waitForStatus(api, user, signupId, 'confirmed');

    const refused = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: '/problems/cancellation-deadline-passed' });
    expect((await signupRow(orm, signupId)).status).toBe('confirmed');
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ confirmed: 1 });
  });
});

describe('admin removal', () => {
  it("lets an organizer of the event's market remove a participant, who is told by mail", async () => {
    const event = await insertEvent(orm, { capacity: 3, market: 'NO' });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    await waitForStatus(api, user, signupId, 'confirmed');

    const stranger = await api.token('organizer-se', ['organizer'], { markets: ['SE'] });
    const path = `/v1/admin/events/${event.id}/participants/${signupId}`;
    const hidden = await request(api.baseUrl, 'DELETE', path, { token: stranger, body: { reason: 'no' } });
    expect(hidden.status).toBe(404);
    expect((await signupRow(orm, signupId)).status).toBe('confirmed');

    const organizer = await api.token('organizer-no', ['organizer'], { markets: ['NO'] });
    const removed = await request(api.baseUrl, 'DELETE', path, { token: organizer, body: { reason: 'broke the house rules' } });
    expect(removed.status).toBe(200);
    expect(removed.body).toMatchObject({ status: 'cancelled', cancellationReason: 'broke the house rules' });
    expect(await signupRow(orm, signupId)).toMatchObject({ status: 'cancelled', cancelledBy: 'organizer' });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 0 });
    await waitForMail(user.email, subjects.cancellation);
  });
});
