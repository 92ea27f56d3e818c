import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MikroORM } from '../../src/db/orm.js';
import { searchConfigFor, type Platform, type Price } from '../../src/events/event-data.js';
import { EventTranslation } from '../../src/events/event-translation.entity.js';
import { LiveEvent, type EventStatus } from '../../src/events/event.entity.js';
import { TicketType } from '../../src/events/ticket-type.entity.js';
import { decodeCursor, listPublicEvents } from '../../src/events/public-catalog.js';
import { request } from '../support/http.js';
import {
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

/** Other test files share the database: every test works inside its own category (and words). */
const letters = () =>
  Array.from(randomUUID().replaceAll('-', '').slice(0, 10), (c) => String.fromCharCode(97 + (parseInt(c, 16) % 26))).join('');
const uniqueCategory = () => `cat-${letters()}`;

const day = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * day);

interface SeedEvent {
  category: string;
  status?: EventStatus;
  market?: string;
  startsAt?: Date;
  announceAt?: Date | null;
  signupOpensAt?: Date | null;
  defaultLocale?: string;
  texts?: Record<string, { title: string; summary?: string; description?: string }>;
  minAge?: number | null;
  maxAge?: number | null;
  platforms?: Platform[];
  capacity?: number;
  confirmedCount?: number;
  waitlistEnabled?: boolean;
  tickets?: Price[][];
}

async function seed(fields: SeedEvent): Promise<LiveEvent> {
  const em = orm.em.fork();
  const startsAt = fields.startsAt ?? inDays(10);
  const event = em.create(LiveEvent, {
    id: randomUUID(),
    market: fields.market ?? 'NO',
    timezone: 'Europe/Oslo',
    defaultLocale: fields.defaultLocale ?? 'en',
    category: fields.category,
    tags: ['kids'],
    venue: { name: 'Deichman', address: { line1: 'Anne-Cath. Vestlys plass 1', city: 'Oslo', country: 'NO' } },
    status: fields.status ?? 'published',
    startsAt,
    endsAt: new Date(startsAt.getTime() + 2 * 3_600_000),
    announceAt: fields.announceAt ?? null,
    signupOpensAt: fields.signupOpensAt ?? null,
    capacity: fields.capacity ?? 10,
    confirmedCount: fields.confirmedCount ?? 0,
    waitlistEnabled: fields.waitlistEnabled ?? false,
    minAge: fields.minAge ?? null,
    maxAge: fields.maxAge ?? null,
    platforms: fields.platforms ?? ['web', 'ios', 'android', 'unity'],
    internal: { coordinator: 'secret coordinator', budgetNotes: 'secret budget' },
    createdBy: 'catalog-test',
  });
  for (const [locale, text] of Object.entries(fields.texts ?? { en: { title: 'Event' } })) {
    em.create(EventTranslation, {
      event,
      locale,
      title: text.title,
      summary: text.summary ?? null,
      description: text.description ?? '',
      searchConfig: searchConfigFor(locale),
    });
  }
  (fields.tickets ?? []).forEach((prices, index) =>
    em.create(TicketType, { id: randomUUID(), event, code: `t${index}`, names: { en: `Ticket ${index}` }, prices }),
  );
  await em.flush();
  return event;
}

type Item = Record<string, unknown> & { id: string };

async function list(query: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await request(api.baseUrl, 'GET', `/v1/events?${new URLSearchParams(query).toString()}`, { headers });
  return { ...response, items: (response.body.items ?? []) as Item[] };
}

const ids = (items: Item[]) => items.map((item) => item.id);

