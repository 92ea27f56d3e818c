import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { createSignupWorkflowStarter } from '../../src/signups/workflow-starts.js';
import { signupStatusQuery, workflowIds } from '../../src/temporal/contract.js';
import { request } from '../support/http.js';
import {
  countersAndRows,
  eventually,
  insertEvent,
  startTestApi,
  startTestStack,
  type RunningApi,
  type TestStack,
} from '../support/stack.js';

let orm: MikroORM;
let api: RunningApi;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: true, env: { SIGNUP_HOLD_SECONDS: '2' } });
  ({ orm, api } = stack as Required<TestStack>);
});

afterAll(() => stack.stop());

/** Signups of one user: test files run in parallel on one database, so counts stay per user. */
async function signupCount(userId: string): Promise<number> {
  return orm.em.fork().count(Signup, { userId });
}

/** A request body for a party of `size` children. */
function party(size: number) {
  return {
    attendees: Array.from({ length: size }, (_, index) => ({ firstName: `Kid${index}`, age: 10, kind: 'child' })),
    platform: 'web',
  };
}

async function statusOf(signupId: string, token: string): Promise<string> {
  const response = await request(api.baseUrl, 'GET', `/v1/signups/${signupId}`, { token });
  return response.body.status as string;
}

describe('walking skeleton through the API', () => {
  it('accepts a free signup and confirms it in the same request', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const token = await api.token('alice');

    const accepted = await request(api.baseUrl, 'POST', `/v1/events/${event.id}/signups`, { token, body: party(2) });
    expect(accepted.status).toBe(202);
    const signupId = accepted.body.id as string;
    expect(accepted.headers.get('location')).toBe(`/v1/signups/${signupId}`);
    expect(accepted.body).toMatchObject({ eventId: event.id, seats: 2, status: 'confirmed', price: { amountMinor: 0 } });
    expect((accepted.body.attendees as { ticketCode: string | null }[]).map((attendee) => attendee.ticketCode)).toEqual([
      expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{20}$/),
      expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{20}$/),
    ]);

    await eventually('the confirmation', async () => ((await statusOf(signupId, token)) === 'confirmed' ? true : undefined));
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 2, confirmedRows: 2 });
    // Confirming a confirmed signup changes nothing and answers the same.
    const confirm = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/confirm`, { token });
    expect(confirm.body).toMatchObject({ status: 'confirmed' });
  });

  it("shows a signup to its owner and to admins, and answers 404 to anyone else", async () => {
    const event = await insertEvent(orm);
    const owner = await api.token('carol');
    const accepted = await request(api.baseUrl, 'POST', `/v1/events/${event.id}/signups`, {
      token: owner,
      body: party(1),
    });
    const path = `/v1/signups/${accepted.body.id as string}`;

    expect((await request(api.baseUrl, 'GET', path, { token: owner })).status).toBe(200);
    expect((await request(api.baseUrl, 'GET', path, { token: await api.token('admin-1', ['admin']) })).status).toBe(200);
    const stranger = await request(api.baseUrl, 'GET', path, { token: await api.token('mallory') });
    expect(stranger.status).toBe(404);
    expect(stranger.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});

describe('repeated and duplicate signups', () => {
  const post = (eventId: string, token: string, seats: number, key?: string) =>
    request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
      token,
      body: party(seats),
      headers: key ? { 'idempotency-key': key } : {},
    });
  const rowsOf = (eventId: string, userId: string) => orm.em.fork().count(Signup, { event: eventId, userId });

  it('answers the same signup for the same Idempotency-Key, even when the retries race', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const token = await api.token('erin');
    const key = randomUUID();

    const first = await post(event.id, token, 1, key);
    const retries = await Promise.all([1, 2, 3, 4, 5].map(() => post(event.id, token, 1, key)));

    expect(first.status).toBe(202);
    for (const retry of retries) {
      expect(retry.status).toBe(202);
      expect(retry.body.id).toBe(first.body.id);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(await rowsOf(event.id, 'erin')).toBe(1);
  });

  it('makes exactly one signup when first requests with one key race', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const token = await api.token('frank');
    const key = randomUUID();
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => post(event.id, token, 1, key)));
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([202]));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(await rowsOf(event.id, 'frank')).toBe(1);
  });

  it('refuses a reused key for a different request', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const token = await api.token('gina');
    const key = randomUUID();
    await post(event.id, token, 1, key);
    const reused = await post(event.id, token, 2, key);
    expect(reused.status).toBe(422);
    expect(reused.body).toMatchObject({ type: '/problems/idempotency-key-reused' });
    expect(await rowsOf(event.id, 'gina')).toBe(1);
  });

  it('refuses a second active signup for the same event with 409 pointing at the first', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const token = await api.token('hank');
    const first = await post(event.id, token, 1, randomUUID());
    const second = await post(event.id, token, 1, randomUUID());
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ type: '/problems/signup-exists' });
    expect(second.headers.get('location')).toBe(`/v1/signups/${first.body.id as string}`);
    expect(await rowsOf(event.id, 'hank')).toBe(1);
  });

  it('allows a new signup once the earlier one has ended', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const token = await api.token('ivy');
    const first = await post(event.id, token, 1);
    await eventually('the confirmation', async () =>
      (await statusOf(first.body.id as string, token)) === 'confirmed' ? true : undefined,
    20_000);
    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${first.body.id as string}/cancel`, { token, body: {} });
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    const again = await post(event.id, token, 1);
    expect(again.status).toBe(202);
    expect(again.body.id).not.toBe(first.body.id);
  });

  it('rejects a malformed Idempotency-Key', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const response = await post(event.id, await api.token('jack'), 1, 'has spaces in it');
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'header', field: 'idempotency-key' })]);
  });
});

