import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  createPaymentGateway,
  createStripeClient,
  WebhookSignatureError,
} from '../../src/payments/stripe-gateway.js';
import { testConfig } from '../support/stack.js';
import { payAtStripe, refundsAtStripe } from '../support/stripe-control.js';

// Against stripe-mock, which the global setup starts: real HTTP, Stripe's own API definitions.
const config = testConfig();
const stripe = createStripeClient(config.stripe);
const gateway = createPaymentGateway(stripe, config.stripe.webhookSecret);

describe('payment gateway against stripe-mock', () => {
  it('is pointed at stripe-mock by the test stack', () => {
    expect(config.stripe.apiBase?.hostname).toBe('127.0.0.1');
  });

  it('creates a PaymentIntent with a client secret for the app', async () => {
    const intent = await gateway.createPaymentIntent({
      signupId: randomUUID(),
      eventId: randomUUID(),
      amountMinor: 25_000,
      currency: 'NOK',
      description: 'Lego build day, 2 tickets',
    });
    expect(intent.id).toMatch(/^pi_/);
    expect(intent.clientSecret).toEqual(expect.any(String));
  });

  it('retrieves, cancels and refunds', async () => {
    const signupId = randomUUID();
    const intent = await gateway.createPaymentIntent({ signupId, eventId: randomUUID(), amountMinor: 1000, currency: 'NOK', description: 'x' });
    expect(await gateway.getPaymentIntent(intent.id)).toMatchObject({ id: intent.id, amountMinor: 1000, currency: 'NOK', signupId, state: 'awaiting-payment' });
    expect((await gateway.cancelPaymentIntent(intent.id, signupId)).id).toBe(intent.id);

    // Stripe refunds only what was paid (the test stack's proxy says so as Stripe would).
    const paid = await gateway.createPaymentIntent({ signupId, eventId: randomUUID(), amountMinor: 1000, currency: 'NOK', description: 'x' });
    await payAtStripe(paid.id);
    expect(await gateway.getPaymentIntent(paid.id)).toMatchObject({ state: 'succeeded', amountReceivedMinor: 1000 });
    const refund = await gateway.refund({ paymentIntentId: paid.id, signupId, amountMinor: 1000, purpose: 'cancellation' });
    expect(refund.id).toMatch(/^re_/);
  });

  it('refunds an unhonoured payment once per intent, however often it is asked', async () => {
    const intent = await gateway.createPaymentIntent({ signupId: randomUUID(), eventId: randomUUID(), amountMinor: 2500, currency: 'NOK', description: 'x' });
    await payAtStripe(intent.id);
    const ask = () => gateway.refundPayment({ paymentIntentId: intent.id, amountMinor: 2500, signupId: null, reason: 'signup_ended', operatorRetries: 0 });
    const [first, second] = [await ask(), await ask()];
    expect(second.id).toBe(first.id);
    expect(await refundsAtStripe(intent.id)).toEqual([expect.objectContaining({ amount: 2500, idempotencyKey: `payment-${intent.id}-refund` })]);
  });
});

describe('payment webhooks', () => {
  const signed = (payload: object, secret = config.stripe.webhookSecret) => {
    const body = JSON.stringify(payload);
    return { body, header: stripe.webhooks.generateTestHeaderString({ payload: body, secret }) };
  };
  const intentEvent = (type: string) => ({
    id: `evt_${randomUUID()}`,
    object: 'event',
    type,
    data: { object: { id: 'pi_123', object: 'payment_intent', metadata: { signupId: 'signup-1' } } },
  });

  it.each([
    ['payment_intent.succeeded', 'succeeded'],
    ['payment_intent.payment_failed', 'failed'],
    ['payment_intent.canceled', 'canceled'],
  ])('maps %s to %s', (type, kind) => {
    const { body, header } = signed(intentEvent(type));
    expect(gateway.parseWebhook(body, header)).toMatchObject({ kind, paymentIntentId: 'pi_123', signupId: 'signup-1' });
  });

  it('ignores other event types', () => {
    const { body, header } = signed(intentEvent('customer.created'));
    expect(gateway.parseWebhook(body, header)).toBeUndefined();
  });

  it('refuses a wrong signature, a tampered body and a missing header', () => {
    const { body, header } = signed(intentEvent('payment_intent.succeeded'), 'whsec_someone_else');
    expect(() => gateway.parseWebhook(body, header)).toThrow(WebhookSignatureError);
    const good = signed(intentEvent('payment_intent.succeeded'));
    expect(() => gateway.parseWebhook(good.body.replace('pi_123', 'pi_999'), good.header)).toThrow(WebhookSignatureError);
    expect(() => gateway.parseWebhook(good.body, undefined)).toThrow(WebhookSignatureError);
  });
});
