import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import pg from 'pg';
import { createSeatActivities } from '../../activities/seats.js';
import type { MikroORM } from '../../src/db/orm.js';
import { Attendee } from '../../src/signups/attendee.entity.js';
import { TicketType } from '../../src/events/ticket-type.entity.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { countersAndRows, insertEvent, openTestOrm } from '../support/stack.js';

let orm: MikroORM;
let activities: ReturnType<typeof createSeatActivities>;

beforeAll(async () => {
  orm = await openTestOrm();
  activities = createSeatActivities(orm);
});

afterAll(async () => {
  await orm.close(true);
});

async function requestSignups(eventId: string, count: number, seats = 1, ticketType?: string): Promise<string[]> {
  const em = orm.em.fork();
  const ids = Array.from({ length: count }, () => randomUUID());
  for (const id of ids) {
    em.create(Signup, { id, event: eventId, userId: `user-${id}`, seats, workflowId: `signup-${id}`, ticketType: ticketType ?? null });
  }
  await em.flush();
  return ids;
}

async function statusOf(signupId: string) {
  return (await orm.em.fork().findOneOrFail(Signup, signupId)).status;
}

async function withWaitlist(capacity: number) {
  const event = await insertEvent(orm, { capacity });
  await orm.em.getConnection().execute('update "event" set waitlist_enabled = true where id = ?', [event.id]);
  return event;
}

