import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { eventFinishedSignal, signupProgressQuery } from '../../src/temporal/contract.js';
import type { signupWorkflow } from '../../workflows/signup.js';
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
  // A workflow per free signup: the search attributes of each are checked against its row below
  // (grouped door confirmations: test/integration/door-confirmations.test.ts, door-batch-hammer.test.ts).
  stack = await startTestStack({ worker: true, env: { SIGNUP_DOOR_CONFIRMATIONS: 'each' } });
  ({ orm, client, api } = stack as Required<TestStack>);
});

afterAll(() => stack.stop());

const USERS = 200;
const SEATS = 20;

/** Runs `task` over `items`, at most `limit` at a time (so 200 describes do not queue behind each other all at once). */
async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index] as T);
      }
    }),
  );
  return results;
}

interface SignupRow {
  id: string;
  status: string;
  workflow_id: string;
}

async function signupRows(eventId: string): Promise<SignupRow[]> {
  return orm.em
    .getConnection()
    .execute<SignupRow[]>('select id, status, workflow_id from signup where event_id = ? order by id', [eventId]);
}

/**
 * Where a workflow stands: the status its query answers, and whether it is at rest (running, with
 * no activity and no workflow task pending: only a signal or an update can move it on).
 */
async function workflowState(workflowId: string): Promise<{ status: string; atRest: boolean }> {
  const handle = client.workflow.getHandle(workflowId);
  // The answers came at the commit; a workflow still in the outbox is simply not at rest yet.
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  });
  if (!description) return { status: 'not started', atRest: false };
  const raw = description.raw;
  const atRest =
    description.status.name === 'RUNNING' && (raw.pendingActivities ?? []).length === 0 && !raw.pendingWorkflowTask;
  const progress = await handle.query(signupProgressQuery);
  return { status: progress.status, atRest };
}

describe('a burst of signups through the API and a real worker', () => {
  it('gives a free 20-seat event with a waitlist to exactly 20 of 200 concurrent users, and waitlists the rest', async () => {
    const event = await insertEvent(orm, { capacity: SEATS });
    await orm.em.getConnection().execute('update event set waitlist_enabled = true where id = ?', [event.id]);
    const users = Array.from({ length: USERS }, (_, index) => `hammer-${event.id.slice(0, 8)}-${index}`);
    const tokens = await Promise.all(users.map((user) => api.token(user)));

    // All 200 at once: nothing is refused up front, since a full event with a waitlist still takes signups.
    const accepted = await Promise.all(
      tokens.map((token) =>
        request(api.baseUrl, 'POST', `/v1/events/${event.id}/signups`, {
          token,
          headers: { 'idempotency-key': randomUUID() },
          body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
        }),
      ),
    );
    expect(accepted.map((answer) => answer.status).filter((status) => status !== 202)).toEqual([]);
    // The seat is decided in the request's own transaction: exactly the capacity is confirmed at once (free).
    const answered = accepted.map((answer) => answer.body.status as string);
    expect(answered.filter((status) => status === 'confirmed')).toHaveLength(SEATS);
    expect(answered.filter((status) => status === 'waitlisted')).toHaveLength(USERS - SEATS);
    expect(new Set(accepted.map((answer) => answer.body.id)).size).toBe(USERS);

    // With the seats gone the rest joined the waitlist; every workflow must come to rest around that.
    const settled = await eventually(
      'every signup to be confirmed or waitlisted',
      async () => {
        const rows = await signupRows(event.id);
        return rows.length === USERS && rows.every((row) => row.status === 'confirmed' || row.status === 'waitlisted')
          ? rows
          : undefined;
      },
      40_000,
    );
    const byStatus = (status: string) => settled.filter((row) => row.status === status);
    expect(byStatus('confirmed')).toHaveLength(SEATS);
    expect(byStatus('waitlisted')).toHaveLength(USERS - SEATS);
    expect(await countersAndRows(orm, event.id)).toEqual({
      capacity: SEATS,
      held: 0,
      confirmed: SEATS,
      heldRows: 0,
      confirmedRows: SEATS,
    });

    // No workflow stuck: each one has reached the state its row shows and waits there for a signal
    // (confirmed ones for the end of the event, waitlisted ones for an offer). The confirmation
    // e-mail step may still be finishing when the row turns confirmed, hence `eventually`. Each
    // round asks only those not yet at rest (a query is a task for the worker too), and the bound
    // leaves room for a CI machine busy with other files: this took 9 s alone, over 20 s beside them.
    let notAtRest = settled;
    await eventually(
      'every workflow to rest in the status of its row',
      async () => {
        const states = await inBatches(notAtRest, 20, (row) => workflowState(row.workflow_id));
        notAtRest = notAtRest.filter((row, index) => states[index]?.status !== row.status || !states[index]?.atRest);
        return notAtRest.length === 0 ? true : undefined;
      },
      60_000,
    );
    // The visibility store agrees (it lags the workflows a little).
    await eventually('the search attributes to catch up', async () => {
      const [confirmed, waitlisted] = await Promise.all(
        ['confirmed', 'waitlisted'].map(async (status) => {
          const counted = await client.workflow.count(
            `EventId = "${event.id}" AND SignupStatus = "${status}" AND ExecutionStatus = "Running"`,
          );
          return counted.count;
        }),
      );
      return confirmed === SEATS && waitlisted === USERS - SEATS ? true : undefined;
    });
    const [outbox] = await orm.em.getConnection().execute<{ left: number }[]>(
      'select count(*)::int as left from signup_workflow_start s join signup on signup.id = s.signup_id where signup.event_id = ?',
      [event.id],
    );
    expect(outbox?.left).toBe(0);
    // Nothing changed while we looked.
    expect((await signupRows(event.id)).map((row) => row.status)).toEqual(settled.map((row) => row.status));

    // Clean up: the confirmed flows end as they would after the event; the waitlisted ones are
    // terminated (an offer or the waitlist closing would write to their rows).
    await inBatches(byStatus('confirmed'), 20, (row) => client.workflow.getHandle(row.workflow_id).signal(eventFinishedSignal));
    await inBatches(byStatus('waitlisted'), 20, (row) =>
      client.workflow.getHandle(row.workflow_id).terminate('signup-hammer test cleanup'),
    );
    const results = await inBatches(byStatus('confirmed'), 20, (row) => client.workflow.getHandle<typeof signupWorkflow>(row.workflow_id).result());
    expect(results.map((result) => result.status)).toEqual(byStatus('confirmed').map(() => 'confirmed'));
    await eventually('no workflow of the event to be running', async () => {
      const running = await client.workflow.count(`EventId = "${event.id}" AND ExecutionStatus = "Running"`);
      return running.count === 0 ? true : undefined;
    });
  });
});
