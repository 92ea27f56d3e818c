import { describe, expect, it } from '@jest/globals';
import { availabilityOf, type AvailabilityInput } from '../../src/events/availability.js';
import { createResponseCache, ifNoneMatchMatches, weakEtag } from '../../src/http/caching.js';
import { decodeCursor, encodeCursor } from '../../src/events/public-catalog.js';

const at = (iso: string) => new Date(iso);
const base: AvailabilityInput = {
  capacity: 10,
  heldCount: 0,
  confirmedCount: 0,
  waitlistEnabled: false,
  startsAt: at('2027-03-01T10:00:00Z'),
  signupOpensAt: null,
  signupClosesAt: null,
};
const opens = at('2027-02-01T10:00:00Z');
const closes = at('2027-02-20T10:00:00Z');

describe('availability', () => {
  it.each<[string, Partial<AvailabilityInput>, string, { spotsLeft: number; soldOut: boolean; waitlistOpen: boolean; signupState: string }]>([
    ['no window: open until the start', {}, '2027-01-01T00:00:00Z', { spotsLeft: 10, soldOut: false, waitlistOpen: false, signupState: 'open' }],
    ['no window: closed at the start', {}, '2027-03-01T10:00:00Z', { spotsLeft: 10, soldOut: false, waitlistOpen: false, signupState: 'closed' }],
    ['before the window opens', { signupOpensAt: opens }, '2027-01-31T10:00:00Z', { spotsLeft: 10, soldOut: false, waitlistOpen: false, signupState: 'not-open-yet' }],
    ['the moment it opens', { signupOpensAt: opens }, '2027-02-01T10:00:00Z', { spotsLeft: 10, soldOut: false, waitlistOpen: false, signupState: 'open' }],
    ['the moment it closes', { signupOpensAt: opens, signupClosesAt: closes }, '2027-02-20T10:00:00Z', { spotsLeft: 10, soldOut: false, waitlistOpen: false, signupState: 'closed' }],
    ['held seats count as taken', { heldCount: 4, confirmedCount: 3 }, '2027-01-01T00:00:00Z', { spotsLeft: 3, soldOut: false, waitlistOpen: false, signupState: 'open' }],
    ['sold out, no waitlist', { heldCount: 2, confirmedCount: 8 }, '2027-01-01T00:00:00Z', { spotsLeft: 0, soldOut: true, waitlistOpen: false, signupState: 'open' }],
    ['sold out with a waitlist', { confirmedCount: 10, waitlistEnabled: true }, '2027-01-01T00:00:00Z', { spotsLeft: 0, soldOut: true, waitlistOpen: true, signupState: 'open' }],
    ['waitlist shut once signups close', { confirmedCount: 10, waitlistEnabled: true }, '2027-03-02T00:00:00Z', { spotsLeft: 0, soldOut: true, waitlistOpen: false, signupState: 'closed' }],
    ['waitlist not before signups open', { confirmedCount: 10, waitlistEnabled: true, signupOpensAt: opens }, '2027-01-01T00:00:00Z', { spotsLeft: 0, soldOut: true, waitlistOpen: false, signupState: 'not-open-yet' }],
    ['free seats keep the waitlist shut', { confirmedCount: 9, waitlistEnabled: true }, '2027-01-01T00:00:00Z', { spotsLeft: 1, soldOut: false, waitlistOpen: false, signupState: 'open' }],
    ['capacity lowered below seats taken', { capacity: 5, confirmedCount: 6 }, '2027-01-01T00:00:00Z', { spotsLeft: 0, soldOut: true, waitlistOpen: false, signupState: 'open' }],
  ])('%s', (_name, change, now, expected) => {
    expect(availabilityOf({ ...base, ...change }, at(now))).toEqual({
      ...expected,
      signupOpensAt: change.signupOpensAt?.toISOString() ?? null,
    });
  });
});

describe('conditional requests', () => {
  const etag = weakEtag('{"a":1}');
  it.each([
    [undefined, false],
    [etag, true],
    [etag.slice(2), true], // a strong form of the same tag matches under weak comparison
    [`W/"other", ${etag}`, true],
    ['*', true],
    ['W/"other"', false],
  ])('If-None-Match %s', (header, matches) => {
    expect(ifNoneMatchMatches(header, etag)).toBe(matches);
  });
  it('changes the tag with the body', () => {
    expect(weakEtag('{"a":2}')).not.toBe(etag);
  });
});

describe('catalog cursor', () => {
  it('round-trips and refuses foreign text', () => {
    const cursor = { startsAt: '2027-03-01 10:00:00.123456+00', id: '0b6f2d9e-5a4c-4a7e-9a51-2f0c1d2e3f40' };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    expect(decodeCursor('not-a-cursor')).toBeUndefined();
    expect(decodeCursor(Buffer.from('["x","y"]').toString('base64url'))).toBeUndefined();
  });
});

describe('response cache', () => {
  it('serves one computation per key until it expires, and forgets failures', async () => {
    let clock = 0;
    let calls = 0;
    const cache = createResponseCache({ ttlMs: 1000, maxEntries: 2, now: () => clock });
    const produce = () => Promise.resolve({ n: ++calls });
    const [a, b] = await Promise.all([cache.get('k', produce), cache.get('k', produce)]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
    clock = 999;
    expect((await cache.get('k', produce)).bytes.toString()).toBe('{"n":1}');
    clock = 1000;
    expect((await cache.get('k', produce)).bytes.toString()).toBe('{"n":2}');
    await expect(cache.get('bad', () => Promise.reject(new Error('404')))).rejects.toThrow('404');
    expect((await cache.get('bad', produce)).bytes.toString()).toBe('{"n":3}');
  });
});
