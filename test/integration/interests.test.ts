import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mintDevToken } from '../../src/auth/tokens.js';
import { UserContact } from '../../src/contacts/contact.entity.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { usersAskingToBeNotified, usersFollowing } from '../../src/interests/audience.js';
import { Interest } from '../../src/interests/interest.entity.js';
import { MAX_INTERESTS_PER_USER } from '../../src/interests/service.js';
import { request } from '../support/http.js';
import { insertEvent, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack.stop();
});

const call = async (method: string, path: string, options: { token?: string; body?: unknown } = {}) =>
  request(stack.api.baseUrl, method, path, options);
const newUser = () => `interest-user-${randomUUID()}`;
/** Categories of their own: other test files share the database. */
const newCategory = () => `cat-${randomUUID().slice(0, 8)}`;

async function setAnnounceAt(eventId: string, announceAt: Date): Promise<void> {
  await stack.orm.em.fork().nativeUpdate(LiveEvent, { id: eventId }, { announceAt });
}

describe('notify-me', () => {
  it('records the wish once: 201, then 200 with the same interest', async () => {
    const event = await insertEvent(stack.orm);
    const token = await stack.api.token(newUser());
    const path = `/v1/events/${event.id}/notify-me`;

    const first = await call('POST', path, { token });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ kind: 'event', value: event.id, createdAt: expect.any(String) });
    const again = await call('POST', path, { token });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const listed = await call('GET', '/v1/me/interests', { token });
    expect(listed.body).toEqual({ items: [first.body] });
  });

  it('answers 404 for drafts, cancelled, not yet announced and unknown events, writing nothing', async () => {
    const user = newUser();
    const token = await stack.api.token(user);
    const draft = await insertEvent(stack.orm, { status: 'draft' });
    const cancelled = await insertEvent(stack.orm, { status: 'cancelled' });
    const unannounced = await insertEvent(stack.orm);
    await setAnnounceAt(unannounced.id, new Date(Date.now() + 86_400_000));
    for (const eventId of [draft.id, cancelled.id, unannounced.id, randomUUID()]) {
      const answer = await call('POST', `/v1/events/${eventId}/notify-me`, { token });
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect(await stack.orm.em.fork().count(Interest, { userId: user })).toBe(0);

    // Once its announcement is past, the same event may be followed.
    await setAnnounceAt(unannounced.id, new Date(Date.now() - 1000));
    expect((await call('POST', `/v1/events/${unannounced.id}/notify-me`, { token })).status).toBe(201);
  });

  it('is withdrawn with DELETE: 204, and 204 again when there is nothing', async () => {
    const event = await insertEvent(stack.orm);
    const token = await stack.api.token(newUser());
    const path = `/v1/events/${event.id}/notify-me`;
    await call('POST', path, { token });
    expect((await call('DELETE', path, { token })).status).toBe(204);
    expect((await call('DELETE', path, { token })).status).toBe(204);
    expect((await call('GET', '/v1/me/interests', { token })).body).toEqual({ items: [] });
  });

  it('answers 400 for a malformed id and 401 without a token', async () => {
    const token = await stack.api.token(newUser());
    expect((await call('POST', '/v1/events/nope/notify-me', { token })).status).toBe(400);
    expect((await call('DELETE', '/v1/events/nope/notify-me', { token })).status).toBe(400);
    const event = await insertEvent(stack.orm);
    const unauthenticated = await call('POST', `/v1/events/${event.id}/notify-me`);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('www-authenticate')).toBe('Bearer');
    expect((await call('DELETE', `/v1/events/${event.id}/notify-me`)).status).toBe(401);
  });

  it("records the caller's contact from the token's profile claims", async () => {
    const user = newUser();
    const email = `${user}@example.test`;
    const token = await mintDevToken(stack.api.config.jwt, { sub: user, roles: ['participant'], extraClaims: { email, locale: 'nb' } });
    const event = await insertEvent(stack.orm);
    expect((await call('POST', `/v1/events/${event.id}/notify-me`, { token })).status).toBe(201);
    const contact = await stack.orm.em.fork().findOneOrFail(UserContact, user);
    expect(contact).toMatchObject({ email, locale: 'nb' });
  });
});

