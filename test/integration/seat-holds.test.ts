import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createActivities } from '../../activities/index.js';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { countersAndRows, insertEvent, openTestOrm } from '../support/stack.js';

let orm: MikroORM;
let activities: ReturnType<typeof createActivities>;

beforeAll(async () => {
  orm = await openTestOrm();
  activities = createActivities({ orm });
});

afterAll(async () => {
  await orm.close(true);
});

async function requestSignups(eventId: string, count: number, seats = 1): Promise<string[]> {
  const em = orm.em.fork();
  const ids = Array.from({ length: count }, () => randomUUID());
  for (const id of ids) {
    em.create(Signup, { id, event: eventId, userId: `user-${id}`, seats, workflowId: `signup-${id}` });
  }
  await em.flush();
  return ids;
}

describe('seat holds against the real database', () => {
  it('lets exactly capacity holds through when 50 race for 10 seats', async () => {
    const event = await insertEvent(orm, { capacity: 10 });
    const ids = await requestSignups(event.id, 50);

    const outcomes = await Promise.all(ids.map((signupId) => activities.holdSeats({ signupId, holdSeconds: 60 })));

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

    expect((await activities.holdSeats({ signupId: first!, holdSeconds: 60 })).status).toBe('held');
    expect(await activities.holdSeats({ signupId: second!, holdSeconds: 60 })).toEqual({
      status: 'rejected',
      reason: 'sold_out',
    });
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 3, heldRows: 3 });
  });

  it('moves held seats to confirmed or back, once, however often the activity is retried', async () => {
    const event = await insertEvent(orm, { capacity: 4 });
    const [toConfirm, toRelease] = await requestSignups(event.id, 2, 2);

    for (const signupId of [toConfirm!, toRelease!]) await activities.holdSeats({ signupId, holdSeconds: 60 });
    const confirmations = await Promise.all([1, 2, 3].map(() => activities.confirmSeats({ signupId: toConfirm! })));
    const releases = await Promise.all([1, 2, 3].map(() => activities.releaseHold({ signupId: toRelease! })));

    expect(confirmations).toEqual(['confirmed', 'confirmed', 'confirmed']);
    expect(releases).toEqual(['released', 'released', 'released']);
    // A late release of a confirmed signup, or a repeated hold, changes nothing.
    expect(await activities.releaseHold({ signupId: toConfirm! })).toBe('confirmed');
    expect((await activities.holdSeats({ signupId: toRelease!, holdSeconds: 60 })).status).toBe('released');
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
    expect(await activities.holdSeats({ signupId: signupId!, holdSeconds: 60 })).toEqual({
      status: 'rejected',
      reason: 'event_not_open',
    });
  });

  it('has the database itself refuse counters beyond capacity', async () => {
    const event = await insertEvent(orm, { capacity: 2 });
    await expect(
      orm.em.getConnection().execute('update "event" set confirmed_count = 3 where id = ?', [event.id]),
    ).rejects.toThrow(/event_seats_within_capacity/);
  });
});
