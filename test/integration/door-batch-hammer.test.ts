/**
 * The door's batches (src/signups/door-batcher.ts, placeAtDoor in src/signups/seats.ts) under a
 * hammer: a mixed burst (parties of 1-3, a limited paid ticket type with a promo code next to a free
 * unlimited one, the waiting list, the same user twice with one key and with two), then the same
 * with the API process killed (SIGKILL) in the middle of it and the clients retrying against a new
 * one. Never oversold (event and ticket type), counters equal rows, promo uses equal the signups
 * that hold them, no seat left free that a waitlisted party fits, every answer true to the rows.
 * The context reads of one event's waiting requests are one statement, each answered its own way.
 * No worker: the door's decision is the subject.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { EntityManager } from '@mikro-orm/core';
import pg from 'pg';
import { LiveEvent } from '../../src/events/event.entity.js';
import type { Principal } from '../../src/auth/principal.js';
import { mintDevToken } from '../../src/auth/tokens.js';
import { PromoCode } from '../../src/events/promo-code.entity.js';
import type { Problem } from '../../src/http/problem.js';
import { doorBatchClaims } from '../../src/observability/metrics.js';
import { createSignupService } from '../../src/signups/service.js';
import { createSignupWorkflowStarter } from '../../src/signups/workflow-starts.js';
import { spawnApi, type ChildApi } from '../support/api-child.js';
import { request, type JsonResponse } from '../support/http.js';
import { eventually, insertEvent, startTestStack, testConfig, type TestStack } from '../support/stack.js';

let stack: TestStack;
const children: ChildApi[] = [];

// Every client is one address, whose signup budget (shared in PostgreSQL with the other test files
// running meanwhile) these bursts would spend within the minute; the limits have their own test.
const ENV = { SIGNUP_HOLD_SECONDS: '600', SIGNUP_DOOR_BATCH_WINDOW_MS: '5', SIGNUP_DOOR_BATCH_MAX: '50', RATE_LIMIT_SIGNUP_PER_ADDRESS: '100000/60' };

beforeAll(async () => {
  stack = await startTestStack({ env: ENV });
});

afterAll(async () => {
  for (const child of children) await child.kill();
  await stack.stop();
});

const CAPACITY = 60;
const FRONT_CAPACITY = 12;
const PROMO_USES = 5;

/** One client's request: who, with which key and body. */
interface Attempt {
  user: string;
  key: string;
  body: Record<string, unknown>;
}

async function mixedEvent(): Promise<string> {
  const event = await insertEvent(stack.orm, {
    capacity: CAPACITY,
    waitlistEnabled: true,
    maxAttendeesPerSignup: 5,
    ticketTypes: [
      { code: 'front', amountMinor: 9_000, capacity: FRONT_CAPACITY },
      { code: 'standard' },
    ],
  });
  const em = stack.orm.em.fork();
  em.create(PromoCode, { id: randomUUID(), event: event.id, code: 'HALF', kind: 'percent', value: 50, maxUses: PROMO_USES });
  await em.flush();
  return event.id;
}

/** `users` signups: every fourth for the limited paid type (every eighth with the promo code), parties of 1-3. */
function attempts(prefix: string, users: number): Attempt[] {
  return Array.from({ length: users }, (_, index) => ({
    user: `${prefix}-${index}`,
    key: randomUUID(),
    body: {
      attendees: Array.from({ length: 1 + (index % 3) }, (_, n) => ({ firstName: `Kid${n}`, age: 9, kind: 'child' })),
      platform: 'web',
      ticketType: index % 4 === 0 ? 'front' : 'standard',
      ...(index % 8 === 0 ? { promoCode: 'HALF' } : {}),
    },
  }));
}

const tokens = new Map<string, string>();
async function tokenOf(user: string): Promise<string> {
  const known = tokens.get(user);
  if (known) return known;
  const token = await mintDevToken(testConfig(ENV).jwt, { sub: user, roles: ['participant'] });
  tokens.set(user, token);
  return token;
}

async function send(baseUrl: string, eventId: string, attempt: Attempt): Promise<JsonResponse> {
  return request(baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
    token: await tokenOf(attempt.user),
    headers: { 'idempotency-key': attempt.key },
    body: attempt.body,
  });
}

interface Row {
  id: string;
  user_id: string;
  status: string;
  seats: number;
  code: string;
  promo_code: string | null;
  attendees: number;
}