describe('seat holds against the real database', () => {
  it('lets exactly capacity holds through when 50 race for 10 seats', async () => {
    const event = await insertEvent(orm, { capacity: 10 });
    const ids = await requestSignups(event.id, 50);

    const outcomes = await Promise.all(ids.map((signupId) => activities.holdSeats({ signupId, holdSeconds: 60, allowWaitlist: true })));

    expect(outcomes.filter((outcome) => outcome.status === 'held')).toHaveLength(10);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected' && outcome.reason === 'sold_out')).toHaveLength(40);
    expect(await countersAndRows(orm, event.id)).toEqual({
      capacity: 10,
      held: 10,
      confirmed: 0,
      heldRows: 10,
      confirmedRows: 0,
    });
  });

  it('never splits a party: a party larger than the seats left is refused whole', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const [first, second] = await requestSignups(event.id, 2, 3);

    expect((await activities.holdSeats({ signupId: first!, holdSeconds: 60, allowWaitlist: true })).status).toBe('held');
    expect(await activities.holdSeats({ signupId: second!, holdSeconds: 60, allowWaitlist: true })).toEqual({
      status: 'rejected',
      reason: 'sold_out',
      offers: [],
    });
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 3, heldRows: 3 });
  });

  it('moves held seats to confirmed or back, once, however often the activity is retried', async () => {
    const event = await insertEvent(orm, { capacity: 4 });
    const [toConfirm, toRelease] = await requestSignups(event.id, 2, 2);

    for (const signupId of [toConfirm!, toRelease!]) await activities.holdSeats({ signupId, holdSeconds: 60, allowWaitlist: true });
    const confirmations = await Promise.all([1, 2, 3].map(() => activities.confirmSeats({ signupId: toConfirm!, paid: false })));
    const releases = await Promise.all([1, 2, 3].map(() => activities.releaseHold({ signupId: toRelease!, offerSeconds: 60 })));

    expect(confirmations.map((move) => move.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
    expect(releases.map((move) => move.status)).toEqual(['released', 'released', 'released']);
    // A late release of a confirmed signup, or a repeated hold, changes nothing.
    expect((await activities.releaseHold({ signupId: toConfirm!, offerSeconds: 60 })).status).toBe('confirmed');
    expect((await activities.holdSeats({ signupId: toRelease!, holdSeconds: 60, allowWaitlist: true })).status).toBe('released');
    expect(await countersAndRows(orm, event.id)).toEqual({
      capacity: 4,
      held: 0,
      confirmed: 2,
      heldRows: 0,
      confirmedRows: 2,
    });
  });

  it('refuses holds on an event that is not published', async () => {
    const event = await insertEvent(orm, { capacity: 4, status: 'draft' });
    const [signupId] = await requestSignups(event.id, 1);
    expect(await activities.holdSeats({ signupId: signupId!, holdSeconds: 60, allowWaitlist: true })).toEqual({
      status: 'rejected',
      reason: 'event_not_open',
      offers: [],
    });
  });

  it('has the database itself refuse counters beyond capacity', async () => {
    const event = await insertEvent(orm, { capacity: 2 });
    await expect(
      orm.em.getConnection().execute('update "event" set confirmed_count = 3 where id = ?', [event.id]),
    ).rejects.toThrow(/event_seats_within_capacity/);
  });

  it('puts signups on the waitlist when full, and hands freed seats to the head in the same transaction', async () => {
    const event = await withWaitlist(2);
    const [first, second, third] = await requestSignups(event.id, 3);
    await activities.holdSeats({ signupId: first!, holdSeconds: 60, allowWaitlist: true });
    await activities.confirmSeats({ signupId: first!, paid: false });
    await activities.holdSeats({ signupId: second!, holdSeconds: 60, allowWaitlist: true });
    expect((await activities.holdSeats({ signupId: third!, holdSeconds: 60, allowWaitlist: true })).status).toBe('waitlisted');

    const cancelled = await activities.cancelSignup({ signupId: first!, by: 'participant', offerSeconds: 30 });
    expect(cancelled).toMatchObject({ status: 'cancelled', previousStatus: 'confirmed' });
    expect(cancelled.offers).toEqual([expect.objectContaining({ signupId: third!, workflowId: `signup-${third!}` })]);
    expect(await statusOf(third!)).toBe('held');
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 2, heldRows: 2, confirmed: 0, confirmedRows: 0 });

    // The offer runs out: the seat goes back and, with nobody waiting, stays free.
    const expired = await activities.releaseHold({ signupId: third!, offerSeconds: 30 });
    expect(expired).toMatchObject({ status: 'released', offers: [] });
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 1, heldRows: 1 });
  });

  it('offers freed seats to the first in line whose party fits, and keeps the larger party queued', async () => {
    const event = await withWaitlist(2);
    const [holder] = await requestSignups(event.id, 1, 2);
    const [party] = await requestSignups(event.id, 1, 3);
    const [single] = await requestSignups(event.id, 1, 1);
    await activities.holdSeats({ signupId: holder!, holdSeconds: 60, allowWaitlist: true });
    for (const signupId of [party!, single!]) await activities.holdSeats({ signupId, holdSeconds: 60, allowWaitlist: true });

    const released = await activities.releaseHold({ signupId: holder!, offerSeconds: 30 });
    expect(released.offers.map((offer) => offer.signupId)).toEqual([single!]);
    expect(await statusOf(party!)).toBe('waitlisted');
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 1, heldRows: 1 });
  });

  it('holds within a ticket type\'s own capacity and moves its counters with the event\'s', async () => {
    const event = await insertEvent(orm, { capacity: 10 });
    const em = orm.em.fork();
    const ticketType = em.create(TicketType, { id: randomUUID(), event: event.id, code: 'child', names: { en: 'Child' }, capacity: 2 });
    await em.flush();
    const ids = await requestSignups(event.id, 3, 1, ticketType.id);
    const outcomes = await Promise.all(ids.map((signupId) => activities.holdSeats({ signupId, holdSeconds: 60, allowWaitlist: false })));
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['held', 'held', 'rejected']);
    const held = ids.filter((_, index) => outcomes[index]?.status === 'held');
    await activities.confirmSeats({ signupId: held[0]!, paid: false });
    await activities.cancelSignup({ signupId: held[1]!, by: 'organizer', offerSeconds: 30 });
    const [counters] = await orm.em
      .getConnection()
      .execute<{ held_count: number; confirmed_count: number }[]>('select held_count, confirmed_count from ticket_type where id = ?', [ticketType.id]);
    expect(counters).toEqual({ held_count: 0, confirmed_count: 1 });
    // The event's counters were given back too (the rejected hold undid its ticket-type increment).
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 1, heldRows: 0, confirmedRows: 1 });
  });

  it('issues a ticket code to every attendee on confirmation, once', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const [signupId] = await requestSignups(event.id, 1, 2);
    const em = orm.em.fork();
    for (const firstName of ['Ada', 'Ola']) {
      em.create(Attendee, { id: randomUUID(), signup: signupId!, firstName, age: 9, kind: 'child' });
    }
    await em.flush();
    await activities.holdSeats({ signupId: signupId!, holdSeconds: 60, allowWaitlist: true });
    await activities.confirmSeats({ signupId: signupId!, paid: false });
    const codes = async () => (await orm.em.fork().find(Attendee, { signup: signupId! })).map((a) => a.ticketCode).sort();
    const first = await codes();
    expect(first).toHaveLength(2);
    for (const code of first) expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{20}$/);
    await activities.confirmSeats({ signupId: signupId!, paid: false });
    expect(await codes()).toEqual(first);
  });

  it('confirms with the event row locked for its counters and the commit only: the signup and its tickets are written first', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const em = orm.em.fork();
    const ticketType = em.create(TicketType, { id: randomUUID(), event: event.id, code: 'adult', names: { en: 'Adult' }, capacity: 5 });
    await em.flush();
    const [signupId] = await requestSignups(event.id, 1, 1, ticketType.id);
    await orm.em.fork().insert(Attendee, { id: randomUUID(), signup: signupId!, firstName: 'Ada', age: 9, kind: 'child' });
    await activities.holdSeats({ signupId: signupId!, holdSeconds: 60, allowWaitlist: true });
    const statements = jest.spyOn(pg.Client.prototype, 'query');
    try {
      expect((await activities.confirmSeats({ signupId: signupId!, paid: true })).status).toBe('confirmed');
      const texts = statements.mock.calls.map(([query]) => String(typeof query === 'string' ? query : (query as { text?: string }).text).trim().toLowerCase());
      const counters = texts.findIndex((text) => text.includes('update "event"'));
      expect(counters).toBeGreaterThan(0);
      // After the event row's lock: the commit (and, inside an activity, the move's record before it), nothing else.
      expect(texts.slice(counters + 1)).toEqual(['commit']);
      expect(texts.slice(0, counters).some((text) => text.startsWith('update "signup_attendee"'))).toBe(true);
    } finally {
      statements.mockRestore();
    }
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 1, heldRows: 0, confirmedRows: 1 });
  });

  it('reinstates a late payment only while a seat is free', async () => {
    const event = await insertEvent(orm, { capacity: 1 });
    const [late, other] = await requestSignups(event.id, 2);
    await activities.holdSeats({ signupId: late!, holdSeconds: 60, allowWaitlist: false });
    await activities.releaseHold({ signupId: late!, offerSeconds: 30 });
    await activities.holdSeats({ signupId: other!, holdSeconds: 60, allowWaitlist: false });
    expect((await activities.reinstateAfterLatePayment({ signupId: late! })).status).toBe('released');
    await activities.releaseHold({ signupId: other!, offerSeconds: 30 });
    expect((await activities.reinstateAfterLatePayment({ signupId: late! })).status).toBe('held');
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 1, heldRows: 1 });
  });

  it('moves seats of one ticket type concurrently in both directions without deadlocking', async () => {
    const event = await insertEvent(orm, { capacity: 200 });
    const em = orm.em.fork();
    const ticketType = em.create(TicketType, { id: randomUUID(), event: event.id, code: 'child', names: { en: 'Child' }, capacity: 200 });
    await em.flush();
    const heldIds = await requestSignups(event.id, 40, 1, ticketType.id);
    for (const signupId of heldIds) await activities.holdSeats({ signupId, holdSeconds: 60, allowWaitlist: false });
    const newIds = await requestSignups(event.id, 40, 1, ticketType.id);
    // Holds lock the counters while confirmations and releases move them the other way.
    const moves = await Promise.allSettled([
      ...newIds.map((signupId) => activities.holdSeats({ signupId, holdSeconds: 60, allowWaitlist: false })),
      ...heldIds.map((signupId, index) =>
        index % 2 === 0 ? activities.confirmSeats({ signupId, paid: false }) : activities.releaseHold({ signupId, offerSeconds: 30 }),
      ),
    ]);
    expect(moves.filter((move) => move.status === 'rejected').map((move) => String(move.reason))).toEqual([]);
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 40, heldRows: 40, confirmed: 20, confirmedRows: 20 });
  });
});
