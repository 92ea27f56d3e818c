import Stripe from 'stripe';
import type { Config } from '../config.js';

/**
 * Our only door to Stripe. Every call that creates or changes money carries an idempotency key
 * derived from the signup, so an activity retried after a lost response never charges or refunds
 * twice. With STRIPE_API_BASE it talks to stripe-mock; with a real test-mode key, to Stripe.
 */

export type PaymentIntentState = 'awaiting-payment' | 'processing' | 'succeeded' | 'canceled' | 'failed';

export interface PaymentIntentSummary {
  id: string;
  state: PaymentIntentState;
  amountMinor: number;
  /** What Stripe actually took (equals amountMinor once succeeded). */
  amountReceivedMinor: number;
  currency: string;
  clientSecret: string | null;
  /** `metadata.signupId`: intents we create name their signup. */
  signupId: string | undefined;
}

export interface PaymentWebhookEvent {
  eventId: string;
  kind: 'succeeded' | 'failed' | 'canceled';
  paymentIntentId: string;
  signupId: string | undefined;
}

export class WebhookSignatureError extends Error {
  override name = 'WebhookSignatureError';
}

export function createStripeClient(stripe: Config['stripe']): Stripe {
  const base = stripe.apiBase;
  return new Stripe(stripe.secretKey, {
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
    ...(base
      ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol === 'https:' ? 'https' : 'http' }
      : {}),
  });
}

/** Stripe's many intent statuses, folded into the few our flow distinguishes. */
export function paymentIntentState(status: Stripe.PaymentIntent.Status): PaymentIntentState {
  switch (status) {
    case 'succeeded':
      return 'succeeded';
    case 'canceled':
      return 'canceled';
    case 'processing':
      return 'processing';
    default:
      return 'awaiting-payment';
  }
}

function summarize(intent: Stripe.PaymentIntent): PaymentIntentSummary {
  return {
    id: intent.id,
    state: paymentIntentState(intent.status),
    amountMinor: intent.amount,
    amountReceivedMinor: intent.amount_received,
    currency: intent.currency.toUpperCase(),
    clientSecret: intent.client_secret,
    signupId: intent.metadata?.signupId,
  };
}

export function createPaymentGateway(stripe: Stripe, webhookSecret: string) {
  return {
    async createPaymentIntent(input: {
      signupId: string;
      eventId: string;
      amountMinor: number;
      currency: string;
      description: string;
    }): Promise<PaymentIntentSummary> {
      const intent = await stripe.paymentIntents.create(
        {
          amount: input.amountMinor,
          currency: input.currency.toLowerCase(),
          description: input.description,
          automatic_payment_methods: { enabled: true },
          metadata: { signupId: input.signupId, eventId: input.eventId },
        },
        { idempotencyKey: `signup-${input.signupId}-payment-intent` },
      );
      return summarize(intent);
    },

    async getPaymentIntent(paymentIntentId: string): Promise<PaymentIntentSummary> {
      return summarize(await stripe.paymentIntents.retrieve(paymentIntentId));
    },

    async cancelPaymentIntent(paymentIntentId: string, signupId: string): Promise<PaymentIntentSummary> {
      const intent = await stripe.paymentIntents.cancel(
        paymentIntentId,
        { cancellation_reason: 'abandoned' },
        { idempotencyKey: `signup-${signupId}-cancel-intent` },
      );
      return summarize(intent);
    },

    /** `purpose` separates refunds of one signup (e.g. a late payment vs. a cancellation). */
    async refund(input: { paymentIntentId: string; signupId: string; amountMinor: number; purpose: string }) {
      const refund = await stripe.refunds.create(
        { payment_intent: input.paymentIntentId, amount: input.amountMinor, metadata: { signupId: input.signupId } },
        { idempotencyKey: `signup-${input.signupId}-refund-${input.purpose}` },
      );
      return { id: refund.id, status: refund.status ?? 'pending', amountMinor: refund.amount };
    },

    /**
     * Refunds everything Stripe took for an intent nobody got a ticket for (a payment the system
     * could not honour). Keyed by the intent alone, so every path that hands the same payment over
     * (the webhook, the signup's workflow, an activity retry) makes one refund. Stripe keeps the
     * answer to a key, refusals included, so after an operator's retry (`operatorRetries` > 0: the
     * cause of a refusal fixed) the key changes; a refusal made no refund, and a second full refund
     * of one payment is refused by Stripe, so money cannot go back twice.
     */
    async refundPayment(input: { paymentIntentId: string; amountMinor: number; signupId: string | null; reason: string; operatorRetries: number }) {
      const refund = await stripe.refunds.create(
        {
          payment_intent: input.paymentIntentId,
          amount: input.amountMinor,
          reason: 'requested_by_customer',
          metadata: { ...(input.signupId ? { signupId: input.signupId } : {}), eventbookReason: input.reason },
        },
        {
          idempotencyKey: `payment-${input.paymentIntentId}-refund${input.operatorRetries > 0 ? `-retry-${input.operatorRetries}` : ''}`,
        },
      );
      return { id: refund.id, status: refund.status ?? 'pending', amountMinor: refund.amount };
    },

    /**
     * Verifies the signature over the raw body and keeps only the payment outcomes the signup flow
     * cares about; anything else answers undefined (acknowledged and ignored).
     */
    parseWebhook(rawBody: Buffer | string, signatureHeader: string | undefined): PaymentWebhookEvent | undefined {
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, signatureHeader ?? '', webhookSecret);
      } catch (error) {
        throw new WebhookSignatureError(error instanceof Error ? error.message : 'bad signature');
      }
      const kinds: Partial<Record<Stripe.Event['type'], PaymentWebhookEvent['kind']>> = {
        'payment_intent.succeeded': 'succeeded',
        'payment_intent.payment_failed': 'failed',
        'payment_intent.canceled': 'canceled',
      };
      const kind = kinds[event.type];
      if (!kind) return undefined;
      const intent = event.data.object as Stripe.PaymentIntent;
      return { eventId: event.id, kind, paymentIntentId: intent.id, signupId: intent.metadata?.signupId };
    },
  };
}

export type PaymentGateway = ReturnType<typeof createPaymentGateway>;
