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
  defaultLocale: 'en',
  translations: {
    en: { title: 'Robot workshop', description: 'Build a robot that draws.' },
    nb: { title: 'Robotverksted', description: 'Bygg en robot som tegner.' },
  },
  category: 'workshop',
  market: 'NO',
  timezone: 'Europe/Oslo',
  startsAt: '2027-03-01T10:00:00+01:00',
  endsAt: '2027-03-01T13:00:00+01:00',
  cancellationDeadline: '2027-02-27T12:00:00+01:00',
  capacity: 12,
};

/** Events one user created: test files share the database, so counts stay per user. */
async function eventCount(createdBy: string): Promise<number> {
  return orm.em.fork().count(LiveEvent, { createdBy });
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
    expect(shown.body).not.toHaveProperty('internal');

    const norwegian = await request(api.baseUrl, 'GET', `/v1/events/${created.body.id as string}`, {
      headers: { 'accept-language': 'nb-NO,nb;q=0.9,en;q=0.5' },
    });
    expect(norwegian.body).toMatchObject({ locale: 'nb', title: 'Robotverksted' });
    const fallback = await request(api.baseUrl, 'GET', `/v1/events/${created.body.id as string}?locale=de`);
    expect(fallback.body).toMatchObject({ locale: 'en', title: 'Robot workshop' });
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
    const before = await eventCount('someone');
    const token = await api.token('someone', [...roles], { markets });
    const response = await request(api.baseUrl, 'POST', '/v1/admin/events', { token, body: validEvent });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ type: '/problems/forbidden' });
    expect(await eventCount('someone')).toBe(before);
  });

  it.each([
    ['translations.en.title', { translations: { en: { title: '' } } }, 400],
    ['translations', { defaultLocale: 'sv' }, 422],
    ['signupClosesAt', { signupOpensAt: '2027-02-01T10:00:00+01:00', signupClosesAt: '2027-03-02T10:00:00+01:00' }, 422],
    ['ticketTypes.0.prices.0.currency', { ticketTypes: [{ code: 'child', names: { en: 'Child' }, prices: [{ currency: 'EUR', amountMinor: 1000 }] }] }, 422],
    ['market', { market: 'Norway' }, 400],
    ['timezone', { timezone: 'Mars/Base' }, 400],
    ['startsAt', { startsAt: 'next tuesday' }, 400],
    ['capacity', { capacity: -1 }, 400],
    ['endsAt', { endsAt: '2027-03-01T09:00:00+01:00' }, 422],
  ])('names the bad field %s', async (field, change, status) => {
    const before = await eventCount('admin-2');
    const token = await api.token('admin-2', ['admin']);
    const response = await request(api.baseUrl, 'POST', '/v1/admin/events', { token, body: { ...validEvent, ...change } });
    expect(response.status).toBe(status);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'body', field })]);
    expect(await eventCount('admin-2')).toBe(before);
  });
});