describe('GET /v1/events', () => {
  it('lists only published, announced events, without internal fields, sorted by start', async () => {
    const category = uniqueCategory();
    const later = await seed({ category, startsAt: inDays(20) });
    const sooner = await seed({ category, startsAt: inDays(5), announceAt: inDays(-1) });
    await seed({ category, status: 'draft' });
    await seed({ category, status: 'cancelled' });
    await seed({ category, announceAt: inDays(2) });

    const { status, items, body } = await list({ category });
    expect(status).toBe(200);
    expect(ids(items)).toEqual([sooner.id, later.id]);
    expect(body.nextCursor).toBeNull();
    const text = JSON.stringify(body);
    expect(text).not.toContain('secret');
    for (const field of ['internal', 'heldCount', 'confirmedCount', 'createdBy', 'version', 'status', 'notificationTexts']) {
      expect(items[0]).not.toHaveProperty(field);
    }
    expect(items[0]).toMatchObject({
      title: 'Event',
      locale: 'en',
      category,
      market: 'NO',
      tags: ['kids'],
      venue: { name: 'Deichman', city: 'Oslo' },
      price: { free: true },
      spotsLeft: 10,
      soldOut: false,
      waitlistOpen: false,
      signupState: 'open',
      signupOpensAt: null,
    });
  });

  it('keeps drafts and unannounced events out of reads by id too; a cancelled one says it is cancelled', async () => {
    const category = uniqueCategory();
    for (const hidden of [await seed({ category, status: 'draft' }), await seed({ category, announceAt: inDays(1) })]) {
      const response = await request(api.baseUrl, 'GET', `/v1/events/${hidden.id}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('cache-control')).toBeNull();
    }
    const cancelled = await seed({ category, status: 'cancelled' });
    const page = await request(api.baseUrl, 'GET', `/v1/events/${cancelled.id}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ id: cancelled.id, signupState: 'closed', cancellation: { reason: null } });
    expect(JSON.stringify(page.body)).not.toContain('secret');
    const shown = await seed({ category, announceAt: inDays(-1), tickets: [[{ currency: 'NOK', amountMinor: 15000 }]] });
    const response = await request(api.baseUrl, 'GET', `/v1/events/${shown.id}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: shown.id, spotsLeft: 10, signupState: 'open', price: { free: false } });
    expect(response.body.ticketTypes).toEqual([{ code: 't0', name: 'Ticket 0', prices: [{ currency: 'NOK', amountMinor: 15000 }] }]);
    expect(JSON.stringify(response.body)).not.toContain('secret');
  });

  it('leaves ended events out of the default list; an explicit date window still finds them, completed ones too', async () => {
    const category = uniqueCategory();
    const word = letters();
    const texts = { en: { title: `Ended or not ${word}` } };
    // seed() makes every event last two hours.
    const completed = await seed({ category, texts, status: 'completed', startsAt: inDays(-2) });
    const ended = await seed({ category, texts, startsAt: inDays(-1) });
    const running = await seed({ category, texts, startsAt: new Date(Date.now() - 3_600_000) });
    const upcoming = await seed({ category, texts, startsAt: inDays(3) });
    const everything = [completed.id, ended.id, running.id, upcoming.id];
    const window = { from: inDays(-3).toISOString() };

    expect(ids((await list({ category })).items)).toEqual([running.id, upcoming.id]);
    expect(ids((await list({ category, ...window })).items)).toEqual(everything);
    expect(ids((await list({ category, to: inDays(1).toISOString() })).items)).toEqual([completed.id, ended.id, running.id]);
    expect(ids((await list({ category, ...window, sort: '-startsAt' })).items)).toEqual([...everything].reverse());
    // A window in the future holds no ended event.
    expect(ids((await list({ category, from: inDays(1).toISOString() })).items)).toEqual([upcoming.id]);
    // Keyword searches alike, by each of their paths: the walk over event_search (dates only),
    // the walk over events (a filter), the GIN index after a one-event walk.
    expect(ids((await list({ q: word })).items)).toEqual([running.id, upcoming.id]);
    expect(ids((await list({ q: word, ...window })).items)).toEqual(everything);
    expect(ids((await list({ q: word, category })).items)).toEqual([running.id, upcoming.id]);
    const viaIndex = (query: { from?: Date }) =>
      listPublicEvents(orm.em.fork(), { q: word, limit: 10, ...query }, 'en', new Date(), { walkBudget: 1 });
    expect((await viaIndex({})).items.map((item) => item.id)).toEqual([running.id, upcoming.id]);
    expect((await viaIndex({ from: inDays(-3) })).items.map((item) => item.id)).toEqual(everything);
    // By id a completed event stays readable; nothing to sign up for.
    const page = await request(api.baseUrl, 'GET', `/v1/events/${completed.id}`);
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ id: completed.id, signupState: 'closed', cancellation: null });
  });

  it('filters by start time range: from inclusive, to exclusive', async () => {
    const category = uniqueCategory();
    const start = new Date(Math.ceil(Date.now() / day) * day + 30 * day);
    const [a, b, c] = [
      await seed({ category, startsAt: start }),
      await seed({ category, startsAt: new Date(start.getTime() + day) }),
      await seed({ category, startsAt: new Date(start.getTime() + 2 * day) }),
    ];
    expect(ids((await list({ category, from: start.toISOString() })).items)).toEqual([a.id, b.id, c.id]);
    expect(ids((await list({ category, from: new Date(start.getTime() + 1).toISOString() })).items)).toEqual([b.id, c.id]);
    expect(
      ids((await list({ category, from: start.toISOString(), to: new Date(start.getTime() + 2 * day).toISOString() })).items),
    ).toEqual([a.id, b.id]);
  });

  it('filters by category and market', async () => {
    const category = uniqueCategory();
    const norway = await seed({ category, market: 'NO' });
    const sweden = await seed({ category, market: 'SE' });
    await seed({ category: uniqueCategory(), market: 'SE' });
    expect(ids((await list({ category })).items).sort()).toEqual([norway.id, sweden.id].sort());
    expect(ids((await list({ category, market: 'SE' })).items)).toEqual([sweden.id]);
  });

  it('filters by platform', async () => {
    const category = uniqueCategory();
    const unity = await seed({ category, platforms: ['unity'] });
    const web = await seed({ category, platforms: ['web', 'ios'] });
    expect(ids((await list({ category, platform: 'unity' })).items)).toEqual([unity.id]);
    expect(ids((await list({ category, platform: 'ios' })).items)).toEqual([web.id]);
    expect((await list({ category, platform: 'android' })).items).toEqual([]);
  });

  it('filters by the age an attendee may join at, open-ended bounds included', async () => {
    const category = uniqueCategory();
    const kids = await seed({ category, minAge: 6, maxAge: 12, startsAt: inDays(3) });
    const adults = await seed({ category, minAge: 18, startsAt: inDays(4) });
    const small = await seed({ category, maxAge: 5, startsAt: inDays(5) });
    const all = await seed({ category, startsAt: inDays(6) });
    expect(ids((await list({ category, age: '6' })).items)).toEqual([kids.id, all.id]);
    expect(ids((await list({ category, age: '12' })).items)).toEqual([kids.id, all.id]);
    expect(ids((await list({ category, age: '13' })).items)).toEqual([all.id]);
    expect(ids((await list({ category, age: '40' })).items)).toEqual([adults.id, all.id]);
    expect(ids((await list({ category, age: '5' })).items)).toEqual([small.id, all.id]);
    expect((await list({ category, age: '6' })).items[0]).toMatchObject({ ageRules: { minAge: 6, maxAge: 12 } });
  });

  it('filters free and priced events and shows the price range', async () => {
    const category = uniqueCategory();
    const noTickets = await seed({ category, startsAt: inDays(3) });
    const freeTickets = await seed({ category, startsAt: inDays(4), tickets: [[], []] });
    const priced = await seed({
      category,
      startsAt: inDays(5),
      tickets: [[], [{ currency: 'NOK', amountMinor: 10000 }], [{ currency: 'NOK', amountMinor: 25000 }]],
    });
    expect(ids((await list({ category, free: 'true' })).items)).toEqual([noTickets.id, freeTickets.id]);
    const paid = await list({ category, free: 'false' });
    expect(ids(paid.items)).toEqual([priced.id]);
    expect(paid.items[0]).toMatchObject({ price: { free: false, currency: 'NOK', minAmountMinor: 10000, maxAmountMinor: 25000 } });
  });

  it('searches the requested locale, falling back to the default locale for events without it', async () => {
    const category = uniqueCategory();
    const word = letters();
    const both = await seed({
      category,
      startsAt: inDays(3),
      texts: {
        en: { title: `Robot workshop ${word}`, description: 'Build robots that draw.' },
        nb: { title: `Robotverksted ${word}`, summary: 'For barn', description: 'Bygg roboter som tegner.' },
      },
    });
    const englishOnly = await seed({
      category,
      startsAt: inDays(4),
      texts: { en: { title: 'Painting for kids', summary: `Brushes and ${word}` } },
    });
    const norwegianDefault = await seed({
      category,
      startsAt: inDays(5),
      defaultLocale: 'nb',
      texts: { nb: { title: 'Malekurs', description: `Pensler og ${word} for alle` } },
    });

    // Stemmed in the locale's configuration: "robots" finds "Robot", "roboter" finds "Robotverksted"'s description.
    expect(ids((await list({ category, q: 'robots', locale: 'en' })).items)).toEqual([both.id]);
    expect(ids((await list({ category, q: 'roboter' }, { 'accept-language': 'nb-NO,nb;q=0.9' })).items)).toEqual([both.id]);
    // Title, summary and description all count; events lacking the locale are searched in their default's text.
    const norwegian = await list({ category, q: word, locale: 'nb' });
    expect(ids(norwegian.items)).toEqual([both.id, englishOnly.id, norwegianDefault.id]);
    expect(norwegian.items.map((item) => item.locale)).toEqual(['nb', 'en', 'nb']);
    expect(norwegian.items[0]).toMatchObject({ title: `Robotverksted ${word}`, summary: 'For barn' });
    // An English reader sees the Norwegian-only event in Norwegian; websearch syntax works.
    expect(ids((await list({ category, q: `${word} -robot`, locale: 'en' })).items)).toEqual([englishOnly.id, norwegianDefault.id]);
    expect(ids((await list({ category, q: `"painting for kids"` })).items)).toEqual([englishOnly.id]);
    // A locale nobody wrote falls back for every event.
    const german = await list({ category, locale: 'de' });
    expect(german.items.map((item) => item.locale)).toEqual(['en', 'en', 'nb']);
  });

  it('finds the same pages whether it walks events in order or asks the GIN index (after a walk)', async () => {
    const category = uniqueCategory();
    const word = letters();
    const matching: string[] = [];
    for (let i = 0; i < 9; i++) {
      const event = await seed({
        category,
        startsAt: inDays(2 + i),
        defaultLocale: i % 3 === 0 ? 'nb' : 'en',
        texts: i % 3 === 0 ? { nb: { title: `Konsert ${i % 2 ? word : 'uten'}` } } : { en: { title: `Concert ${i % 2 ? word : 'without'}` }, nb: { title: `Konsert ${word}` } },
      });
      if (i % 2 === 1 || i % 3 !== 0) matching.push(event.id);
    }
    const em = orm.em.fork();
    const query = { category, q: word, limit: 2 };
    const walkAll = async (walkBudget: number) => {
      const found: string[] = [];
      let after;
      for (let pages = 0; pages < 10; pages++) {
        const page = await listPublicEvents(em, { ...query, after }, 'nb', new Date(), { walkBudget });
        found.push(...page.items.map((item) => item.id));
        if (!page.nextCursor) break;
        after = decodeCursor(page.nextCursor);
      }
      return found;
    };
    // nb readers: the nb text of every event that has one, the default (en) text of the others.
    expect(await walkAll(1000)).toEqual(matching); // walks only
    for (const budget of [1, 2, 3]) expect(await walkAll(budget)).toEqual(matching); // walks, then asks the index
  });

  it('finds a moved event by keyword in its new date range (the start copied onto its texts follows the event)', async () => {
    const category = uniqueCategory();
    const word = letters();
    const event = await seed({ category, startsAt: inDays(3), texts: { en: { title: `Concert ${word}` } } });
    await seed({ category, startsAt: inDays(35), texts: { en: { title: 'Concert' } } }); // the one event budget 1 walks
    const em = orm.em.fork();
    const moved = await em.findOneOrFail(LiveEvent, event.id);
    moved.startsAt = inDays(40);
    moved.endsAt = inDays(41);
    await em.flush();
    const range = (from: number, to: number) => ({ category, q: word, limit: 5, from: inDays(from), to: inDays(to) });
    // Budget 1 walks one event without the word and then asks the index, which bounds by the copied start.
    for (const walkBudget of [1, 1000]) {
      const inNew = await listPublicEvents(orm.em.fork(), range(30, 50), 'en', new Date(), { walkBudget });
      const inOld = await listPublicEvents(orm.em.fork(), range(1, 10), 'en', new Date(), { walkBudget });
      expect(inNew.items.map((item) => item.id)).toEqual([event.id]);
      expect(inOld.items).toEqual([]);
    }
  });

  it('walks event_search for dates-only queries: the same pages, following every change to events and texts', async () => {
    // No category here (the other walk handles filtered queries): a window of its own, years ahead.
    const word = letters();
    const start = new Date(Date.UTC(2090, 0, 1) + Math.floor(Math.random() * 3000) * day);
    const at = (days: number) => new Date(start.getTime() + days * day);
    const category = uniqueCategory();
    const events: LiveEvent[] = [];
    for (let i = 0; i < 8; i++) {
      events.push(
        await seed({
          category,
          startsAt: at(1 + i),
          defaultLocale: i % 3 === 0 ? 'nb' : 'en',
          texts:
            i % 3 === 0
              ? { nb: { title: `Konsert ${i % 2 ? word : 'uten'}` } }
              : { en: { title: `Concert ${i % 2 ? word : 'without'}` }, nb: { title: `Konsert ${word}` } },
        }),
      );
    }
    // A description too long for the walk's index entry: the walk reads the translation's own vector.
    const long = await seed({
      category,
      startsAt: at(9),
      texts: { en: { title: 'Lecture', description: `${Array.from({ length: 300 }, (_, i) => `topic${i}`).join(' ')} ${word}` } },
    });
    const fallback = await orm.em
      .fork()
      .getConnection()
      .execute<{ size: number }[]>(`select count(*)::int as size from event_search where event_id = ? and walk_vector is null`, [long.id]);
    expect(fallback).toEqual([{ size: 1 }]);

    const query = { q: word, from: at(0), to: at(30), limit: 2 };
    const pages = async (locale: string) => {
      const found: Record<number, string[]> = {};
      for (const walkBudget of [1, 2, 3, 1000]) {
        found[walkBudget] = [];
        let after;
        for (let pageCount = 0; pageCount < 10; pageCount++) {
          const page = await listPublicEvents(orm.em.fork(), { ...query, after }, locale, new Date(), { walkBudget });
          found[walkBudget].push(...page.items.map((item) => item.id));
          if (!page.nextCursor) break;
          after = decodeCursor(page.nextCursor);
        }
      }
      // Walking only, or walking then asking the index: the same pages.
      for (const walkBudget of [1, 2, 3]) expect(found[walkBudget]).toEqual(found[1000]);
      return found[1000];
    };
    const matching = (list: LiveEvent[]) => list.map((event) => event.id);
    // nb readers: the nb text of every event that has one, the default (en) text of the others.
    expect(await pages('nb')).toEqual(matching([...events.filter((_, i) => i % 2 === 1 || i % 3 !== 0), long]));

    const em = orm.em.fork();
    const [unpublished, unannounced, relocalized, moved, retitled] = await Promise.all(
      [events[1], events[2], events[4], events[5], events[7]].map((event) => em.findOneOrFail(LiveEvent, event!.id)),
    );
    unpublished!.status = 'draft';
    unannounced!.announceAt = inDays(1);
    relocalized!.defaultLocale = 'nb'; // has both texts; an en reader still sees en, a de reader now nb
    moved!.startsAt = at(40);
    moved!.endsAt = at(41);
    await em.flush();
    const texts = await em.find(EventTranslation, { event: retitled!.id });
    for (const text of texts) text.title = 'Concert without';
    const englishOfLong = await em.findOneOrFail(EventTranslation, { event: long.id, locale: 'en' });
    em.remove(englishOfLong);
    await em.flush();

    // events[4] is the only one left with the word in both texts and no other change.
    expect(await pages('nb')).toEqual(matching([events[3]!, events[4]!]));
    expect(await pages('en')).toEqual(matching([events[3]!]));
    expect(await pages('de')).toEqual(matching([events[3]!, events[4]!]));
  });

  it('walks every page without duplicates or gaps, ties on start time included', async () => {
    const category = uniqueCategory();
    const sameStart = inDays(8);
    const seeded: LiveEvent[] = [];
    for (let i = 0; i < 23; i++) seeded.push(await seed({ category, startsAt: i % 3 === 0 ? sameStart : inDays(1 + i) }));
    const expected = [...seeded]
      .sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id.localeCompare(b.id))
      .map((event) => event.id);

    const walked: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await list({ category, limit: '5', ...(cursor ? { cursor } : {}) });
      expect(page.status).toBe(200);
      expect(page.items.length).toBeLessThanOrEqual(5);
      walked.push(...ids(page.items));
      cursor = page.body.nextCursor as string | null;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(5);
    expect(walked).toEqual(expected);
    expect(new Set(walked).size).toBe(23);
  });

  it('reports availability: not open yet, sold out with a waitlist', async () => {
    const category = uniqueCategory();
    const opensAt = inDays(2);
    const notYet = await seed({ category, startsAt: inDays(3), signupOpensAt: opensAt });
    const full = await seed({ category, startsAt: inDays(4), capacity: 4, confirmedCount: 4, waitlistEnabled: true });
    const { items } = await list({ category });
    expect(items.find((item) => item.id === notYet.id)).toMatchObject({
      signupState: 'not-open-yet',
      signupOpensAt: opensAt.toISOString(),
    });
    expect(items.find((item) => item.id === full.id)).toMatchObject({ spotsLeft: 0, soldOut: true, waitlistOpen: true, signupState: 'open' });
  });
});

describe('caching', () => {
  it.each([['list'], ['event']])('answers 304 to a matching If-None-Match on the %s read', async (which) => {
    const category = uniqueCategory();
    const event = await seed({ category, texts: { en: { title: 'Concert' }, nb: { title: 'Konsert' } } });
    const path = which === 'list' ? `/v1/events?category=${category}` : `/v1/events/${event.id}`;
    const first = await request(api.baseUrl, 'GET', path);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^W\/".+"$/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=30');
    expect(first.headers.get('vary')).toMatch(/accept-language/i);

    const again = await request(api.baseUrl, 'GET', path, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(again.body).toEqual({});
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe('public, max-age=5, stale-while-revalidate=30');

    // Another language is another body, so another tag.
    const norwegian = await request(api.baseUrl, 'GET', path, { headers: { 'if-none-match': etag ?? '', 'accept-language': 'nb' } });
    expect(norwegian.status).toBe(200);

    // A seat taken changes the body: the old tag no longer matches, once the API's own 1 s
    // response cache has let the old body go.
    await orm.em.fork().getConnection().execute('update event set confirmed_count = 1 where id = ?', [event.id]);
    const cached = await request(api.baseUrl, 'GET', path, { headers: { 'if-none-match': etag ?? '' } });
    expect([200, 304]).toContain(cached.status);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const changed = await request(api.baseUrl, 'GET', path, { headers: { 'if-none-match': etag ?? '' } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });
});

describe('validation', () => {
  it.each([
    ['catgory=x', 'catgory'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['age=-1', 'age'],
    ['age=1e1', 'age'],
    ['free=yes', 'free'],
    ['platform=xbox', 'platform'],
    ['market=Norway', 'market'],
    ['from=tomorrow', 'from'],
    ['from=2027-03-02T00:00:00Z&to=2027-03-01T00:00:00Z', 'to'],
    ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
    ['locale=english', 'locale'],
    ['category=a&category=b', 'category'],
  ])('%s names the field %s', async (query, field) => {
    const response = await request(api.baseUrl, 'GET', `/v1/events?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'query', field })]);
  });

  it('refuses unknown parameters on the read by id', async () => {
    const response = await request(api.baseUrl, 'GET', `/v1/events/${randomUUID()}?lang=en`);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ in: 'query', field: 'lang' })]);
  });
});
