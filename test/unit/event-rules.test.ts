import { describe, expect, it } from '@jest/globals';
import { checkCapacity, checkEventSchedule, isValidTimeZone, spotsLeft } from '../../src/events/rules.js';

const at = (iso: string) => new Date(iso);

describe('event schedule', () => {
  it.each([
    ['ends after it starts', '2027-01-01T10:00:00Z', '2027-01-01T12:00:00Z', []],
    ['ends when it starts', '2027-01-01T10:00:00Z', '2027-01-01T10:00:00Z', ['endsAt']],
    ['ends before it starts', '2027-01-01T10:00:00Z', '2027-01-01T09:00:00Z', ['endsAt']],
  ])('%s', (_name, startsAt, endsAt, fields) => {
    expect(checkEventSchedule({ startsAt: at(startsAt), endsAt: at(endsAt) }).map((v) => v.field)).toEqual(fields);
  });
});

describe('capacity', () => {
  it.each([
    [10, 0, []],
    [10, 10, []],
    [9, 10, ['capacity']],
    [0, 0, []],
  ])('capacity %i with %i seats taken', (capacity, taken, fields) => {
    expect(checkCapacity(capacity, taken).map((v) => v.field)).toEqual(fields);
  });

  it('counts spots left, never below zero', () => {
    expect(spotsLeft({ capacity: 10, heldCount: 3, confirmedCount: 4 })).toBe(3);
    expect(spotsLeft({ capacity: 5, heldCount: 3, confirmedCount: 4 })).toBe(0);
  });
});

describe('time zones', () => {
  it.each([
    ['Europe/Oslo', true],
    ['America/Argentina/Buenos_Aires', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
  ])('%s is valid: %s', (zone, valid) => {
    expect(isValidTimeZone(zone)).toBe(valid);
  });
});
