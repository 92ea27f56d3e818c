import { describe, expect, it } from '@jest/globals';
import { checkPromo, PricingError, quoteSignup } from '../../src/payments/pricing.js';

const nok = [{ currency: 'NOK', amountMinor: 12_500 }];

describe('quotes', () => {
  it('is free for a ticket type without prices', () => {
    expect(quoteSignup({ prices: [], currency: 'NOK', quantity: 3 })).toEqual({ free: true, totalMinor: 0 });
  });

  it.each([
    ['no promo', undefined, 37_500, 0],
    ['10 percent', { code: 'TEN', kind: 'percent' as const, value: 10 }, 33_750, 3_750],
    ['33 percent rounds half up', { code: 'T', kind: 'percent' as const, value: 33 }, 25_125, 12_375],
    ['a fixed amount', { code: 'F', kind: 'fixed' as const, value: 5_000 }, 32_500, 5_000],
    ['a fixed amount above the total', { code: 'F', kind: 'fixed' as const, value: 99_999 }, 0, 37_500],
    ['100 percent', { code: 'ALL', kind: 'percent' as const, value: 100 }, 0, 37_500],
  ])('three tickets, %s', (_name, promo, total, discount) => {
    expect(quoteSignup({ prices: nok, currency: 'NOK', quantity: 3, promo })).toMatchObject({
      free: false,
      currency: 'NOK',
      subtotalMinor: 37_500,
      discountMinor: discount,
      totalMinor: total,
    });
  });

  it('refuses to sell a priced ticket in a currency it has no price in', () => {
    expect(() => quoteSignup({ prices: nok, currency: 'SEK', quantity: 1 })).toThrow(PricingError);
  });
});

describe('promo codes', () => {
  const promo = {
    code: 'SPRING',
    kind: 'fixed' as const,
    value: 1_000,
    currency: 'NOK',
    maxUses: 2,
    usedCount: 0,
    validFrom: new Date('2027-03-01T00:00:00Z'),
    validUntil: new Date('2027-04-01T00:00:00Z'),
  };
  const during = new Date('2027-03-15T00:00:00Z');

  it.each([
    ['valid', {}, during, 'NOK', undefined],
    ['not started', {}, new Date('2027-02-28T23:59:59Z'), 'NOK', 'promo-not-started'],
    ['expired at the end instant', {}, new Date('2027-04-01T00:00:00Z'), 'NOK', 'promo-expired'],
    ['used up', { usedCount: 2 }, during, 'NOK', 'promo-used-up'],
    ['fixed in another currency', {}, during, 'SEK', 'promo-wrong-currency'],
    ['percent in any currency', { kind: 'percent' as const, value: 10, currency: null }, during, 'SEK', undefined],
  ])('%s', (_name, change, now, currency, refusal) => {
    expect(checkPromo({ ...promo, ...change }, now, currency)).toBe(refusal);
  });
});
