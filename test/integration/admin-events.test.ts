import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintDevToken } from '../../src/auth/tokens.js';
import type { MikroORM } from '../../src/db/orm.js';
import { EventChange } from '../../src/events/event-change.entity.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { NeedsNoteRead } from '../../src/events/needs-note-read.entity.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { request } from '../support/http.js';
import { insertSignupRow } from '../support/signup-rows.js';
import {
  insertEvent,
  startTestStack,
  type RunningApi,
  type TestStack,
} from '../support/stack.js';

let orm: MikroORM;
let api: RunningApi;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
  ({ orm, api } = stack as Required<TestStack>);
});

afterAll(() => stack.stop());

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

// ---------------------------------------------------------------------------------------------
// Managing events: scope, reads, edits with If-Match, lifecycle, history, participants, stats.
// ---------------------------------------------------------------------------------------------

type Body = Record<string, unknown>;

const adminToken = () => api.token(`admin-${randomUUID()}`, ['admin']);
const organizerToken = (markets: string[], sub = `org-${randomUUID()}`) => api.token(sub, ['organizer'], { markets });

/** Creates an event through the API (as an admin unless a token is given); answers its view. */
async function createEvent(change: Body = {}, token?: string): Promise<Body & { id: string; version: number }> {
  const created = await request(api.baseUrl, 'POST', '/v1/admin/events', {
    token: token ?? (await adminToken()),
    body: { ...validEvent, ...change },
  });
  expect(created.status).toBe(201);
  return created.body as Body & { id: string; version: number };
}

const path = (id: string, rest = '') => `/v1/admin/events/${id}${rest}`;

/** A signup (and its attendees) straight in the database, with the event's counters kept equal to the rows. */
const insertSignup = (eventId: string, fields: Parameters<typeof insertSignupRow>[2]) =>
  insertSignupRow(orm, eventId, fields);

async function storedVersion(id: string): Promise<number | undefined> {
  return (await orm.em.fork().findOne(LiveEvent, id))?.version;
}

describe('scope', () => {
  it('answers 404 to an organizer outside the event market, and lists only their markets', async () => {
    const event = await createEvent({}, await organizerToken(['NO']));
    const outsider = await organizerToken(['SE']);
    for (const [method, rest] of [
      ['GET', ''],
      ['GET', '/history'],
      ['GET', '/participants'],
      ['GET', '/stats'],
      ['POST', '/publish'],
      ['POST', '/unpublish'],
    ] as const) {
      const response = await request(api.baseUrl, method, path(event.id, rest), { token: outsider });
      expect([method, rest, response.status]).toEqual([method, rest, 404]);
    }
    const patched = await request(api.baseUrl, 'PATCH', path(event.id), {
      token: outsider,
      headers: { 'if-match': '"v1"' },
      body: { capacity: 5 },
    });
    expect(patched.status).toBe(404);
    const deleted = await request(api.baseUrl, 'DELETE', path(event.id), { token: outsider, headers: { 'if-match': '"v1"' } });
    expect(deleted.status).toBe(404);
    expect(await storedVersion(event.id)).toBe(1);

    const listed = await request(api.baseUrl, 'GET', '/v1/admin/events?limit=100&market=NO', { token: outsider });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([]);
    const own = await request(api.baseUrl, 'GET', path(event.id), { token: await organizerToken(['NO']) });
    expect(own.status).toBe(200);
  });

  it('limits an organizer to the categories of a categories claim', async () => {
    const event = await createEvent({ category: 'workshop' });
    const token = await mintDevToken(api.config.jwt, {
      sub: `org-${randomUUID()}`,
      roles: ['organizer'],
      markets: ['NO'],
      extraClaims: { categories: ['concert'] },
    });
    expect((await request(api.baseUrl, 'GET', path(event.id), { token })).status).toBe(404);
  });

  it('refuses participant tokens on every admin route with 403', async () => {
    const event = await createEvent();
    const token = await api.token(`p-${randomUUID()}`, ['participant']);
    for (const [method, rest] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['GET', '/history'],
      ['GET', '/participants'],
      ['GET', '/stats'],
      ['POST', '/publish'],
      ['POST', '/unpublish'],
      ['POST', `/participants/${randomUUID()}/check-in`],
    ] as const) {
      const response = await request(api.baseUrl, method, path(event.id, rest), { token, headers: { 'if-match': '"v1"' } });
      expect([method, rest, response.status, response.body.type]).toEqual([method, rest, 403, '/problems/forbidden']);
    }
    const listed = await request(api.baseUrl, 'GET', '/v1/admin/events', { token });
    expect(listed.status).toBe(403);
    expect(await storedVersion(event.id)).toBe(1);
  });

  it('answers 404 for ids that do not exist or are malformed', async () => {
    const token = await adminToken();
    expect((await request(api.baseUrl, 'GET', path(randomUUID()), { token })).status).toBe(404);
    expect((await request(api.baseUrl, 'GET', path('not-a-uuid'), { token })).status).toBe(404);
  });
});