describe('bad input to the signup endpoint gets a clear 4xx and writes nothing', () => {
  const USER = 'dave';
  let eventId: string;
  let token: string;

  beforeAll(async () => {
    eventId = (await insertEvent(orm)).id;
    token = await api.token(USER);
  });

  const cases: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, string, string | null][] = [
    ['missing fields', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token, body: {} }), 400, 'validation-error', 'attendees'],
    ['wrong type', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token, body: { ...party(1), attendees: 'two' } }), 400, 'validation-error', 'attendees'],
    ['out of range', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token, body: party(0) }), 400, 'validation-error', 'attendees'],
    ['unknown field', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token, body: { ...party(1), vip: true } }), 400, 'validation-error', null],
    ['not a uuid', () => request(api.baseUrl, 'POST', '/v1/events/nope/signups', { token, body: party(1) }), 400, 'validation-error', 'eventId'],
    ['unknown event', () => request(api.baseUrl, 'POST', `/v1/events/${randomUUID()}/signups`, { token, body: party(1) }), 404, 'not-found', null],
    ['malformed JSON', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token, rawBody: '{"seats":', headers: { 'content-type': 'application/json' } }), 400, 'malformed-json', null],
    ['not JSON', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token, rawBody: 'seats=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported-media-type', null],
    ['no token', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { body: party(1) }), 401, 'unauthenticated', null],
    ['garbage token', () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token: 'not-a-jwt', body: party(1) }), 401, 'unauthenticated', null],
    ['expired token', async () => request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token: await api.token('dave', ['participant'], { ttlSeconds: -60 }), body: party(1) }), 401, 'unauthenticated', null],
  ];

  // Every row has all five values: a shorter row would make jest pass its `done` callback as `field`.
  it.each(cases)('%s', async (_name, send, status, slug, field) => {
    const before = await signupCount(USER);
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ type: `/problems/${slug}`, status, title: expect.any(String) });
    expect(JSON.stringify(response.body)).not.toMatch(/at .+\.(ts|js):\d+/); // no stack traces
    if (field) {
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }
    expect(await signupCount(USER)).toBe(before);
  });

  it('refuses a token minted for another audience', async () => {
    const { mintDevToken } = await import('../../src/auth/tokens.js');
    const foreign = await mintDevToken({ ...api.config.jwt, audience: 'someone-else' }, { sub: 'dave', roles: ['participant'] });
    const response = await request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token: foreign, body: party(1) });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('treats a draft event like one that does not exist', async () => {
    const draft = await insertEvent(orm, { status: 'draft' });
    const before = await signupCount(USER);
    const response = await request(api.baseUrl, 'POST', `/v1/events/${draft.id}/signups`, { token, body: party(1) });
    expect(response.status).toBe(404);
    expect(await signupCount(USER)).toBe(before);
  });
});

