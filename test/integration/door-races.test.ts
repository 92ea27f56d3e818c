import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PromoCode } from '../../src/events/promo-code.entity.js';
import { TicketType } from '../../src/events/ticket-type.entity.js';
import { newUser, postSignup } from '../support/signup-steps.js';
import { countersAndRows, insertEvent, startTestStack, type TestStack } from '../support/stack.js';

// The door decides seats for concurrent requests (the one-statement fast path, and the transactional
// path for what the fast path refuses): never oversold, counters equal to rows, limits kept. No
// worker: the door's decision is the subject, and nothing moves the seats afterwards.
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { SIGNUP_HOLD_SECONDS: '600' } });
});

afterAll(() => stack.stop());

const USERS = 40;

/** Fires `USERS` signups at once, one per user; answers the statuses the API gave. */
async function burst(eventId: string, body: Record<string, unknown> = {}): Promise<{ status: number; signup?: string }[]> {
  const users = await Promise.all(Array.from({ length: USERS }, (_, index) => newUser(stack.api, { name: `door${index}` })));
  const answers = await Promise.all(users.map((user) => postSignup(stack.api, user, eventId, body)));
  return answers.map((answer) => ({ status: answer.status, ...(typeof answer.body.status === 'string' ? { signup: answer.body.status } : {}) }));
}

function tally(answers: { status: number; signup?: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.status === 202 ? (answer.signup ?? '?') : String(answer.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function expectCountersMatchRows(eventId: string) {
  const counters = await countersAndRows(stack.orm, eventId);
  expect(counters.held).toBe(counters.heldRows);
  expect(counters.confirmed).toBe(counters.confirmedRows);
  expect(counters.held + counters.confirmed).toBeLessThanOrEqual(counters.capacity);
  return counters;
}

describe('the door under concurrent requests', () => {
  it('holds exactly the seats there are for paid signups, and refuses the rest', async () => {
    const event = await insertEvent(stack.orm, { capacity: 7, ticketTypes: [{ code: 'standard', amountMinor: 9_000 }] });
    const answers = tally(await burst(event.id));
    expect(answers).toEqual({ held: 7, '409': USERS - 7 });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 7, confirmed: 0 });
  });

  it("keeps a ticket type's own capacity, and waitlists those it has no room for", async () => {
    const event = await insertEvent(stack.orm, {
      capacity: 30,
      waitlistEnabled: true,
      ticketTypes: [{ code: 'front', amountMinor: 9_000, capacity: 5 }],
    });
    const answers = tally(await burst(event.id, { ticketType: 'front' }));
    expect(answers).toEqual({ held: 5, waitlisted: USERS - 5 });
    await expectCountersMatchRows(event.id);
    const type = await stack.orm.em.fork().findOneOrFail(TicketType, { event: event.id, code: 'front' });
    expect(type.heldCount + type.confirmedCount).toBe(5);
  });

  it("never counts a promo code past its use limit, and gives those refused it nothing", async () => {
    const event = await insertEvent(stack.orm, { capacity: 30, ticketTypes: [{ code: 'standard', amountMinor: 9_000 }] });
    const em = stack.orm.em.fork();
    em.create(PromoCode, { id: randomUUID(), event: event.id, code: 'FEW', kind: 'percent', value: 50, maxUses: 4 });
    await em.flush();
    const answers = tally(await burst(event.id, { promoCode: 'FEW' }));
    expect(answers).toEqual({ held: 4, '422': USERS - 4 });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 4, confirmed: 0 });
    expect((await stack.orm.em.fork().findOneOrFail(PromoCode, { event: event.id, code: 'FEW' })).usedCount).toBe(4);
  });

  it('confirms exactly the seats there are for free signups, and waitlists the rest', async () => {
    const event = await insertEvent(stack.orm, { capacity: 9, waitlistEnabled: true });
    const answers = tally(await burst(event.id));
    expect(answers).toEqual({ confirmed: 9, waitlisted: USERS - 9 });
    expect(await expectCountersMatchRows(event.id)).toMatchObject({ held: 0, confirmed: 9 });
  });
});