describe('reading events', () => {
  it('answers the full admin view with an ETag, never from a cache', async () => {
    const event = await createEvent({
      promoCodes: [{ code: 'kids10', kind: 'percent', value: 10, maxUses: 5 }],
      ticketTypes: [{ code: 'child', names: { en: 'Child' }, prices: [{ currency: 'NOK', amountMinor: 15000 }] }],
      internal: { coordinator: 'Kari' },
      notificationTexts: { reminder: { en: { subject: 'Tomorrow!' } } },
    });
    const shown = await request(api.baseUrl, 'GET', path(event.id), { token: await adminToken() });
    expect(shown.status).toBe(200);
    expect(shown.headers.get('etag')).toBe('"v1"');
    expect(shown.headers.get('cache-control')).toBe('no-store');
    // the counters move without a new version, so a matching If-None-Match still gets the body
    const again = await request(api.baseUrl, 'GET', path(event.id), { token: await adminToken(), headers: { 'if-none-match': '"v1"' } });
    expect(again.status).toBe(200);
    expect(shown.body).toMatchObject({
      id: event.id,
      version: 1,
      translations: { en: { title: 'Robot workshop' }, nb: { title: 'Robotverksted' } },
      ticketTypes: [{ code: 'child', prices: [{ currency: 'NOK', amountMinor: 15000 }], heldCount: 0, confirmedCount: 0 }],
      promoCodes: [{ code: 'KIDS10', kind: 'percent', value: 10, maxUses: 5, usedCount: 0 }],
      internal: { coordinator: 'Kari' },
      notificationTexts: { reminder: { en: { subject: 'Tomorrow!' } } },
    });
  });

  it('lists events by status and market, paged', async () => {
    const token = await adminToken();
    const draft = await createEvent({ market: 'SE', timezone: 'Europe/Stockholm' });
    const published = await createEvent({ market: 'SE', timezone: 'Europe/Stockholm', publish: true });
    const drafts = await request(api.baseUrl, 'GET', '/v1/admin/events?status=draft&market=SE&limit=100', { token });
    const ids = (drafts.body.items as { id: string; status: string; market: string }[]).map((item) => item.id);
    expect(ids).toContain(draft.id);
    expect(ids).not.toContain(published.id);
    expect((drafts.body.items as { status: string; market: string }[]).every((i) => i.status === 'draft' && i.market === 'SE')).toBe(true);
    const firstPage = await request(api.baseUrl, 'GET', '/v1/admin/events?limit=1', { token });
    expect(firstPage.body).toMatchObject({ page: 1, limit: 1 });
    expect(firstPage.body.items).toHaveLength(1);
    const bad = await request(api.baseUrl, 'GET', '/v1/admin/events?status=open', { token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ in: 'query', field: 'status' })]);
  });
});

