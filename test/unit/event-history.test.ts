import { describe, expect, it } from '@jest/globals';
import { diffSnapshots, snapshotOf, type Json } from '../../src/events/history.js';
import type { EventState } from '../../src/events/event-patch.js';

describe('diffSnapshots', () => {
  it.each<[string, Record<string, Json>, Record<string, Json>, { field: string; before: unknown; after: unknown }[]]>([
    ['nothing changed', { a: 1, b: 'x' }, { a: 1, b: 'x' }, []],
    ['a scalar changed', { capacity: 10 }, { capacity: 12 }, [{ field: 'capacity', before: 10, after: 12 }]],
    ['a field appears', {}, { venue: 'Hall' }, [{ field: 'venue', before: null, after: 'Hall' }]],
    ['a field disappears', { announceAt: '2027-01-01T00:00:00.000Z' }, {}, [{ field: 'announceAt', before: '2027-01-01T00:00:00.000Z', after: null }]],
    ['nested objects recurse', { t: { en: { title: 'A', description: '' } } }, { t: { en: { title: 'B', description: '' } } }, [{ field: 't.en.title', before: 'A', after: 'B' }]],
    ['arrays are one value', { tags: ['a', 'b'] }, { tags: ['b', 'a'] }, [{ field: 'tags', before: ['a', 'b'], after: ['b', 'a'] }]],
    ['equal arrays are no change', { tags: ['a'] }, { tags: ['a'] }, []],
    ['key order does not matter', { o: { a: 1, b: 2 } }, { o: { b: 2, a: 1 } }, []],
    ['fields come sorted', { b: 1, a: 1 }, { b: 2, a: 2 }, [{ field: 'a', before: 1, after: 2 }, { field: 'b', before: 1, after: 2 }]],
    ['a whole locale added', { t: {} }, { t: { nb: { title: 'Hei' } } }, [{ field: 't.nb', before: null, after: { title: 'Hei' } }]],
  ])('%s', (_name, before, after, changes) => {
    expect(diffSnapshots(before, after)).toEqual(changes);
  });

  it('keys lists by code and writes dates as ISO strings', () => {
    const state = {
      startsAt: new Date('2027-03-01T09:00:00Z'),
      announceAt: null,
      ticketTypes: [{ code: 'child', names: { en: 'Child' }, prices: [] }],
      promoCodes: [],
    } as unknown as EventState;
    expect(snapshotOf(state)).toEqual({
      startsAt: '2027-03-01T09:00:00.000Z',
      ticketTypes: { child: { names: { en: 'Child' }, prices: [] } },
      promoCodes: {},
    });
    const after = { ...state, ticketTypes: [{ code: 'child', names: { en: 'Kid' }, prices: [] }] } as EventState;
    expect(diffSnapshots(snapshotOf(state), snapshotOf(after))).toEqual([
      { field: 'ticketTypes.child.names.en', before: 'Child', after: 'Kid' },
    ]);
  });
});
