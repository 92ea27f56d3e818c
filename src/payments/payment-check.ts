/**
 * Whether a payment Stripe reports is the one a signup was quoted. Pure. A signed webhook proves
 * only that Stripe (or whoever holds the webhook secret) sent it; what was paid is read from Stripe
 * itself and compared with the signup's stored quote before any seat is confirmed for it.
 */
import type { PaymentIntentSummary } from './stripe-gateway.js';

export interface QuotedPayment {
  signupId: string;
  /** The intent created for the signup (null before one was created). */
  paymentIntentId: string | null;
  amountMinor: number;
  currency: string | null;
}

export type PaymentCheck =
  /** Paid in full, in the quoted currency, on the signup's own intent: it may confirm the signup. */
  | { verdict: 'paid' }
  /** Stripe does not say the intent succeeded: there is no payment (a webhook that lied, or is early). */
  | { verdict: 'not-paid'; state: PaymentIntentSummary['state'] }
  /** Money was taken, but not what was quoted: it never confirms a signup, it is refunded in full. */
  | { verdict: 'mismatch'; fields: ('paymentIntentId' | 'signupId' | 'amount' | 'currency')[] };

export function checkPayment(quote: QuotedPayment, intent: PaymentIntentSummary): PaymentCheck {
  if (intent.state !== 'succeeded') return { verdict: 'not-paid', state: intent.state };
  const fields: Extract<PaymentCheck, { verdict: 'mismatch' }>['fields'] = [];
  if (quote.paymentIntentId !== intent.id) fields.push('paymentIntentId');
  // Intents we create name their signup; one naming another (or none) was not made for this quote.
  if (intent.signupId !== quote.signupId) fields.push('signupId');
  if (quote.amountMinor <= 0 || intent.amountMinor !== quote.amountMinor || intent.amountReceivedMinor !== quote.amountMinor) {
    fields.push('amount');
  }
  if (!quote.currency || intent.currency !== quote.currency.toUpperCase()) fields.push('currency');
  return fields.length === 0 ? { verdict: 'paid' } : { verdict: 'mismatch', fields };
}

/** The quote as a signup row stores it. */
export function quoteOf(signup: { id: string; paymentIntentId?: string | null; amountMinor: number; currency?: string | null }): QuotedPayment {
  return { signupId: signup.id, paymentIntentId: signup.paymentIntentId ?? null, amountMinor: signup.amountMinor, currency: signup.currency ?? null };
}
