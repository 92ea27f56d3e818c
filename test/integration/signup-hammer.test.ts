import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { request } from '../support/http.js';
import {
  countersAndRows,
  eventually,
  insertEvent,
  startTestStack,
  type RunningApi,
  type TestStack,
} from '../support/stack.js';

let orm: MikroORM;
let client: Client;
let api: RunningApi;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: true, env: { SIGNUP_HOLD_SECONDS: '60' } });
  ({ orm, client, api } = stack as Required<TestStack>);
});

afterAll(() => stack.stop());

describe('a burst of signups through the API and a real worker', () => {
  it('gives a 20-seat event to exactly 20 of 200 concurrent users, and leaves no flow behind', async () => {
    const event = await insertEvent(orm, { capacity: 20 });
    const users = Array.from({ length: 200 }, (_, index) => `hammer-${event.id.slice(0, 8)}-${index}`);
    const tokens = await Promise.all(users.map((user) => api.token(user)));

    const accepted = await Promise.all(
      tokens.map((token) => request(api.baseUrl, 'POST', `/v1/events/${event.id}/signups`, { token, body: { seats: 1 } })),
    );
    expect(accepted.map((answer) => answer.status).filter((status) => status !== 202)).toEqual([]);

    // Every user confirms as soon as the hold is placed; the workflow applies it, or answers rejected.
    const outcomes = await Promise.all(
      accepted.map((answer, index) =>
        request(api.baseUrl, 'POST', `/v1/signups/${answer.body.id as string}/confirm`, { token: tokens[index] }),
      ),
    );
    const statuses = outcomes.map((outcome) => (outcome.status === 200 ? (outcome.body.status as string) : `http-${outcome.status}`));
    const count = (status: string) => statuses.filter((s) => s === status).length;
    expect(count('confirmed')).toBe(20);
    // The rest were refused for want of seats: answered `rejected` when the confirmation reached the
    // workflow first, or 409 when the rejection came first.
    expect(count('rejected') + count('http-409')).toBe(180);
    const rows = await orm.em.getConnection().execute<{ status: string; n: string }[]>(
      'select status, count(*) as n from signup where event_id = ? group by status order by status',
      [event.id],
    );
    expect(rows.map((row) => [row.status, Number(row.n)])).toEqual([
      ['confirmed', 20],
      ['rejected', 180],
    ]);

    expect(await countersAndRows(orm, event.id)).toEqual({ capacity: 20, held: 0, confirmed: 20, heldRows: 0, confirmedRows: 20 });
    await eventually('every workflow to finish', async () => {
      let running = 0;
      for await (const _ of client.workflow.list({ query: `EventId = "${event.id}" AND ExecutionStatus = "Running"` })) running++;
      return running === 0 ? true : undefined;
    }, 30_000);
  });
});