describe('a signup accepted while Temporal refuses to start its workflow', () => {
  it('is answered and kept, its start waits in the outbox, and a sweep starts it once Temporal takes it', async () => {
    const event = await insertEvent(orm, { capacity: 3 });
    await orm.em.getConnection().execute(
      `insert into promo_code (id, event_id, code, kind, value, used_count) values (?, ?, 'KIDS', 'percent', 10, 0)`,
      [randomUUID(), event.id],
    );
    // The same Temporal server, a namespace it does not have: every start fails.
    const broken = new Client({ connection: stack.client.connection, namespace: `missing-${randomUUID()}` });
    const taskQueue = stack.worker?.taskQueue ?? '';
    const brokenApi = await startTestApi({ orm, temporal: broken, taskQueue });
    try {
      const token = await brokenApi.token('nora');
      const answer = await request(brokenApi.baseUrl, 'POST', `/v1/events/${event.id}/signups`, {
        token,
        body: { ...party(2), promoCode: 'kids' },
      });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ status: 'confirmed', seats: 2 });
      const signupId = answer.body.id as string;
      expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 2, confirmedRows: 2 });

      // The API's own attempt failed: the row stays, with the error and a later attempt.
      const pending = await eventually('the failed start recorded', async () => {
        const [row] = await orm.em.getConnection().execute<{ attempts: number; last_error: string | null; task_queue: string }[]>(
          'select attempts, last_error, task_queue from signup_workflow_start where signup_id = ?',
          [signupId],
        );
        return row && row.attempts > 0 ? row : undefined;
      });
      expect(pending).toMatchObject({ attempts: 1, task_queue: taskQueue });
      expect(pending.last_error).toContain('missing-');

      // Temporal takes starts again: a sweep (by any API process) starts it on its own task queue.
      await orm.em.getConnection().execute('update signup_workflow_start set next_attempt_at = now() where signup_id = ?', [signupId]);
      const starter = createSignupWorkflowStarter({ orm, temporal: stack.client });
      await eventually('the sweep to start it', async () => ((await starter.sweep()) >= 1 || (await outboxHas(signupId)) === false ? true : undefined));
      expect(await outboxHas(signupId)).toBe(false);
      const workflow = stack.client.workflow.getHandle(workflowIds.signup(signupId));
      expect(await eventually('the workflow to run', async () => (await workflow.query(signupStatusQuery).catch(() => undefined)) ?? undefined)).toBe('confirmed');
      // Started once: a second start from a stale row is refused and the row still goes.
      await recordStaleStart(signupId, taskQueue);
      await orm.em.getConnection().execute('update signup_workflow_start set next_attempt_at = now() where signup_id = ?', [signupId]);
      await starter.sweep();
      expect(await outboxHas(signupId)).toBe(false);
      const runs = await countRuns(signupId);
      expect(runs).toBe(1);
    } finally {
      await brokenApi.close();
    }
  });
});

describe('a command that comes before the signup workflow has started', () => {
  it('starts the workflow from the outbox, then delivers the command', async () => {
    const event = await insertEvent(orm, { capacity: 3 });
    const broken = new Client({ connection: stack.client.connection, namespace: `missing-${randomUUID()}` });
    const brokenApi = await startTestApi({ orm, temporal: broken, taskQueue: stack.worker?.taskQueue ?? '' });
    let signupId: string;
    try {
      const answer = await request(brokenApi.baseUrl, 'POST', `/v1/events/${event.id}/signups`, {
        token: await brokenApi.token('olga'),
        body: party(1),
      });
      expect(answer.status).toBe(202);
      signupId = answer.body.id as string;
    } finally {
      await brokenApi.close();
    }
    expect(await outboxHas(signupId)).toBe(true);

    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: await api.token('olga') });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(await outboxHas(signupId)).toBe(false);
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 0, confirmedRows: 0 });
  });
});

async function outboxHas(signupId: string): Promise<boolean> {
  const rows = await orm.em.getConnection().execute('select 1 from signup_workflow_start where signup_id = ?', [signupId]);
  return rows.length > 0;
}

async function recordStaleStart(signupId: string, taskQueue: string): Promise<void> {
  await orm.em.getConnection().execute(
    `insert into signup_workflow_start (signup_id, workflow_id, task_queue, input, status, market, summary, next_attempt_at, created_at)
     values (?, ?, ?, ?, 'confirmed', 'NO', 'stale', now(), now())`,
    [signupId, workflowIds.signup(signupId), taskQueue, JSON.stringify({ signupId, eventId: randomUUID(), confirmedByApi: true })],
  );
}

async function countRuns(signupId: string): Promise<number> {
  let runs = 0;
  for await (const _ of stack.client.workflow.list({ query: `WorkflowId = '${workflowIds.signup(signupId)}'` })) runs += 1;
  return runs;
}

describe('errors and health', () => {
  it('answers unknown routes with a problem document', async () => {
    const response = await request(api.baseUrl, 'GET', '/v1/nothing-here');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ type: '/problems/not-found', status: 404 });
  });

  it('serves a description behind every problem type', async () => {
    const response = await request(api.baseUrl, 'GET', '/problems/validation-error');
    expect(response.body).toMatchObject({ type: '/problems/validation-error', status: 400 });
  });

  it('reports liveness, and readiness with the database and Temporal reachable', async () => {
    expect((await request(api.baseUrl, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(api.baseUrl, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('echoes a sane X-Request-Id and makes one up otherwise', async () => {
    const given = await request(api.baseUrl, 'GET', '/healthz', { headers: { 'x-request-id': 'req-123' } });
    expect(given.headers.get('x-request-id')).toBe('req-123');
    const made = await request(api.baseUrl, 'GET', '/healthz', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