describe('editing events', () => {
  it('needs If-Match (428), refuses a stale one (412) and changes nothing then', async () => {
    const token = await adminToken();
    const event = await createEvent();
    const missing = await request(api.baseUrl, 'PATCH', path(event.id), { token, body: { capacity: 20 } });
    expect(missing.status).toBe(428);
    expect(missing.body.type).toBe('/problems/precondition-required');

    const first = await request(api.baseUrl, 'PATCH', path(event.id), { token, headers: { 'if-match': '"v1"' }, body: { capacity: 20 } });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"v2"');
    expect(first.body).toMatchObject({ capacity: 20, version: 2 });

    const stale = await request(api.baseUrl, 'PATCH', path(event.id), { token, headers: { 'if-match': '"v1"' }, body: { capacity: 30 } });
    expect(stale.status).toBe(412);
    expect(stale.body.type).toBe('/problems/precondition-failed');
    const now = await request(api.baseUrl, 'GET', path(event.id), { token });
    expect(now.body).toMatchObject({ capacity: 20, version: 2 });
    const changes = await orm.em.fork().count(EventChange, { eventId: event.id, action: 'updated' });
    expect(changes).toBe(1);
  });

  it('lets exactly one of several concurrent PATCHes with the same If-Match win', async () => {
    const token = await adminToken();
    const event = await createEvent();
    const responses = await Promise.all(
      [13, 14, 15, 16, 17].map((capacity) =>
        request(api.baseUrl, 'PATCH', path(event.id), { token, headers: { 'if-match': '"v1"' }, body: { capacity } }),
      ),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([200, 412, 412, 412, 412]);
    const winner = responses.find((r) => r.status === 200);
    const stored = await orm.em.fork().findOneOrFail(LiveEvent, event.id);
    expect(stored.version).toBe(2);
    expect(stored.capacity).toBe(winner?.body.capacity);
    expect(await orm.em.fork().count(EventChange, { eventId: event.id, action: 'updated' })).toBe(1);
  });

  it('replaces translations, ticket types and promo codes wholesale, keeping kept codes', async () => {
    const token = await adminToken();
    const event = await createEvent({
      ticketTypes: [
        { code: 'child', names: { en: 'Child' } },
        { code: 'adult', names: { en: 'Adult' } },
      ],
    });
    const before = await request(api.baseUrl, 'GET', path(event.id), { token });
    const childId = (before.body.ticketTypes as { id: string; code: string }[]).find((t) => t.code === 'child')?.id;
    const patched = await request(api.baseUrl, 'PATCH', path(event.id), {
      token,
      headers: { 'if-match': '"v1"' },
      body: {
        translations: { en: { title: 'Robot lab', description: 'New text' } },
        ticketTypes: [{ code: 'child', names: { en: 'Kid' }, prices: [{ currency: 'NOK', amountMinor: 5000 }] }],
        venue: { name: 'Library', address: { line1: 'Main st 1', city: 'Oslo', country: 'NO' } },
      },
    });
    expect(patched.status).toBe(200);
    expect(Object.keys(patched.body.translations as Body)).toEqual(['en']);
    expect(patched.body.ticketTypes).toEqual([
      expect.objectContaining({ id: childId, code: 'child', names: { en: 'Kid' }, prices: [{ currency: 'NOK', amountMinor: 5000 }] }),
    ]);
    const cleared = await request(api.baseUrl, 'PATCH', path(event.id), { token, headers: { 'if-match': '"v2"' }, body: { venue: null } });
    expect(cleared.body).toMatchObject({ venue: null, version: 3 });
  });

  it('records history with field-level before and after, newest first', async () => {
    const token = await adminToken();
    const event = await createEvent();
    await request(api.baseUrl, 'PATCH', path(event.id), {
      token,
      headers: { 'if-match': '"v1"' },
      body: { capacity: 15, translations: { ...validEvent.translations, nb: { title: 'Robotlab' } } },
    });
    await request(api.baseUrl, 'POST', path(event.id, '/publish'), { token });
    const history = await request(api.baseUrl, 'GET', path(event.id, '/history'), { token });
    expect(history.status).toBe(200);
    const items = history.body.items as { action: string; changedBy: string; changes: { field: string; before: unknown; after: unknown }[] }[];
    expect(items.map((item) => item.action)).toEqual(['published', 'updated', 'created']);
    expect(items[1]?.changes).toEqual([
      { field: 'capacity', before: 12, after: 15 },
      { field: 'translations.nb.description', before: 'Bygg en robot som tegner.', after: '' },
      { field: 'translations.nb.title', before: 'Robotverksted', after: 'Robotlab' },
    ]);
    expect(items[0]?.changes).toEqual([{ field: 'status', before: 'draft', after: 'published' }]);
    expect(items[2]?.changes).toEqual(expect.arrayContaining([{ field: 'capacity', before: null, after: 12 }]));
    const paged = await request(api.baseUrl, 'GET', path(event.id, '/history?limit=1&page=2'), { token });
    expect(paged.body).toMatchObject({ total: 3, items: [expect.objectContaining({ action: 'updated' })] });
  });

  it('changes nothing for an empty patch', async () => {
    const token = await adminToken();
    const event = await createEvent();
    const response = await request(api.baseUrl, 'PATCH', path(event.id), { token, headers: { 'if-match': '"v1"' }, body: {} });
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe('"v1"');
  });

  it.each<[string, Body, number]>([
    ['capacity', { capacity: 'many' }, 400],
    ['startsAt', { startsAt: 'tomorrow' }, 400],
    ['market', { market: 'Norway' }, 400],
    ['timezone', { timezone: 'Mars/Base' }, 400],
    ['translations.en.title', { translations: { en: { title: '' } } }, 400],
    ['ticketTypes.0.code', { ticketTypes: [{ code: 'Child!', names: { en: 'Child' } }] }, 400],
    ['promoCodes.0.code', { promoCodes: [{ code: 'x', kind: 'percent', value: 5 }] }, 400],
    ['endsAt', { endsAt: '2027-03-01T09:00:00+01:00' }, 422],
    ['translations', { defaultLocale: 'sv' }, 422],
    ['signupClosesAt', { signupClosesAt: '2027-03-02T10:00:00+01:00' }, 422],
    ['signupOpensAt', { signupOpensAt: '2027-02-20T10:00:00+01:00', signupClosesAt: '2027-02-10T10:00:00+01:00' }, 422],
    ['announceAt', { announceAt: '2027-03-01T11:00:00+01:00' }, 422],
    ['cancellationDeadline', { cancellationDeadline: '2027-03-02T10:00:00+01:00' }, 422],
    ['cancellationDeadline', { cancellationDeadline: null }, 422],
    ['ageRules.maxAge', { ageRules: { minAge: 10, maxAge: 6 } }, 422],
    ['market', { market: 'AQ' }, 422],
    ['refundPolicy.tiers', { refundPolicy: { kind: 'tiered', tiers: [{ hoursBeforeStart: 24, percent: 50 }, { hoursBeforeStart: 24, percent: 20 }] } }, 422],
    ['ticketTypes', { ticketTypes: [{ code: 'a', names: { en: 'A' } }, { code: 'a', names: { en: 'B' } }] }, 422],
    ['ticketTypes.0.prices.0.currency', { ticketTypes: [{ code: 'a', names: { en: 'A' }, prices: [{ currency: 'EUR', amountMinor: 1 }] }] }, 422],
    ['ticketTypes.0.prices', { ticketTypes: [{ code: 'a', names: { en: 'A' }, prices: [{ currency: 'NOK', amountMinor: 1 }, { currency: 'NOK', amountMinor: 2 }] }] }, 422],
    ['ticketTypes.0.capacity', { ticketTypes: [{ code: 'a', names: { en: 'A' }, capacity: 13 }] }, 422],
    ['promoCodes', { promoCodes: [{ code: 'abc', kind: 'percent', value: 5 }, { code: 'ABC', kind: 'percent', value: 6 }] }, 422],
    ['promoCodes.0.value', { promoCodes: [{ code: 'abc', kind: 'percent', value: 101 }] }, 422],
    ['promoCodes.0.currency', { promoCodes: [{ code: 'abc', kind: 'fixed', value: 100, currency: 'EUR' }] }, 422],
    ['promoCodes.0.validUntil', { promoCodes: [{ code: 'abc', kind: 'percent', value: 5, validFrom: '2027-01-02T00:00:00Z', validUntil: '2027-01-01T00:00:00Z' }] }, 422],
  ])('names the bad field %s', async (field, body, status) => {
    const token = await adminToken();
    const event = await createEvent();
    const response = await request(api.baseUrl, 'PATCH', path(event.id), { token, headers: { 'if-match': '"v1"' }, body });
    expect(response.status).toBe(status);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'body', field })]);
    expect(await storedVersion(event.id)).toBe(1);
  });

  it('refuses to edit a cancelled event', async () => {
    const event = await insertEvent(orm, { status: 'cancelled' });
    const response = await request(api.baseUrl, 'PATCH', path(event.id), {
      token: await adminToken(),
      headers: { 'if-match': `"v${event.version}"` },
      body: { capacity: 20 },
    });
    expect(response.status).toBe(409);
    expect(response.body.type).toBe('/problems/event-state-conflict');
  });

  it('refuses unknown fields (a typo is not silently ignored)', async () => {
    const event = await createEvent();
    const response = await request(api.baseUrl, 'PATCH', path(event.id), {
      token: await adminToken(),
      headers: { 'if-match': '"v1"' },
      body: { capacty: 3 },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'body', message: expect.stringContaining('capacty') })]);
  });

  it('refuses a malformed If-Match as a header error', async () => {
    const event = await createEvent();
    const response = await request(api.baseUrl, 'PATCH', path(event.id), {
      token: await adminToken(),
      headers: { 'if-match': '*' },
      body: { capacity: 3 },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'header' })]);
  });

  it('never lets capacity drop below held + confirmed seats, nor removes ticket types with signups', async () => {
    const token = await adminToken();
    const event = await createEvent({
      publish: true,
      ticketTypes: [
        { code: 'child', names: { en: 'Child' } },
        { code: 'adult', names: { en: 'Adult' } },
      ],
    });
    await insertSignup(event.id, { status: 'confirmed', seats: 3, ticketCode: 'child' });
    await insertSignup(event.id, { status: 'held', seats: 2, ticketCode: 'child' });
    const ifMatch = { 'if-match': '"v1"' };
    const tooSmall = await request(api.baseUrl, 'PATCH', path(event.id), { token, headers: ifMatch, body: { capacity: 4 } });
    expect(tooSmall.status).toBe(422);
    expect(tooSmall.body.errors).toEqual([expect.objectContaining({ field: 'capacity', message: expect.stringContaining('5') })]);
    const removed = await request(api.baseUrl, 'PATCH', path(event.id), {
      token,
      headers: ifMatch,
      body: { ticketTypes: [{ code: 'adult', names: { en: 'Adult' } }] },
    });
    expect(removed.status).toBe(422);
    expect(removed.body.errors).toEqual([expect.objectContaining({ field: 'ticketTypes' })]);
    const ticketTooSmall = await request(api.baseUrl, 'PATCH', path(event.id), {
      token,
      headers: ifMatch,
      body: { ticketTypes: [{ code: 'child', names: { en: 'Child' }, capacity: 4 }] },
    });
    expect(ticketTooSmall.body.errors).toEqual([expect.objectContaining({ field: 'ticketTypes.0.capacity' })]);
    const exact = await request(api.baseUrl, 'PATCH', path(event.id), { token, headers: ifMatch, body: { capacity: 5 } });
    expect(exact.status).toBe(200);
    const unusedRemoved = await request(api.baseUrl, 'PATCH', path(event.id), {
      token,
      headers: { 'if-match': '"v2"' },
      body: { ticketTypes: [{ code: 'child', names: { en: 'Child' } }] },
    });
    expect(unusedRemoved.status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('deletes drafts only, with If-Match, keeping their history for admins', async () => {
    const token = await adminToken();
    const published = await createEvent({ publish: true });
    const conflict = await request(api.baseUrl, 'DELETE', path(published.id), { token, headers: { 'if-match': '"v1"' } });
    expect(conflict.status).toBe(409);

    const draft = await createEvent();
    expect((await request(api.baseUrl, 'DELETE', path(draft.id), { token })).status).toBe(428);
    expect((await request(api.baseUrl, 'DELETE', path(draft.id), { token, headers: { 'if-match': '"v7"' } })).status).toBe(412);
    const deleted = await request(api.baseUrl, 'DELETE', path(draft.id), { token, headers: { 'if-match': '"v1"' } });
    expect(deleted.status).toBe(204);
    expect((await request(api.baseUrl, 'GET', path(draft.id), { token })).status).toBe(404);
    const history = await request(api.baseUrl, 'GET', path(draft.id, '/history'), { token });
    expect((history.body.items as { action: string }[]).map((i) => i.action)).toEqual(['deleted', 'created']);
    const organizer = await organizerToken(['NO']);
    expect((await request(api.baseUrl, 'GET', path(draft.id, '/history'), { token: organizer })).status).toBe(404);

    const withSignup = await createEvent();
    await insertSignup(withSignup.id, { status: 'rejected' });
    const referenced = await request(api.baseUrl, 'DELETE', path(withSignup.id), { token, headers: { 'if-match': '"v1"' } });
    expect(referenced.status).toBe(409);
    expect(await storedVersion(withSignup.id)).toBe(1);
  });

  it('publishes drafts and unpublishes only before the announcement', async () => {
    const token = await adminToken();
    const event = await createEvent({ announceAt: '2027-01-15T10:00:00+01:00' });
    const published = await request(api.baseUrl, 'POST', path(event.id, '/publish'), { token });
    expect(published.status).toBe(200);
    expect(published.body).toMatchObject({ status: 'published', version: 2 });
    expect(published.body.publishedAt).toEqual(expect.any(String));
    expect((await request(api.baseUrl, 'POST', path(event.id, '/publish'), { token })).status).toBe(409);
    const stale = await request(api.baseUrl, 'POST', path(event.id, '/unpublish'), { token, headers: { 'if-match': '"v1"' } });
    expect(stale.status).toBe(412);
    const unpublished = await request(api.baseUrl, 'POST', path(event.id, '/unpublish'), { token, headers: { 'if-match': '"v2"' } });
    expect(unpublished.status).toBe(200);
    expect(unpublished.body).toMatchObject({ status: 'draft', version: 3, publishedAt: null });
    expect((await request(api.baseUrl, 'POST', path(event.id, '/unpublish'), { token })).status).toBe(409);
  });

  it('refuses to unpublish an event that is announced or has signups', async () => {
    const token = await adminToken();
    const announced = await createEvent({ publish: true, announceAt: '2026-01-01T10:00:00+01:00' });
    const first = await request(api.baseUrl, 'POST', path(announced.id, '/unpublish'), { token });
    expect(first.status).toBe(409);
    expect(first.body.type).toBe('/problems/event-state-conflict');

    const unannounced = await createEvent({ publish: true });
    await insertSignup(unannounced.id, { status: 'rejected' });
    expect((await request(api.baseUrl, 'POST', path(unannounced.id, '/unpublish'), { token })).status).toBe(409);
    expect(await storedVersion(unannounced.id)).toBe(1);
  });
});

describe('participants', () => {
  async function eventWithParticipants() {
    const event = await createEvent({ publish: true, ticketTypes: [{ code: 'child', names: { en: 'Child' } }] });
    const confirmed = await insertSignup(event.id, {
      status: 'confirmed',
      ticketCode: 'child',
      amountMinor: 30000,
      currency: 'NOK',
      attendees: [
        { firstName: 'Anna Maria', age: 7, ticketCode: `T${randomUUID().slice(0, 8)}`, needsNote: 'Allergic to nuts, uses a wheelchair' },
        { firstName: '=HYPERLINK("http://evil","x")', age: 40, ticketCode: `T${randomUUID().slice(0, 8)}` },
      ],
    });
    const held = await insertSignup(event.id, { status: 'held', attendees: [{ firstName: 'Ola, Jr.', age: 13 }] });
    await insertSignup(event.id, { status: 'released', attendees: [{ firstName: 'Per', age: 11 }] });
    return { event, confirmed, held };
  }

  it('lists attendees as JSON with minimal data, filtered and paged', async () => {
    const token = await adminToken();
    const { event, confirmed } = await eventWithParticipants();
    const all = await request(api.baseUrl, 'GET', path(event.id, '/participants'), { token });
    expect(all.status).toBe(200);
    expect(all.body.total).toBe(4);
    const items = all.body.items as Body[];
    expect(items.find((item) => item.ageGroup === '6-9')).toEqual({
      signupId: confirmed,
      firstName: 'Anna Maria',
      ageGroup: '6-9',
      status: 'confirmed',
      seats: 2,
      ticketType: 'child',
      ticketCode: expect.any(String),
      checkedIn: false,
      checkedInAt: null,
      needsNote: 'Allergic to nuts, uses a wheelchair',
    });
    expect(items.filter((item) => item.needsNote !== null)).toHaveLength(1);
    expect(JSON.stringify(all.body)).not.toMatch(/user-/);

    const onlyConfirmed = await request(api.baseUrl, 'GET', path(event.id, '/participants?status=confirmed&initials=true'), { token });
    expect(onlyConfirmed.body.total).toBe(2);
    expect((onlyConfirmed.body.items as Body[]).map((item) => item.firstName)).toContain('A. M.');
    expect((onlyConfirmed.body.items as Body[]).map((item) => item.firstName)).not.toContain('Anna Maria');
    const paged = await request(api.baseUrl, 'GET', path(event.id, '/participants?limit=1&page=2'), { token });
    expect(paged.body).toMatchObject({ total: 4, page: 2, limit: 1 });
    expect(paged.body.items).toHaveLength(1);
  });

  it('exports CSV, escaped and safe against formulas', async () => {
    const token = await adminToken();
    const { event } = await eventWithParticipants();
    const response = await fetch(`${api.baseUrl}${path(event.id, '/participants?status=confirmed')}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/csv' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = (await response.text()).split('\r\n');
    expect(lines[0]).toBe('signup_id,first_name,age_group,status,seats,ticket_type,ticket_code,checked_in,checked_in_at,needs_note');
    expect(lines).toHaveLength(4); // header, two attendees, trailing empty
    expect(lines).toContainEqual(
      expect.stringMatching(/^[0-9a-f-]{36},Anna Maria,6-9,confirmed,2,child,T[0-9a-f]{8},no,,"Allergic to nuts, uses a wheelchair"$/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^[0-9a-f-]{36},"'=HYPERLINK\(""http:\/\/evil"",""x""\)",18\+,confirmed,2,child,T[0-9a-f]{8},no,,$/));

    const held = await fetch(`${api.baseUrl}${path(event.id, '/participants?status=held')}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/csv' },
    });
    expect((await held.text()).split('\r\n')[1]).toMatch(/,"Ola, Jr\.",13-17,held,1,,,no,,$/);

    const xml = await request(api.baseUrl, 'GET', path(event.id, '/participants'), { token, headers: { accept: 'application/xml' } });
    expect(xml.status).toBe(406);
  });

  it('logs every read of needs notes (who, when, which event, how many), and only reads that carried notes', async () => {
    const { event } = await eventWithParticipants();
    const readsOf = () => orm.em.fork().find(NeedsNoteRead, { eventId: event.id }, { orderBy: { id: 'asc' } });
    const organizerSub = `org-${randomUUID()}`;
    const organizer = await organizerToken(['NO'], organizerSub);
    const before = new Date();

    expect((await request(api.baseUrl, 'GET', path(event.id, '/participants'), { token: organizer })).status).toBe(200);
    const csv = await fetch(`${api.baseUrl}${path(event.id, '/participants?status=confirmed')}`, {
      headers: { authorization: `Bearer ${organizer}`, accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    // No note among the held signups, none on a page past the end, none for an outsider (404): no read of notes.
    expect((await request(api.baseUrl, 'GET', path(event.id, '/participants?status=held'), { token: organizer })).status).toBe(200);
    expect((await request(api.baseUrl, 'GET', path(event.id, '/participants?page=9'), { token: organizer })).status).toBe(200);
    expect((await request(api.baseUrl, 'GET', path(event.id, '/participants'), { token: await organizerToken(['SE']) })).status).toBe(404);

    const reads = await readsOf();
    expect(reads.map(({ readBy, notes, format }) => ({ readBy, notes, format }))).toEqual([
      { readBy: organizerSub, notes: 1, format: 'json' },
      { readBy: organizerSub, notes: 1, format: 'csv' },
    ]);
    expect(reads.every((read) => read.readAt >= new Date(before.getTime() - 1000) && read.readAt <= new Date())).toBe(true);
  });

  it('checks in confirmed signups, idempotently', async () => {
    const token = await adminToken();
    const { event, confirmed, held } = await eventWithParticipants();
    const first = await request(api.baseUrl, 'POST', path(event.id, `/participants/${confirmed}/check-in`), { token });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ signupId: confirmed, checkedIn: true, checkedInAt: expect.any(String) });
    const again = await request(api.baseUrl, 'POST', path(event.id, `/participants/${confirmed}/check-in`), { token });
    expect(again.body.checkedInAt).toBe(first.body.checkedInAt);
    const stored = await orm.em.fork().findOneOrFail(Signup, confirmed);
    expect(stored.checkedInBy).toMatch(/^admin-/);

    const notConfirmed = await request(api.baseUrl, 'POST', path(event.id, `/participants/${held}/check-in`), { token });
    expect(notConfirmed.status).toBe(409);
    expect((await request(api.baseUrl, 'POST', path(event.id, `/participants/${randomUUID()}/check-in`), { token })).status).toBe(404);

    const listed = await request(api.baseUrl, 'GET', path(event.id, '/participants?status=confirmed'), { token });
    expect((listed.body.items as Body[]).every((item) => item.checkedIn === true)).toBe(true);
  });

  it('counts seats, signups, revenue and signups per day', async () => {
    const token = await adminToken();
    const { event } = await eventWithParticipants();
    await insertSignup(event.id, { status: 'confirmed', seats: 1, amountMinor: 15000, currency: 'NOK' });
    await insertSignup(event.id, { status: 'rejected' });
    const stats = await request(api.baseUrl, 'GET', path(event.id, '/stats'), { token });
    expect(stats.status).toBe(200);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo' }).format(new Date());
    expect(stats.body).toEqual({
      eventId: event.id,
      timezone: 'Europe/Oslo',
      seats: { capacity: 12, held: 1, confirmed: 3, available: 8 },
      signups: { requested: 0, awaiting_consent: 0, held: 1, confirmed: 2, waitlisted: 0, cancelled: 0, released: 1, rejected: 1 },
      revenue: [{ currency: 'NOK', amountMinor: 45000 }],
      signupsPerDay: [{ date: today, signups: 5 }],
    });
  });
});
