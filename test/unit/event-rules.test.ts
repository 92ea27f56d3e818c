import { describe, expect, it } from '@jest/globals';
import { checkCapacity, checkEvent, checkEventSchedule, isValidTimeZone, spotsLeft } from '../../src/events/rules.js';

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

describe('the whole event', () => {
  const base = {
    market: 'NO',
    defaultLocale: 'en',
    translations: { en: {} },
    startsAt: at('2027-06-01T10:00:00Z'),
    endsAt: at('2027-06-01T12:00:00Z'),
    cancellationDeadline: at('2027-05-30T10:00:00Z'),
    capacity: 20,
    ageRules: {},
    refundPolicy: { kind: 'full-before-deadline' as const },
    ticketTypes: [{ code: 'standard', prices: [] }],
    promoCodes: [],
  };
  const fieldsOf = (change: Partial<typeof base> & Record<string, unknown>, taken = 0) =>
    checkEvent({ ...base, ...change }, taken).map((v) => v.field);

  it.each([
    ['a valid event', {}, []],
    ['announce after signup opens', { announceAt: at('2027-05-10T00:00:00Z'), signupOpensAt: at('2027-05-01T00:00:00Z') }, ['announceAt']],
    ['signup opening after it closes', { signupOpensAt: at('2027-05-20T00:00:00Z'), signupClosesAt: at('2027-05-10T00:00:00Z') }, ['signupOpensAt']],
    ['signup closing after the start', { signupClosesAt: at('2027-06-01T11:00:00Z') }, ['signupClosesAt']],
    ['cancellation deadline after the start', { cancellationDeadline: at('2027-06-02T00:00:00Z') }, ['cancellationDeadline']],
    ['no deadline with a deadline refund policy', { cancellationDeadline: undefined }, ['cancellationDeadline']],
    ['min age above max age', { ageRules: { minAge: 12, maxAge: 8 } }, ['ageRules.maxAge']],
    ['an unknown market', { market: 'XX' }, ['market']],
    ['no text in the default locale', { defaultLocale: 'nb' }, ['translations']],
    ['a price in a foreign currency', { ticketTypes: [{ code: 'a', prices: [{ currency: 'SEK', amountMinor: 100 }] }] }, ['ticketTypes.0.prices.0.currency']],
    ['two prices in one currency', { ticketTypes: [{ code: 'a', prices: [{ currency: 'NOK', amountMinor: 1 }, { currency: 'NOK', amountMinor: 2 }] }] }, ['ticketTypes.0.prices']],
    ['a ticket capacity above the event', { ticketTypes: [{ code: 'a', prices: [], capacity: 30 }] }, ['ticketTypes.0.capacity']],
    ['duplicate ticket codes', { ticketTypes: [{ code: 'a', prices: [] }, { code: 'a', prices: [] }] }, ['ticketTypes']],
    ['a percentage over 100', { promoCodes: [{ code: 'X', kind: 'percent', value: 120 }] }, ['promoCodes.0.value']],
    ['a fixed discount without the market currency', { promoCodes: [{ code: 'X', kind: 'fixed', value: 500, currency: 'EUR' }] }, ['promoCodes.0.currency']],
    ['a promo window that ends before it starts', { promoCodes: [{ code: 'X', kind: 'percent', value: 10, validFrom: at('2027-02-01T00:00:00Z'), validUntil: at('2027-01-01T00:00:00Z') }] }, ['promoCodes.0.validUntil']],
  ])('%s', (_name, change, fields) => {
    expect(fieldsOf(change as Record<string, unknown>)).toEqual(fields);
  });

  it('refuses a capacity below the seats already taken', () => {
    expect(fieldsOf({ capacity: 5 }, 6)).toEqual(['capacity']);
    expect(fieldsOf({ capacity: 6 }, 6)).toEqual([]);
  });
});