describe('/v1/me/interests', () => {
  it('follows categories and markets idempotently, lists and unfollows them', async () => {
    const token = await stack.api.token(newUser());
    const category = newCategory();

    const followed = await call('POST', '/v1/me/interests', { token, body: { kind: 'category', value: category } });
    expect(followed.status).toBe(201);
    expect(followed.body).toEqual({ kind: 'category', value: category, createdAt: expect.any(String) });
    expect((await call('POST', '/v1/me/interests', { token, body: { kind: 'category', value: category } })).status).toBe(200);
    expect((await call('POST', '/v1/me/interests', { token, body: { kind: 'market', value: 'SE' } })).status).toBe(201);

    const listed = await call('GET', '/v1/me/interests', { token });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    expect((listed.body.items as { kind: string; value: string }[]).map(({ kind, value }) => [kind, value])).toEqual([
      ['category', category],
      ['market', 'SE'],
    ]);

    expect((await call('DELETE', `/v1/me/interests/category/${category}`, { token })).status).toBe(204);
    expect((await call('DELETE', `/v1/me/interests/category/${category}`, { token })).status).toBe(204);
    expect((await call('DELETE', '/v1/me/interests/market/SE', { token })).status).toBe(204);
    expect((await call('GET', '/v1/me/interests', { token })).body).toEqual({ items: [] });
  });

  it('keeps each user to their own interests', async () => {
    const category = newCategory();
    const alice = await stack.api.token(newUser());
    const bob = await stack.api.token(newUser());
    await call('POST', '/v1/me/interests', { token: alice, body: { kind: 'category', value: category } });
    expect((await call('GET', '/v1/me/interests', { token: bob })).body).toEqual({ items: [] });
    await call('DELETE', `/v1/me/interests/category/${category}`, { token: bob });
    expect((await call('GET', '/v1/me/interests', { token: alice })).body.items).toHaveLength(1);
  });

  it('answers 400 naming the field for malformed codes, kinds and bodies', async () => {
    const token = await stack.api.token(newUser());
    const invalid: unknown[] = [
      { kind: 'category', value: 'Not A Slug' },
      { kind: 'market', value: 'no' },
      { kind: 'market', value: 'NOR' },
      { kind: 'event', value: randomUUID() }, // events are followed with notify-me
      { kind: 'category' },
      { kind: 'category', value: 'workshop', extra: true },
      {},
    ];
    for (const body of invalid) {
      const answer = await call('POST', '/v1/me/interests', { token, body });
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.body.type).toBe('/problems/validation-error');
    }
    const badMarket = await call('POST', '/v1/me/interests', { token, body: { kind: 'market', value: 'no' } });
    expect(badMarket.body.errors).toEqual([expect.objectContaining({ in: 'body', field: 'value' })]);

    expect((await call('DELETE', '/v1/me/interests/market/no', { token })).status).toBe(400);
    expect((await call('DELETE', '/v1/me/interests/category/Bad%20Slug', { token })).status).toBe(400);
    expect((await call('DELETE', '/v1/me/interests/event/workshop', { token })).status).toBe(400);
    expect((await call('GET', '/v1/me/interests', { token })).body).toEqual({ items: [] });
  });

  it('answers 401 without a token', async () => {
    expect((await call('GET', '/v1/me/interests')).status).toBe(401);
    expect((await call('POST', '/v1/me/interests', { body: { kind: 'market', value: 'NO' } })).status).toBe(401);
    expect((await call('DELETE', '/v1/me/interests/market/NO')).status).toBe(401);
  });

  it(`stops a user at ${MAX_INTERESTS_PER_USER} interests (422), still answering ones they have`, async () => {
    const user = newUser();
    const token = await stack.api.token(user);
    await stack.orm.em.getConnection().execute(
      `insert into interest (id, user_id, kind, value, created_at)
       select gen_random_uuid(), ?, 'category', 'bulk-' || n, now() from generate_series(1, ?) n`,
      [user, MAX_INTERESTS_PER_USER],
    );
    const refused = await call('POST', '/v1/me/interests', { token, body: { kind: 'market', value: 'NO' } });
    expect(refused.status).toBe(422);
    expect((await call('POST', '/v1/me/interests', { token, body: { kind: 'category', value: 'bulk-1' } })).status).toBe(200);
  });

  it('makes one row when the same follow races', async () => {
    const user = newUser();
    const token = await stack.api.token(user);
    const category = newCategory();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/v1/me/interests', { token, body: { kind: 'category', value: category } })),
    );
    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(await stack.orm.em.fork().count(Interest, { userId: user })).toBe(1);
  });
});