/** Everything the invariants are about, read after the burst. */
async function stateOf(eventId: string) {
  const db = stack.orm.em.getConnection();
  const [event] = await db.execute<{ capacity: number; held_count: number; confirmed_count: number }[]>(
    'select capacity, held_count, confirmed_count from event where id = ?',
    [eventId],
  );
  const types = await db.execute<{ code: string; capacity: number | null; held_count: number; confirmed_count: number }[]>(
    'select code, capacity, held_count, confirmed_count from ticket_type where event_id = ? order by code',
    [eventId],
  );
  const rows = await db.execute<Row[]>(
    `select s.id, s.user_id, s.status, s.seats, t.code, s.promo_code,
            (select count(*)::int from signup_attendee a where a.signup_id = s.id) as attendees
       from signup s join ticket_type t on t.id = s.ticket_type_id where s.event_id = ?`,
    [eventId],
  );
  const [promo] = await db.execute<{ used_count: number }[]>(`select used_count from promo_code where event_id = ? and code = 'HALF'`, [eventId]);
  return { event: event!, types, rows, promoUses: promo?.used_count ?? -1 };
}

/** The invariants every state of the event must keep, whatever happened to the process that wrote it. */
function expectConsistent(state: Awaited<ReturnType<typeof stateOf>>) {
  const seatsOf = (rows: Row[], status: string) => rows.filter((row) => row.status === status).reduce((sum, row) => sum + row.seats, 0);
  // Counters equal rows, and never beyond capacity: for the event and for each ticket type.
  expect({ held: state.event.held_count, confirmed: state.event.confirmed_count }).toEqual({
    held: seatsOf(state.rows, 'held'),
    confirmed: seatsOf(state.rows, 'confirmed'),
  });
  expect(state.event.held_count + state.event.confirmed_count).toBeLessThanOrEqual(state.event.capacity);
  for (const type of state.types) {
    const ofType = state.rows.filter((row) => row.code === type.code);
    expect({ code: type.code, held: type.held_count, confirmed: type.confirmed_count }).toEqual({
      code: type.code,
      held: seatsOf(ofType, 'held'),
      confirmed: seatsOf(ofType, 'confirmed'),
    });
    if (type.capacity !== null) expect(type.held_count + type.confirmed_count).toBeLessThanOrEqual(type.capacity);
  }
  // The promo code counts exactly the signups that use it, within its limit.
  expect(state.promoUses).toBe(state.rows.filter((row) => row.promo_code === 'HALF').length);
  expect(state.promoUses).toBeLessThanOrEqual(PROMO_USES);
  // Every signup has its attendees; nobody has two active signups.
  expect(state.rows.filter((row) => row.attendees !== row.seats)).toEqual([]);
  expect(new Set(state.rows.map((row) => row.user_id)).size).toBe(state.rows.length);
  // Nothing was freed during the burst, so a waitlisted party never fits in the seats left free
  // (a claim that did not fit is passed over, not the ones behind it).
  const eventFree = state.event.capacity - state.event.held_count - state.event.confirmed_count;
  const front = state.types.find((type) => type.code === 'front')!;
  const frontFree = (front.capacity ?? 0) - front.held_count - front.confirmed_count;
  const fitting = state.rows.filter(
    (row) => row.status === 'waitlisted' && row.seats <= eventFree && (row.code !== 'front' || row.seats <= frontFree),
  );
  expect(fitting).toEqual([]);
}

/** A 202's answer agrees with its row. */
function expectAnswersMatchRows(answers: (JsonResponse | undefined)[], rows: Row[]) {
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const answer of answers) {
    if (answer?.status !== 202) continue;
    expect({ id: answer.body.id, status: byId.get(answer.body.id as string)?.status }).toEqual({ id: answer.body.id, status: answer.body.status });
  }
}

async function batchesSoFar(): Promise<number> {
  const metric = await doorBatchClaims.get();
  return metric.values.find((value) => value.metricName === 'eventbook_door_batch_claims_count')?.value ?? 0;
}

