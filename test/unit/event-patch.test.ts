import { describe, expect, it } from '@jest/globals';
import { checkUsage, eventPatchSchema, mergePatch, unpublishRefusal, type EventState } from '../../src/events/event-patch.js';

const state = {
  capacity: 10,
  tags: ['a'],
  venue: null,
  announceAt: new Date('2027-01-01T00:00:00Z'),
  ticketTypes: [{ code: 'child', names: { en: 'Child' }, prices: [], capacity: 5 }],
  promoCodes: [{ code: 'KIDS', kind: 'percent', value: 10, maxUses: 3 }],
} as unknown as EventState;

describe('patch schema', () => {
  it('applies no defaults, so absent fields stay unchanged', () => {
    expect(eventPatchSchema.parse({})).toEqual({});
  });

  it('clears optional fields with null and refuses unknown ones', () => {
    expect(eventPatchSchema.parse({ announceAt: null })).toEqual({ announceAt: null });
    expect(eventPatchSchema.safeParse({ capacty: 3 }).success).toBe(false);
    expect(eventPatchSchema.safeParse({ capacity: null }).success).toBe(false);
  });
});

describe('mergePatch', () => {
  it('replaces present fields and keeps the rest', () => {
    const merged = mergePatch(state, { capacity: 12, announceAt: null });
    expect(merged).toMatchObject({ capacity: 12, announceAt: null, tags: ['a'] });
    expect(state.capacity).toBe(10);
  });
});

describe('checkUsage', () => {
  it.each([
    ['unused ticket type removed', { ticketTypes: [] }, [{ code: 'child', seatsTaken: 0, signups: 0 }], [], []],
    ['ticket type with signups removed', { ticketTypes: [] }, [{ code: 'child', seatsTaken: 0, signups: 1 }], [], ['ticketTypes']],
    ['ticket capacity below seats taken', {}, [{ code: 'child', seatsTaken: 6, signups: 3 }], [], ['ticketTypes.0.capacity']],
    ['used promo code removed', { promoCodes: [] }, [], [{ code: 'KIDS', usedCount: 1 }], ['promoCodes']],
    ['maxUses below uses', {}, [], [{ code: 'KIDS', usedCount: 4 }], ['promoCodes.0.maxUses']],
    ['all fine', {}, [{ code: 'child', seatsTaken: 5, signups: 2 }], [{ code: 'KIDS', usedCount: 3 }], []],
  ])('%s', (_name, change, tickets, promos, fields) => {
    const violations = checkUsage({ ...state, ...change }, { ticketTypes: tickets, promoCodes: promos });
    expect(violations.map((v) => v.field)).toEqual(fields);
  });
});

describe('unpublishRefusal', () => {
  const now = new Date('2026-12-01T00:00:00Z');
  const published = { status: 'published', heldCount: 0, confirmedCount: 0 };
  it.each([
    ['announcement ahead', { ...published, announceAt: new Date('2027-01-01T00:00:00Z') }, 0, false],
    ['already announced', { ...published, announceAt: new Date('2026-11-01T00:00:00Z') }, 0, true],
    ['no announcement, no signups', { ...published, announceAt: null }, 0, false],
    ['no announcement, signups', { ...published, announceAt: null }, 1, true],
    ['seats taken', { ...published, heldCount: 1, announceAt: new Date('2027-01-01T00:00:00Z') }, 1, true],
    ['a draft', { ...published, status: 'draft', announceAt: null }, 0, true],
  ])('%s', (_name, event, signups, refused) => {
    expect(unpublishRefusal(event, signups, now) !== undefined).toBe(refused);
  });
});
