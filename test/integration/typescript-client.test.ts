/**
 * The generated TypeScript client (clients/typescript) against the real API and worker: the
 * catalog, a signup and its problems, typed end to end.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createEventbookClient, type EventbookClient, type EventbookClientOptions } from '../../clients/typescript/src/index.js';
import { insertEvent, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
});

afterAll(() => stack.stop());

const client = (token?: EventbookClientOptions['token']): EventbookClient => createEventbookClient({ baseUrl: stack.api.baseUrl, token });

describe('the TypeScript client', () => {
  it('reads the catalog', async () => {
    const category = `client-${randomUUID().slice(0, 8)}`;
    const event = await insertEvent(stack.orm, { category, title: 'Client day' });
    const { data, error, response } = await client().GET('/v1/events', { params: { query: { category } } });
    expect(response.status).toBe(200);
    expect(error).toBeUndefined();
    expect(data?.items.map((item) => [item.id, item.title])).toEqual([[event.id, 'Client day']]);

    const one = await client().GET('/v1/events/{eventId}', { params: { path: { eventId: event.id } } });
    expect(one.data).toMatchObject({ id: event.id, cancellation: null, signupState: 'open' });
  });

  it('signs up, reads the signup, and answers problems as typed errors', async () => {
    const event = await insertEvent(stack.orm, { capacity: 5 });
    const token = await stack.api.token(`client-${randomUUID()}`);
    const api = client(() => token);
    const created = await api.POST('/v1/events/{eventId}/signups', {
      params: { path: { eventId: event.id }, header: { 'Idempotency-Key': randomUUID() } },
      body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
    });
    expect(created.response.status).toBe(202);
    const signup = created.data;
    if (!signup) throw new Error(`no signup: ${JSON.stringify(created.error)}`);
    expect(signup.status).toBe('confirmed');

    const read = await api.GET('/v1/signups/{signupId}', { params: { path: { signupId: signup.id } } });
    expect(read.data?.attendees[0]?.ticketCode).toMatch(/^[0-9A-Z]{20}$/);

    const again = await api.POST('/v1/events/{eventId}/signups', {
      params: { path: { eventId: event.id } },
      body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
    });
    expect(again.data).toBeUndefined();
    expect(again.error).toMatchObject({ type: '/problems/signup-exists', status: 409 });

    const anonymous = await client().GET('/v1/signups/{signupId}', { params: { path: { signupId: signup.id } } });
    expect(anonymous.error).toMatchObject({ status: 401 });
  });
});
