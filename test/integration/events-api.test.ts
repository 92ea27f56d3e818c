import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { request } from '../support/http.js';
import { connectTestClient, openTestOrm, startTestApi, type RunningApi } from '../support/stack.js';

let orm: MikroORM;
let client: Client;
let api: RunningApi;

beforeAll(async () => {
  orm = await openTestOrm();
  client = await connectTestClient();
  api = await startTestApi({ orm, temporal: client, taskQueue: 'unused-by-event-routes' });
});

afterAll(async () => {
  await api.close();
  await client.connection.close();
  await orm.close(true);
});

const validEvent = {
  title: 'Robot workshop',
  market: 'NO',
  timezone: 'Europe/Oslo',
  startsAt: '2027-03-01T10:00:00+01:00',
  endsAt: '2027-03-01T13:00:00+01:00',
  capacity: 12,
};

async function eventCount(): Promise<number> {
  return orm.em.fork().count(LiveEvent, {});
}

describe('admin creates events', () => {
  it('creates a published event that the public can read, without internal counters', async () => {
    const token = await api.token('org-1', ['organizer'], { markets: ['NO'] });
    const created = await request(api.baseUrl, 'POST', '/v1/admin/events', {
      token,
      body: { ...validEvent, publish: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'published', capacity: 12, heldCount: 0, confirmedCount: 0 });

    const shown = await request(api.baseUrl, 'GET', `/v1/events/${created.body.id as string}`);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ title: 'Robot workshop', spotsLeft: 12, startsAt: '2027-03-01T09:00:00.000Z' });
    expect(shown.body).not.toHaveProperty('heldCount');
    expect(shown.body).not.toHaveProperty('status');
  });

  it('keeps drafts out of public reads', async () => {
    const token = await api.token('admin-1', ['admin']);
    const created = await request(api.baseUrl, 'POST', '/v1/admin/events', { token, body: validEvent });
    expect(created.body.status).toBe('draft');
    expect((await request(api.baseUrl, 'GET', `/v1/events/${created.body.id as string}`)).status).toBe(404);
  });

  it.each([
    ['a participant', ['participant'] as const, [], 403],
    ['an organizer of another market', ['organizer'] as const, ['SE'], 403],
  ])('refuses %s', async (_name, roles, markets, status) => {
    const before = await eventCount();
    const token = await api.token('someone', [...roles], { markets });
    const response = await request(api.baseUrl, 'POST', '/v1/admin/events', { token, body: validEvent });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ type: '/problems/forbidden' });
    expect(await eventCount()).toBe(before);
  });

  it.each([
    ['title', { title: '' }, 400],
    ['market', { market: 'Norway' }, 400],
    ['timezone', { timezone: 'Mars/Base' }, 400],
    ['startsAt', { startsAt: 'next tuesday' }, 400],
    ['capacity', { capacity: -1 }, 400],
    ['endsAt', { endsAt: '2027-03-01T09:00:00+01:00' }, 422],
  ])('names the bad field %s', async (field, change, status) => {
    const before = await eventCount();
    const token = await api.token('admin-1', ['admin']);
    const response = await request(api.baseUrl, 'POST', '/v1/admin/events', { token, body: { ...validEvent, ...change } });
    expect(response.status).toBe(status);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'body', field })]);
    expect(await eventCount()).toBe(before);
  });
});