describe('the door batcher under a hammer', () => {
  it("reads the context of one event's waiting requests in one statement, and answers each its own way", async () => {
    const event = await insertEvent(stack.orm, { capacity: 2 });
    const config = testConfig(ENV);
    const starter = createSignupWorkflowStarter({ orm: stack.orm, temporal: stack.client });
    const service = createSignupService({ orm: stack.orm, starter, taskQueue: `unserved-${randomUUID()}`, settings: config.signup });
    const principal = (userId: string): Principal => ({ userId, roles: ['participant'], markets: [] });
    const body = { attendees: [{ firstName: 'Kid', age: 9, kind: 'child' as const }], platform: 'web' as const };
    try {
      // The event fills: two signups, each with its Idempotency-Key.
      const first = [0, 1].map((index) => ({ user: `context-${randomUUID()}-${index}`, key: randomUUID() }));
      const placed = await Promise.all(first.map(({ user, key }) => service.requestSignup(principal(user), event.id, body, key)));
      expect(placed.map(({ signup }) => signup.status)).toEqual(['confirmed', 'confirmed']);

      // In one turn of the event loop: 30 newcomers and the first two again with their keys.
      const reads = jest.spyOn(pg.Client.prototype, 'query');
      const contextReads = () => reads.mock.calls.filter(([query]) => String(typeof query === 'string' ? query : (query as { text?: string }).text).includes('always_one_row')).length;
      // The refusals are judged on the batch's one copy of the event: none maps it for itself.
      const maps = jest.spyOn(EntityManager.prototype, 'map');
      const eventMaps = () => maps.mock.calls.filter(([entity]) => entity === LiveEvent).length;
      try {
        const newcomers = Array.from({ length: 30 }, (_, index) => service.requestSignup(principal(`context-new-${randomUUID()}-${index}`), event.id, body, randomUUID()));
        const again = first.map(({ user, key }) => service.requestSignup(principal(user), event.id, body, key));
        const answers = await Promise.allSettled(newcomers);
        const replays = await Promise.all(again);
        expect(contextReads()).toBe(1);
        expect(eventMaps()).toBe(1);
        expect(answers.map((answer) => (answer.status === 'rejected' ? (answer.reason as Problem).slug : 'accepted'))).toEqual(Array(30).fill('sold-out'));
        expect(replays.map(({ signup, replayed }) => ({ id: signup.id, replayed }))).toEqual(placed.map(({ signup }) => ({ id: signup.id, replayed: true })));
      } finally {
        reads.mockRestore();
        maps.mockRestore();
      }
    } finally {
      await starter.stop();
    }
  });

  it("keeps the contacts of the signups it places in the door's statement, not one statement each", async () => {
    const event = await insertEvent(stack.orm, { capacity: 20 });
    const config = testConfig(ENV);
    const starter = createSignupWorkflowStarter({ orm: stack.orm, temporal: stack.client });
    const service = createSignupService({ orm: stack.orm, starter, taskQueue: `unserved-${randomUUID()}`, settings: config.signup });
    const body = { attendees: [{ firstName: 'Kid', age: 9, kind: 'child' as const }], platform: 'web' as const };
    const users = Array.from({ length: 12 }, (_, index) => `contact-${randomUUID()}-${index}`);
    const statements = jest.spyOn(pg.Client.prototype, 'query');
    const texts = () => statements.mock.calls.map(([query]) => String(typeof query === 'string' ? query : (query as { text?: string }).text));
    try {
      const answers = await Promise.all(
        users.map((userId, index) =>
          service.requestSignup({ userId, roles: ['participant'], markets: [], profile: { email: `${userId}@example.test`, ...(index === 0 ? { locale: 'nb' } : {}) } }, event.id, body, randomUUID()),
        ),
      );
      expect(answers.map(({ signup }) => signup.status)).toEqual(users.map(() => 'confirmed'));
      const contactWrites = texts().filter((text) => text.includes('insert into user_contact'));
      // Every contact went with a door batch (which inserts the signups too); none alone.
      expect(contactWrites.length).toBeGreaterThan(0);
      expect(contactWrites.every((text) => text.includes('insert into signup '))).toBe(true);
    } finally {
      statements.mockRestore();
      await starter.stop();
    }
    const rows = await stack.orm.em
      .fork()
      .getConnection()
      .execute<{ user_id: string; email: string; locale: string | null }[]>(
        `select user_id, email, locale from user_contact where user_id in (select jsonb_array_elements_text(?::jsonb)) order by user_id`,
        [JSON.stringify(users)],
      );
    expect(rows).toEqual(
      [...users].sort().map((userId) => ({ user_id: userId, email: `${userId}@example.test`, locale: userId === users[0] ? 'nb' : null })),
    );
  });

  it('places a mixed burst in batches without overselling anything, each request answered its own', async () => {
    const eventId = await mixedEvent();
    const burst = attempts(`hammer-${eventId.slice(0, 8)}`, 240);
    // The same request twice (a client's retry racing the first), and a second signup with a new key.
    const sameKey = burst.filter((_, index) => index % 4 === 1).slice(0, 15);
    const newKey = burst.filter((_, index) => index % 4 === 2).slice(0, 15).map((attempt) => ({ ...attempt, key: randomUUID() }));
    await Promise.all([...burst, ...sameKey, ...newKey].map((attempt) => tokenOf(attempt.user)));
    const batchesBefore = await batchesSoFar();

    const answers = await Promise.all([...burst, ...sameKey, ...newKey].map((attempt) => send(stack.api.baseUrl, eventId, attempt)));
    const batches = (await batchesSoFar()) - batchesBefore;

    const [main, retries, seconds] = [answers.slice(0, 240), answers.slice(240, 255), answers.slice(255)];
    const unexpected = answers.filter((answer) => ![202, 409, 422].includes(answer.status));
    expect(unexpected.map((answer) => `${answer.status} ${JSON.stringify(answer.body)}`)).toEqual([]);
    // A 422 is the promo code used up, only for those who sent it.
    burst.forEach((attempt, index) => {
      if (main[index]?.status === 422) expect(attempt.body.promoCode).toBe('HALF');
    });
    // The same key answers the same signup; a second key for an active signup is 409 (one of the two won).
    sameKey.forEach((attempt, index) => {
      const first = main[burst.indexOf(attempt)];
      expect(retries[index]?.status).toBe(first?.status);
      if (first?.status === 202) expect(retries[index]?.body.id).toBe(first.body.id);
    });
    newKey.forEach((attempt, index) => {
      const first = main[burst.findIndex((other) => other.user === attempt.user)];
      expect([first?.status, seconds[index]?.status].sort()).toEqual([202, 409]);
    });

    const state = await stateOf(eventId);
    expectConsistent(state);
    expectAnswersMatchRows(answers, state.rows);
    expect(new Set(answers.filter((answer) => answer.status === 202).map((answer) => answer.body.id)).size).toBe(state.rows.length);
    // The burst filled the event (demand is several times the capacity) and the front's own limit.
    expect(state.event.held_count + state.event.confirmed_count).toBeGreaterThan(CAPACITY - 3);
    expect(state.types.find((type) => type.code === 'front')!.held_count).toBeGreaterThan(FRONT_CAPACITY - 3);
    expect(state.promoUses).toBe(PROMO_USES);
    // And it went in batches: far fewer door transactions than signups.
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(answers.length / 2);
  });

  it('keeps every invariant when the API process is killed mid-burst, and the clients retrying get one signup each', async () => {
    const eventId = await mixedEvent();
    const burst = attempts(`crash-${eventId.slice(0, 8)}`, 300);
    await Promise.all(burst.map((attempt) => tokenOf(attempt.user)));
    const env = { ...ENV, TEMPORAL_TASK_QUEUE: `door-crash-${randomUUID()}` };
    const first = await spawnApi(env);
    children.push(first);

    // All at once; the process is killed once a sixth of the answers are in, with batches in flight.
    let answered = 0;
    let killing: Promise<void> | undefined;
    const answers = await Promise.all(
      burst.map(async (attempt) => {
        try {
          const answer = await send(first.baseUrl, eventId, attempt);
          if (++answered >= burst.length / 6) killing ??= first.kill();
          return answer;
        } catch {
          return undefined; // the connection died with the process
        }
      }),
    );
    await (killing ?? first.kill());
    const lost = answers.filter((answer) => answer === undefined).length;
    expect(lost).toBeGreaterThan(0);
    expect(answers.filter((answer) => answer !== undefined && ![202, 409, 422].includes(answer.status))).toEqual([]);
    // What the dead process committed is consistent on its own: its batch in flight left nothing.
    expectConsistent(await stateOf(eventId));

    // The clients retry what got no answer (same key, same body) against a new process, and one
    // in five of those that did get an answer asks again too: each gets the signup it made.
    const second = await spawnApi(env);
    children.push(second);
    const retried = await Promise.all(
      burst.map((attempt, index) => (answers[index] === undefined || index % 5 === 0 ? send(second.baseUrl, eventId, attempt) : Promise.resolve(undefined))),
    );
    expect(retried.filter((answer) => answer !== undefined && ![202, 409, 422].includes(answer.status))).toEqual([]);
    burst.forEach((_, index) => {
      const before = answers[index];
      const after = retried[index];
      if (before?.status === 202 && after) expect({ status: after.status, id: after.body.id }).toEqual({ status: 202, id: before.body.id });
    });

    const state = await stateOf(eventId);
    expectConsistent(state);
    const final = burst.map((_, index) => retried[index] ?? answers[index]);
    expectAnswersMatchRows(final, state.rows);
    // Every request has its answer now; every accepted one is one row, and only those.
    expect(final.filter((answer) => answer === undefined)).toEqual([]);
    const accepted = final.filter((answer) => answer?.status === 202);
    expect(new Set(accepted.map((answer) => answer!.body.id)).size).toBe(state.rows.length);
    expect(state.promoUses).toBe(PROMO_USES);
  });

  it('keeps every invariant when signups confirmed at the door are cancelled during a burst, their seats offered to the waiting list first', async () => {
    // Free single seats, a waiting list that is empty when the cancels begin: a cancel made while
    // nobody waits is the ledger's one statement, one made with somebody in line its transaction
    // (which offers the seat), and one that raced the first to join the line is caught after it.
    const seats = 40;
    const event = await insertEvent(stack.orm, { capacity: seats, waitlistEnabled: true });
    const single = (prefix: string, users: number): Attempt[] =>
      Array.from({ length: users }, (_, index) => ({ user: `${prefix}-${index}`, key: randomUUID(), body: { attendees: [{ firstName: 'Kid', age: 9, kind: 'child' }], platform: 'web' } }));
    const first = single(`door-cancel-a-${event.id.slice(0, 8)}`, seats);
    const later = single(`door-cancel-b-${event.id.slice(0, 8)}`, 60);
    await Promise.all([...first, ...later].map((attempt) => tokenOf(attempt.user)));
    const filled = await Promise.all(first.map((attempt) => send(stack.api.baseUrl, event.id, attempt)));
    expect(filled.map((answer) => answer.body.status)).toEqual(first.map(() => 'confirmed'));
    const db = stack.orm.em.getConnection();
    await eventually('every row under a door-confirmations flow', async () => {
      const [row] = await db.execute<{ n: number }[]>(
        `select count(*)::int as n from signup_workflow_start w join signup s on s.id = w.signup_id where s.event_id = ? and w.door_flow_id is not null and w.next_attempt_at = 'infinity'`,
        [event.id],
      );
      return row?.n === seats ? true : undefined;
    });

    // Half of them cancel while 60 newcomers sign up: half of the cancels with the first newcomers,
    // the rest once some of those are in line.
    const leaving = first.slice(0, seats / 2).map((attempt, index) => ({ attempt, id: filled[index]!.body.id as string }));
    const cancel = async ({ attempt, id }: (typeof leaving)[number]) =>
      request(stack.api.baseUrl, 'POST', `/v1/signups/${id}/cancel`, { token: await tokenOf(attempt.user), body: {} });
    let answered = 0;
    let inLine!: () => void;
    const someInLine = new Promise<void>((resolve) => (inLine = resolve));
    const [early, late, newcomers] = await Promise.all([
      Promise.all(leaving.slice(0, seats / 4).map(cancel)),
      someInLine.then(() => Promise.all(leaving.slice(seats / 4).map(cancel))),
      Promise.all(
        later.map(async (attempt) => {
          const answer = await send(stack.api.baseUrl, event.id, attempt);
          if (++answered === seats / 2) inLine();
          return answer;
        }),
      ),
    ]);
    const cancels = [...early, ...late];
    expect(cancels.map((answer) => `${answer.status} ${String(answer.body.status)}`)).toEqual(leaving.map(() => '200 cancelled'));
    expect(newcomers.filter((answer) => answer.status !== 202).map((answer) => `${answer.status} ${JSON.stringify(answer.body)}`)).toEqual([]);

    const [counters] = await db.execute<{ held_count: number; confirmed_count: number }[]>('select held_count, confirmed_count from event where id = ?', [event.id]);
    const rows = await db.execute<{ status: string; n: number }[]>('select status, count(*)::int as n from signup where event_id = ? group by status', [event.id]);
    const count = (status: string) => rows.find((row) => row.status === status)?.n ?? 0;
    // Counters equal rows, never beyond capacity; the cancelled are out, and no seat is left free while somebody waits.
    expect({ held: counters!.held_count, confirmed: counters!.confirmed_count }).toEqual({ held: count('held'), confirmed: count('confirmed') });
    expect(count('cancelled')).toBe(seats / 2);
    expect(count('held') + count('confirmed')).toBe(seats);
    expect(count('waitlisted')).toBe(later.length - seats / 2);
    // Each cancelled row now starts its workflow as cancelled (or already has: the row is gone).
    const kept = await db.execute<{ status: string; cancelled: boolean }[]>(
      `select w.status, w.input -> 'cancelledAtDoor' is not null as cancelled from signup_workflow_start w
        where w.signup_id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
      [JSON.stringify(leaving.map(({ id }) => id))],
    );
    expect(kept.filter((row) => row.status !== 'cancelled' || !row.cancelled)).toEqual([]);
  });
});
