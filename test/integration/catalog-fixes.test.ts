/**
 * Issue 16's catalog and admin fixes, against the real API, database and (for the cancellation
 * mail) worker: exclusions in every locale, tags (filter and follow), sort orders, admin title
 * search, placeholder checks, a field in every 422, malformed-JSON details and a cancelled event's page.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintDevToken } from '../../src/auth/tokens.js';
import { searchConfigFor } from '../../src/events/event-data.js';
import { EventTranslation } from '../../src/events/event-translation.entity.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { usersFollowing } from '../../src/interests/audience.js';
import { MAX_INTERESTS_PER_USER } from '../../src/interests/service.js';
import { request } from '../support/http.js';
import { mailTo } from '../support/mailbox.js';
import { eventually, insertEvent, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
});

afterAll(() => stack.stop());

const letters = () =>
  Array.from(randomUUID().replaceAll('-', '').slice(0, 10), (c) => String.fromCharCode(97 + (parseInt(c, 16) % 26))).join('');
const day = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * day);

async function seed(fields: {
  category?: string;
  startsAt?: Date;
  tags?: string[];
  texts: Record<string, string>;
  createdAt?: Date;
}): Promise<LiveEvent> {
  const em = stack.orm.em.fork();
  const startsAt = fields.startsAt ?? inDays(10);
  const event = em.create(LiveEvent, {
    id: randomUUID(),
    market: 'NO',
    timezone: 'Europe/Oslo',
    defaultLocale: Object.keys(fields.texts)[0] ?? 'en',
    category: fields.category ?? `cat-${letters()}`,
    tags: fields.tags ?? [],
    status: 'published',
    startsAt,
    endsAt: new Date(startsAt.getTime() + 2 * 3_600_000),
    capacity: 10,
    createdBy: 'catalog-fixes-test',
    ...(fields.createdAt ? { createdAt: fields.createdAt } : {}),
  });
  for (const [locale, title] of Object.entries(fields.texts)) {
    em.create(EventTranslation, { event, locale, title, description: '', searchConfig: searchConfigFor(locale) });
  }
  await em.flush();
  return event;
}

const get = (path: string, headers: Record<string, string> = {}) => request(stack.api.baseUrl, 'GET', path, { headers });
const idsOf = (body: Record<string, unknown>) => (body.items as { id: string }[]).map((item) => item.id);

describe('search exclusions', () => {
  it('exclude in every locale, not only in the language of the text', async () => {
    const category = `cat-${letters()}`;
    const word = letters();
    // English only: readers in other locales are shown (and searched in) the English text.
    await seed({ category, startsAt: inDays(3), texts: { en: `Concert with dinosaurs ${word}` } });
    const walk = await seed({ category, startsAt: inDays(4), texts: { en: `Museum walk with dinosaurs ${word}` } });
    for (const locale of [undefined, 'de', 'nb', 'en']) {
      const q = new URLSearchParams({ q: `dinosaurs ${word} -concert`, ...(locale ? { locale } : {}) });
      // With a category the walk reads the events; without, event_search: both paths.
      for (const extra of [`&category=${category}`, '']) {
        const answer = await get(`/v1/events?${q.toString()}${extra}`);
        expect({ locale, extra, status: answer.status, ids: idsOf(answer.body) }).toEqual({ locale, extra, status: 200, ids: [walk.id] });
      }
    }
  });
});

describe('tags', () => {
  it('filter the catalog with tag=', async () => {
    const tag = `tag-${letters()}`;
    const tagged = await seed({ tags: ['kids', tag], texts: { en: 'Tagged' } });
    await seed({ tags: ['kids'], texts: { en: 'Not tagged' } });
    const answer = await get(`/v1/events?tag=${tag}`);
    expect(answer.status).toBe(200);
    expect(idsOf(answer.body)).toEqual([tagged.id]);
  });

  it('can be followed, and the followers are the audience of an announcement with that tag', async () => {
    const tag = `Lego ${letters()}`;
    const user = `tag-follower-${randomUUID()}`;
    const token = await stack.api.token(user);
    const followed = await request(stack.api.baseUrl, 'POST', '/v1/me/interests', { token, body: { kind: 'tag', value: tag } });
    expect(followed.status).toBe(201);
    expect(followed.body).toMatchObject({ kind: 'tag', value: tag });
    const audience = await usersFollowing(stack.orm.em.fork(), { category: `cat-${letters()}`, market: 'QT', tags: [tag] }, { limit: 10 });
    expect(audience).toEqual([user]);
    const gone = await request(stack.api.baseUrl, 'DELETE', `/v1/me/interests/tag/${encodeURIComponent(tag)}`, { token });
    expect(gone.status).toBe(204);
    expect(await usersFollowing(stack.orm.em.fork(), { category: 'x', market: 'QT', tags: [tag] }, { limit: 10 })).toEqual([]);
  });
});

describe('sorting', () => {
  it('lists the public catalog latest first with sort=-startsAt, paging backwards', async () => {
    const category = `cat-${letters()}`;
    const events = [await seed({ category, startsAt: inDays(3), texts: { en: 'A' } }), await seed({ category, startsAt: inDays(4), texts: { en: 'B' } }), await seed({ category, startsAt: inDays(5), texts: { en: 'C' } })];
    const first = await get(`/v1/events?category=${category}&sort=-startsAt&limit=2`);
    expect(idsOf(first.body)).toEqual([events[2]!.id, events[1]!.id]);
    const second = await get(`/v1/events?category=${category}&sort=-startsAt&limit=2&cursor=${first.body.nextCursor as string}`);
    expect(idsOf(second.body)).toEqual([events[0]!.id]);
    expect(idsOf((await get(`/v1/events?category=${category}`)).body)).toEqual(events.map((event) => event.id));
    const refused = await get(`/v1/events?category=${category}&q=a&sort=-startsAt`);
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ in: 'query', field: 'sort' })]);
  });

  it('sorts and searches the admin list by title', async () => {
    const word = letters();
    const banana = await seed({ startsAt: inDays(3), texts: { en: `banana ${word}` }, createdAt: new Date(Date.now() - 3000) });
    const apple = await seed({ startsAt: inDays(5), texts: { en: `Apple ${word}`, nb: `Eple ${word}` }, createdAt: new Date(Date.now() - 2000) });
    const cherry = await seed({ startsAt: inDays(4), texts: { en: `cherry ${word}` }, createdAt: new Date(Date.now() - 1000) });
    await seed({ texts: { en: `unrelated` } });
    const token = await stack.api.token('admin-sort', ['admin']);
    const list = async (query: string) => {
      const answer = await request(stack.api.baseUrl, 'GET', `/v1/admin/events?${query}`, { token });
      expect(answer.status).toBe(200);
      return idsOf(answer.body);
    };
    expect(await list(`q=${word}&sort=title`)).toEqual([apple.id, banana.id, cherry.id]);
    expect(await list(`q=${word}&sort=-title`)).toEqual([cherry.id, banana.id, apple.id]);
    expect(await list(`q=${word}`)).toEqual([banana.id, cherry.id, apple.id]);
    expect(await list(`q=${word}&sort=-startsAt`)).toEqual([apple.id, cherry.id, banana.id]);
    expect(await list(`q=${word}&sort=createdAt`)).toEqual([banana.id, apple.id, cherry.id]);
    // Any language's title, case-insensitive; LIKE wildcards in q are literal.
    expect(await list(`q=${encodeURIComponent(`EPLE ${word}`)}`)).toEqual([apple.id]);
    expect(await list(`q=${encodeURIComponent(`%${word}`)}`)).toEqual([]);
  });
});

describe('notification texts', () => {
  it('refuses unknown placeholders with a 422 naming the field and the variables', async () => {
    const token = await stack.api.token('org-texts', ['organizer'], { markets: ['NO'] });
    const body = {
      defaultLocale: 'en',
      translations: { en: { title: 'Texts', description: 'x' } },
      category: 'workshop',
      market: 'NO',
      timezone: 'Europe/Oslo',
      startsAt: inDays(20).toISOString(),
      endsAt: inDays(21).toISOString(),
      cancellationDeadline: inDays(19).toISOString(),
      capacity: 5,
      notificationTexts: { confirmation: { en: { subject: 'See you at {{eventTitle}}', body: 'Tickets: {{#each tickets}}{{this.code}}{{/each}}' } } },
    };
    const refused = await request(stack.api.baseUrl, 'POST', '/v1/admin/events', { token, body });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      expect.objectContaining({ in: 'body', field: 'notificationTexts.confirmation.en.subject', message: expect.stringContaining('unknown variables: eventTitle') }),
    ]);
    const fixed = { ...body, notificationTexts: { confirmation: { en: { ...body.notificationTexts.confirmation.en, subject: 'See you at {{event.title}}' } } } };
    expect((await request(stack.api.baseUrl, 'POST', '/v1/admin/events', { token, body: fixed })).status).toBe(201);
  });

  it('lists the variables per kind in the API document', async () => {
    const document = JSON.stringify((await get('/openapi.json')).body);
    expect(document).toContain('consent-request: event.title');
    expect(document).toContain('consentUrl');
  });
});

describe('problems', () => {
  it('names a field in the 422 of a closed signup window and of a missing guardian', async () => {
    const closed = await insertEvent(stack.orm, { startsAt: new Date(Date.now() - 3_600_000) });
    const token = await stack.api.token(`u-${randomUUID()}`);
    const signup = (eventId: string, bearer: string) =>
      request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
        token: bearer,
        body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
      });
    const late = await signup(closed.id, token);
    expect(late.status).toBe(422);
    expect(late.body.errors).toEqual([expect.objectContaining({ in: 'path', field: 'eventId', message: expect.stringContaining('signup-closed') })]);

    const consent = await insertEvent(stack.orm, { guardianConsentBelowAge: 13 });
    const minor = await mintDevToken(stack.api.config.jwt, { sub: `minor-${randomUUID()}`, roles: ['participant'], extraClaims: { birthdate: '2018-01-01' } });
    const noGuardian = await signup(consent.id, minor);
    expect(noGuardian.status).toBe(422);
    expect(noGuardian.body.errors).toEqual([expect.objectContaining({ in: 'header', field: 'authorization.guardian_email' })]);
  });

  it('names the Idempotency-Key header when the key was used for a different request', async () => {
    const event = await insertEvent(stack.orm, { capacity: 5 });
    const token = await stack.api.token(`u-${randomUUID()}`);
    const key = randomUUID();
    const signup = (attendees: { firstName: string; age: number; kind: 'child' | 'adult' }[]) =>
      request(stack.api.baseUrl, 'POST', `/v1/events/${event.id}/signups`, { token, headers: { 'idempotency-key': key }, body: { attendees, platform: 'web' } });
    expect((await signup([{ firstName: 'Ada', age: 9, kind: 'child' }])).status).toBe(202);
    const reused = await signup([
      { firstName: 'Ada', age: 9, kind: 'child' },
      { firstName: 'Bo', age: 8, kind: 'child' },
    ]);
    expect({ status: reused.status, type: reused.body.type, errors: reused.body.errors }).toEqual({
      status: 422,
      type: '/problems/idempotency-key-reused',
      errors: [expect.objectContaining({ in: 'header', field: 'idempotency-key' })],
    });
  });

  it('names the field when a follow or notify-me would pass the limit of things followed', async () => {
    const user = `follow-cap-${randomUUID()}`;
    const token = await stack.api.token(user);
    // The cap's worth of follows, written directly (500 requests would only be slower).
    await stack.orm.em
      .fork()
      .getConnection()
      .execute(
        `insert into interest (id, user_id, kind, value, created_at) select gen_random_uuid(), ?, 'tag', 'tag-' || n, now() from generate_series(1, ?) n`,
        [user, MAX_INTERESTS_PER_USER],
      );
    const refused = await request(stack.api.baseUrl, 'POST', '/v1/me/interests', { token, body: { kind: 'tag', value: 'one too many' } });
    expect({ status: refused.status, type: refused.body.type, errors: refused.body.errors }).toEqual({
      status: 422,
      type: '/problems/rule-violation',
      errors: [expect.objectContaining({ in: 'body', field: 'value' })],
    });
    // notify-me counts against the same cap; there the event is named in the path.
    const event = await insertEvent(stack.orm, {});
    const notify = await request(stack.api.baseUrl, 'POST', `/v1/events/${event.id}/notify-me`, { token });
    expect({ status: notify.status, errors: notify.body.errors }).toEqual({ status: 422, errors: [expect.objectContaining({ in: 'path', field: 'eventId' })] });
  });

  it('says what is wrong with malformed JSON', async () => {
    const token = await stack.api.token(`u-${randomUUID()}`);
    const answer = await request(stack.api.baseUrl, 'POST', `/v1/events/${randomUUID()}/signups`, {
      token,
      rawBody: '{"attendees": [',
      headers: { 'content-type': 'application/json' },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ type: '/problems/malformed-json', detail: expect.stringContaining('not valid JSON') });
  });
});

describe('a cancelled event', () => {
  it('keeps a public page that says so, and the cancellation mail links to it', async () => {
    const admin = await stack.api.token('org-cancel', ['organizer'], { markets: ['NO'] });
    const created = await request(stack.api.baseUrl, 'POST', '/v1/admin/events', {
      token: admin,
      body: {
        defaultLocale: 'en',
        translations: { en: { title: 'Kite day', description: 'Kites.' } },
        category: 'workshop',
        market: 'NO',
        timezone: 'Europe/Oslo',
        startsAt: inDays(20).toISOString(),
        endsAt: inDays(21).toISOString(),
        cancellationDeadline: inDays(19).toISOString(),
        capacity: 5,
        publish: true,
      },
    });
    expect(created.status).toBe(201);
    const eventId = created.body.id as string;
    const email = `kite-${randomUUID()}@example.test`;
    const participant = await mintDevToken(stack.api.config.jwt, { sub: `kite-${randomUUID()}`, roles: ['participant'], extraClaims: { email } });
    const signup = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
      token: participant,
      body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
    });
    expect(signup.body.status).toBe('confirmed');
    const cancelled = await request(stack.api.baseUrl, 'POST', `/v1/admin/events/${eventId}/cancel`, { token: admin, body: { reason: 'Storm warning' } });
    expect(cancelled.status).toBe(200);

    const mail = await eventually('the event-cancelled mail', async () => (await mailTo(email)).find((m) => m.subject.startsWith('Cancelled:')), 60_000, 500);
    const link = /https?:\/\/\S+\/v1\/events\/([0-9a-f-]{36})/.exec(mail.text);
    expect(link?.[1]).toBe(eventId);
    const page = await get(`/v1/events/${eventId}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ id: eventId, title: 'Kite day', signupState: 'closed', cancellation: { reason: 'Storm warning' } });
    // Still out of the listing.
    expect(idsOf((await get('/v1/events?category=workshop&limit=100')).body)).not.toContain(eventId);
  });
});
