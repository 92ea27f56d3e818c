import { requireEnv } from './environment.js';
import type { ProxiedIntent, ProxiedRefund } from './stripe-proxy.js';

/**
 * Steers the Stripe proxy the global setup put in front of stripe-mock (test/support/stripe-proxy.ts).
 * STRIPE_API_BASE points at the proxy.
 */
const base = () => requireEnv('STRIPE_API_BASE').replace(/\/$/, '');

async function call<T>(method: string, path: string, body?: object): Promise<T> {
  const response = await fetch(`${base()}/__proxy${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!response.ok) throw new Error(`stripe proxy ${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Changes what Stripe says about an intent: paid (`status: 'succeeded'`), or another amount or currency. */
export function setIntent(
  paymentIntentId: string,
  change: Partial<Pick<ProxiedIntent, 'amount' | 'currency' | 'status' | 'refuseRefunds'>>,
): Promise<ProxiedIntent> {
  return call('POST', `/intents/${paymentIntentId}`, change);
}

/** The intent as the proxy knows it. */
export function intentAtStripe(paymentIntentId: string): Promise<ProxiedIntent> {
  return call('GET', `/intents/${paymentIntentId}`);
}

/** What a real payment does at Stripe before it sends `payment_intent.succeeded`. */
export function payAtStripe(paymentIntentId: string): Promise<ProxiedIntent> {
  return setIntent(paymentIntentId, { status: 'succeeded' });
}

/** Every refund Stripe made of the intent (a repeated idempotency key makes none). */
export function refundsAtStripe(paymentIntentId: string): Promise<ProxiedRefund[]> {
  return call('GET', `/refunds?payment_intent=${encodeURIComponent(paymentIntentId)}`);
}
