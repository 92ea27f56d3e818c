import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import Stripe from 'stripe';
import { refundDue } from '../src/payments/refund-policy.js';
import type { PaymentGateway, PaymentIntentState } from '../src/payments/stripe-gateway.js';
import { Signup } from '../src/signups/signup.entity.js';
import { refundedMinorTotal, refundsTotal } from '../src/observability/metrics.js';

/**
 * Payment activities: read the signup, call Stripe through the gateway (every money-moving call
 * keyed by signup and step), record the outcome. Stripe refusing a request is final
 * (non-retryable); network trouble and Stripe's 5xx are retried by the workflow's policy.
 */
export function createPaymentActivities(orm: MikroORM, gateway: PaymentGateway) {
  return {
    /** Creates the signup's PaymentIntent once and keeps its client secret for the app. */
    async createPaymentIntent(input: { signupId: string }): Promise<{ paymentIntentId: string }> {
      const em = orm.em.fork();
      const signup = await em.findOneOrFail(Signup, input.signupId, { populate: ['event'] });
      if (signup.paymentIntentId) return { paymentIntentId: signup.paymentIntentId };
      if (!signup.currency || signup.amountMinor <= 0) {
        throw ApplicationFailure.nonRetryable(`signup ${signup.id} has nothing to pay`, 'NothingToPay');
      }
      const intent = await stripeCall(() =>
        gateway.createPaymentIntent({
          signupId: signup.id,
          eventId: signup.event.id,
          amountMinor: signup.amountMinor,
          currency: signup.currency ?? '',
          description: `${signup.seats} ticket(s), signup ${signup.id}`,
        }),
      );
      signup.paymentIntentId = intent.id;
      signup.paymentClientSecret = intent.clientSecret;
      await em.flush();
      return { paymentIntentId: intent.id };
    },

    /** Asks Stripe where the payment stands (used when no webhook came: they do get lost). */
    async checkPaymentIntent(input: { signupId: string }): Promise<PaymentIntentState> {
      const intentId = await intentOf(orm, input.signupId);
      if (!intentId) return 'canceled';
      return (await stripeCall(() => gateway.getPaymentIntent(intentId))).state;
    },

    /**
     * Cancels the intent so it can no longer be paid. Answers the state it ends in: `succeeded`
     * when it had been paid after all (Stripe refuses to cancel it then).
     */
    async cancelPaymentIntent(input: { signupId: string }): Promise<PaymentIntentState> {
      const intentId = await intentOf(orm, input.signupId);
      if (!intentId) return 'canceled';
      try {
        return (await gateway.cancelPaymentIntent(intentId, input.signupId)).state;
      } catch (error) {
        if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'payment_intent_unexpected_state') {
          return (await stripeCall(() => gateway.getPaymentIntent(intentId))).state;
        }
        throw asActivityError(error);
      }
    },

    /**
     * Refunds a paid signup: what the event's refund policy allows for the cancellation, or all of
     * it (`full`: the organizer cancelled, or a payment we cannot honour). Records the amount.
     */
    async refundSignup(input: { signupId: string; purpose: string; full?: boolean }): Promise<{ refundMinor: number }> {
      const em = orm.em.fork();
      const signup = await em.findOneOrFail(Signup, input.signupId, { populate: ['event'] });
      if (!signup.paymentIntentId || signup.amountMinor <= 0) return { refundMinor: 0 };
      const answer = input.full
        ? { refundMinor: signup.amountMinor }
        : refundDue({
            policy: signup.event.refundPolicy,
            paidMinor: signup.amountMinor,
            cancelledAt: signup.cancelledAt ?? new Date(),
            startsAt: signup.event.startsAt,
            cancellationDeadline: signup.event.cancellationDeadline,
            cancelledBy: signup.cancelledBy ?? 'participant',
          });
      if (answer.refundMinor <= 0) return { refundMinor: 0 };
      const intentId = signup.paymentIntentId;
      await stripeCall(() =>
        gateway.refund({ paymentIntentId: intentId, signupId: signup.id, amountMinor: answer.refundMinor, purpose: input.purpose }),
      );
      // One refund per signup (the purposes exclude each other), so recording the amount is idempotent.
      signup.refundedMinor = answer.refundMinor;
      await em.flush();
      refundsTotal.inc({ purpose: input.purpose });
      refundedMinorTotal.inc({ currency: signup.currency ?? 'none' }, answer.refundMinor);
      return { refundMinor: answer.refundMinor };
    },
  };
}

async function intentOf(orm: MikroORM, signupId: string): Promise<string | null> {
  const signup = await orm.em.fork().findOneOrFail(Signup, signupId);
  return signup.paymentIntentId ?? null;
}

async function stripeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asActivityError(error);
  }
}

/** Stripe saying no (4xx other than rate limits) will say no again: stop retrying and say why. */
function asActivityError(error: unknown): unknown {
  if (
    error instanceof Stripe.errors.StripeInvalidRequestError ||
    error instanceof Stripe.errors.StripeCardError ||
    error instanceof Stripe.errors.StripePermissionError ||
    error instanceof Stripe.errors.StripeAuthenticationError
  ) {
    return ApplicationFailure.nonRetryable(error.message, `Stripe.${error.type}`, { code: error.code, requestId: error.requestId });
  }
  return error;
}
