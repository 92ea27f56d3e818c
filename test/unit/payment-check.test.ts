import { describe, expect, it } from '@jest/globals';
import { checkPayment, quoteOf, type PaymentCheck } from '../../src/payments/payment-check.js';
import type { PaymentIntentSummary } from '../../src/payments/stripe-gateway.js';

const signupId = '7d0b6a2e-3c1f-4f7e-9a59-2a1c2f0e9b11';
const quote = quoteOf({ id: signupId, paymentIntentId: 'pi_quoted', amountMinor: 25_000, currency: 'NOK' });
const paid: PaymentIntentSummary = {
  id: 'pi_quoted',
  state: 'succeeded',
  amountMinor: 25_000,
  amountReceivedMinor: 25_000,
  currency: 'NOK',
  clientSecret: null,
  signupId,
};

describe('a payment checked against the quote', () => {
  it.each<[string, Partial<PaymentIntentSummary>, PaymentCheck]>([
    ['paid as quoted', {}, { verdict: 'paid' }],
    ['not succeeded at Stripe', { state: 'awaiting-payment' }, { verdict: 'not-paid', state: 'awaiting-payment' }],
    ['processing', { state: 'processing' }, { verdict: 'not-paid', state: 'processing' }],
    ['cancelled', { state: 'canceled' }, { verdict: 'not-paid', state: 'canceled' }],
    ['another intent', { id: 'pi_other' }, { verdict: 'mismatch', fields: ['paymentIntentId'] }],
    ['an intent naming another signup', { signupId: '00000000-0000-4000-8000-000000000000' }, { verdict: 'mismatch', fields: ['signupId'] }],
    ['an intent naming no signup', { signupId: undefined }, { verdict: 'mismatch', fields: ['signupId'] }],
    ['less', { amountMinor: 100, amountReceivedMinor: 100 }, { verdict: 'mismatch', fields: ['amount'] }],
    ['more', { amountMinor: 30_000, amountReceivedMinor: 30_000 }, { verdict: 'mismatch', fields: ['amount'] }],
    ['the quoted amount, but less received', { amountReceivedMinor: 20_000 }, { verdict: 'mismatch', fields: ['amount'] }],
    ['another currency', { currency: 'SEK' }, { verdict: 'mismatch', fields: ['currency'] }],
    ['everything else', { id: 'pi_x', signupId: undefined, amountMinor: 1, amountReceivedMinor: 1, currency: 'USD' }, {
      verdict: 'mismatch',
      fields: ['paymentIntentId', 'signupId', 'amount', 'currency'],
    }],
  ])('%s', (_name, change, expected) => {
    expect(checkPayment(quote, { ...paid, ...change })).toEqual(expected);
  });

  it('compares currencies whatever their case in the quote', () => {
    expect(checkPayment({ ...quote, currency: 'nok' }, paid)).toEqual({ verdict: 'paid' });
  });

  it('never passes a free quote or one without an intent', () => {
    expect(checkPayment({ ...quote, amountMinor: 0 }, { ...paid, amountMinor: 0, amountReceivedMinor: 0 })).toMatchObject({ verdict: 'mismatch' });
    expect(checkPayment({ ...quote, paymentIntentId: null }, paid)).toMatchObject({ verdict: 'mismatch', fields: ['paymentIntentId'] });
    expect(checkPayment({ ...quote, currency: null }, paid)).toMatchObject({ verdict: 'mismatch', fields: ['currency'] });
  });
});