describe('audiences (for the lifecycle workflow)', () => {
  /** Interests straight in the database, for audiences larger than a test should make through HTTP. */
  async function follow(rows: [userId: string, kind: string, value: string][]): Promise<void> {
    if (rows.length === 0) return;
    await stack.orm.em.getConnection().execute(
      `insert into interest (id, user_id, kind, value, created_at)
       select gen_random_uuid(), r.user_id, r.kind, r.value, now()
         from jsonb_to_recordset(?::jsonb) as r(user_id text, kind text, value text)`,
      [JSON.stringify(rows.map(([user_id, kind, value]) => ({ user_id, kind, value })))],
    );
  }

  async function everyPage(read: (afterUserId: string | undefined) => Promise<string[]>, limit: number): Promise<string[][]> {
    const pages: string[][] = [];
    let afterUserId: string | undefined;
    for (;;) {
      const page = await read(afterUserId);
      expect(page.length).toBeLessThanOrEqual(limit);
      if (page.length === 0) return pages;
      pages.push(page);
      afterUserId = page.at(-1);
    }
  }

  it('usersFollowing: followers of the category OR the market, each once, ordered, in pages', async () => {
    const category = newCategory();
    const market = 'ZZ'; // a market no other test file follows (catalog-fixes uses QT)
    const prefix = `aud-${randomUUID().slice(0, 8)}`;
    const user = (n: number) => `${prefix}-${String(n).padStart(4, '0')}`;
    const onlyCategory = Array.from({ length: 40 }, (_, n) => user(n));
    const both = Array.from({ length: 30 }, (_, n) => user(100 + n));
    const onlyMarket = Array.from({ length: 25 }, (_, n) => user(200 + n));
    const elsewhere = Array.from({ length: 10 }, (_, n) => user(300 + n));
    await stack.orm.em.getConnection().execute(`delete from interest where kind = 'market' and value = ?`, [market]);
    await follow([
      ...onlyCategory.map((id): [string, string, string] => [id, 'category', category]),
      ...both.flatMap((id): [string, string, string][] => [
        [id, 'category', category],
        [id, 'market', market],
      ]),
      ...onlyMarket.map((id): [string, string, string] => [id, 'market', market]),
      ...elsewhere.map((id): [string, string, string] => [id, 'category', newCategory()]),
    ]);

    const em = stack.orm.em.fork();
    const pages = await everyPage((afterUserId) => usersFollowing(em, { category, market }, { afterUserId, limit: 7 }), 7);
    const all = pages.flat();
    const expected = [...onlyCategory, ...both, ...onlyMarket].sort();
    expect(all).toEqual(expected);
    expect(new Set(all).size).toBe(all.length);
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);

    // One page as big as the whole audience gives the same users.
    expect(await usersFollowing(em, { category, market }, { limit: 1000 })).toEqual(expected);
  });

  it('usersFollowing with eventId also counts those asking about the event itself', async () => {
    const category = newCategory();
    const eventId = randomUUID();
    const [a, b] = [`${eventId}-a`, `${eventId}-b`];
    await follow([
      [a, 'category', category],
      [b, 'event', eventId],
      [a, 'event', eventId],
    ]);
    const em = stack.orm.em.fork();
    expect(await usersFollowing(em, { category, market: 'ZY' }, { limit: 10 })).toEqual([a]);
    expect(await usersFollowing(em, { eventId, category, market: 'ZY' }, { limit: 10 })).toEqual([a, b]);
  });

  it('usersAskingToBeNotified: the notify-me users of one event, in pages', async () => {
    const event = await insertEvent(stack.orm);
    const other = await insertEvent(stack.orm);
    const users = Array.from({ length: 23 }, () => newUser());
    await follow([
      ...users.map((id): [string, string, string] => [id, 'event', event.id]),
      [newUser(), 'event', other.id],
      [users[0]!, 'category', newCategory()],
    ]);
    // One more through the API, so the endpoint and the audience agree on what they store.
    const viaApi = newUser();
    expect((await call('POST', `/v1/events/${event.id}/notify-me`, { token: await stack.api.token(viaApi) })).status).toBe(201);

    const em = stack.orm.em.fork();
    const pages = await everyPage((afterUserId) => usersAskingToBeNotified(em, event.id, { afterUserId, limit: 5 }), 5);
    expect(pages.flat()).toEqual([...users, viaApi].sort());
    expect(pages).toHaveLength(5);
  });

  it('refuses a page size outside 1..10000', async () => {
    const em = stack.orm.em.fork();
    await expect(usersAskingToBeNotified(em, randomUUID(), { limit: 0 })).rejects.toThrow(RangeError);
    await expect(usersFollowing(em, { category: 'x', market: 'NO' }, { limit: 10_001 })).rejects.toThrow(RangeError);
  });
});
