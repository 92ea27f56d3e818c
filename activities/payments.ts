import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import Stripe from 'stripe';
import { handOverUnhonouredPayment } from '../src/payments/hand-over.js';
import { checkPayment, quoteOf } from '../src/payments/payment-check.js';
import { refundDue } from '../src/payments/refund-policy.js';
import type { PaymentGateway, PaymentIntentState, PaymentIntentSummary } from '../src/payments/stripe-gateway.js';
import { UnhonouredPayment } from '../src/payments/unhonoured-payment.entity.js';
import { Signup } from '../src/signups/signup.entity.js';
import type { SeatMove } from '../src/signups/seats.js';
import { workflowTaskQueueOf, type UnhonouredPaymentReason } from '../src/temporal/contract.js';
import { refundedMinorTotal, refundsTotal } from '../src/observability/metrics.js';

/**
 * What the signup flow's Stripe reads answer: Stripe's state, except that a succeeded intent whose
 * amount, currency or id is not what the signup was quoted is `not-as-quoted` (already handed to
 * its refund flow): it never confirms a signup.
 */
export type CheckedIntentState = PaymentIntentState | 'not-as-quoted';

/**
 * Payment activities: read the signup, call Stripe through the gateway (every money-moving call
 * keyed by signup and step), record the outcome. Stripe refusing a request is final
 * (non-retryable); network trouble and Stripe's 5xx are retried by the workflow's policy.
 */
export function createPaymentActivities(
  orm: MikroORM,
  gateway: PaymentGateway,
  temporal: Client,
  /** The seat activity of the same name (activities/seats.ts): keyed by the activity that calls it. */
  releaseHold: (input: { signupId: string; offerSeconds: number }) => Promise<SeatMove>,
) {
  /**
   * A succeeded intent is checked against the signup's quote before the flow may confirm with it;
   * one that does not match goes to its refund flow here, in the same activity, so it is never
   * answered `succeeded` and never left unrefunded.
   */
  async function checkedState(signup: Signup, intent: PaymentIntentSummary): Promise<CheckedIntentState> {
    if (intent.state !== 'succeeded') return intent.state;
    const check = checkPayment(quoteOf(signup), intent);
    if (check.verdict === 'paid') return 'succeeded';
    log.error('payment not as quoted: refunding it, not confirming', { signupId: signup.id, paymentIntentId: intent.id, check });
    await handOverUnhonouredPayment(temporal, workflowTaskQueueOf(Context.current().info.taskQueue), intent.id, {
      reason: 'payment_not_as_quoted',
      signupId: signup.id,
      from: 'signup-workflow',
    });
    return 'not-as-quoted';
  }

  /** The signup's intent cancelled, or the state that stopped it being cancelled (paid after all). */
  async function cancelIntentOf(signupId: string): Promise<CheckedIntentState> {
    const signup = await orm.em.fork().findOneOrFail(Signup, signupId);
    const intentId = signup.paymentIntentId;
    if (!intentId) return 'canceled';
    try {
      return (await gateway.cancelPaymentIntent(intentId, signupId)).state;
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError && error.code === 'payment_intent_unexpected_state') {
        return checkedState(signup, await stripeCall(() => gateway.getPaymentIntent(intentId)));
      }
      throw asActivityError(error);
    }
  }

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
    async checkPaymentIntent(input: { signupId: string }): Promise<CheckedIntentState> {
      const signup = await orm.em.fork().findOneOrFail(Signup, input.signupId);
      const intentId = signup.paymentIntentId;
      if (!intentId) return 'canceled';
      return checkedState(signup, await stripeCall(() => gateway.getPaymentIntent(intentId)));
    },

    /**
     * Cancels the intent so it can no longer be paid. Answers the state it ends in: `succeeded`
     * when it had been paid after all (Stripe refuses to cancel it then).
     */
    cancelPaymentIntent: (input: { signupId: string }): Promise<CheckedIntentState> => cancelIntentOf(input.signupId),

    /**
     * The end of a paid hold with no payment seen: the intent is cancelled so it can no longer be
     * paid, and unless Stripe answers that it was paid after all, the seats go back in the same
     * activity. One step where there were three (ask, cancel, release): behind a backlog of workflow
     * tasks each step waits its turn, and every wait is seconds a released seat is not offered on.
     * Repeatable: a second cancel finds the intent cancelled, and the release answers what an
     * earlier attempt recorded (its key is this activity's).
     */
    async endUnpaidHold(input: { signupId: string; offerSeconds: number }): Promise<{ payment: CheckedIntentState; released?: SeatMove }> {
      const payment = await cancelIntentOf(input.signupId);
      if (payment === 'succeeded') return { payment };
      return { payment, released: await releaseHold({ signupId: input.signupId, offerSeconds: input.offerSeconds }) };
    },

    /**
     * The signup's flow cannot honour its succeeded payment (cancelled while paying, no seat left for
     * a late payment): hands it to the payment's refund flow, the one refund path for such payments.
     */
    async handOverPayment(input: { signupId: string; reason: UnhonouredPaymentReason }): Promise<'handed-over' | 'already-handled' | 'no-intent'> {
      const signup = await orm.em.fork().findOneOrFail(Signup, input.signupId);
      if (!signup.paymentIntentId) return 'no-intent';
      return handOverUnhonouredPayment(temporal, workflowTaskQueueOf(Context.current().info.taskQueue), signup.paymentIntentId, {
        reason: input.reason,
        signupId: signup.id,
        from: 'signup-workflow',
      });
    },

    /**
     * First step of a payment's refund flow: what Stripe took, recorded for operators. Answers
     * `already-refunded` when the payment's row says so (a hand-over after the flow's history is gone),
     * `nothing-paid` when Stripe says the intent did not succeed (nothing to give back).
     */
    async recordUnhonouredPayment(input: {
      paymentIntentId: string;
      signupId: string | null;
      reason: UnhonouredPaymentReason;
    }): Promise<{ action: 'refund' | 'already-refunded' | 'nothing-paid'; amountMinor: number; signupId: string | null }> {
      const em = orm.em.fork();
      const known = await em.findOne(UnhonouredPayment, input.paymentIntentId);
      if (known?.state === 'refunded') return { action: 'already-refunded', amountMinor: known.amountMinor, signupId: known.signupId ?? null };
      const intent = await stripeCall(() => gateway.getPaymentIntent(input.paymentIntentId));
      // Tell the participant of the signup named by the hand-over, else by the intent, if we have it.
      const named = input.signupId ?? (intent.signupId && UUID.test(intent.signupId) ? intent.signupId : null);
      const signupId = named && (await em.findOne(Signup, named)) ? named : null;
      const paid = intent.state === 'succeeded';
      // Insert or refresh the row; a row already refunded is never touched again (checked above and in the WHERE).
      await em.getConnection().execute(
        `insert into unhonoured_payment (payment_intent_id, signup_id, reason, state, amount_minor, currency, created_at)
         values (?, ?, ?, ?, ?, ?, now())
         on conflict (payment_intent_id) do update set state = excluded.state, amount_minor = excluded.amount_minor
          where unhonoured_payment.state <> 'refunded'`,
        [input.paymentIntentId, signupId, input.reason, paid ? 'refunding' : 'nothing-paid', paid ? intent.amountReceivedMinor : 0, intent.currency],
        'run',
      );
      return { action: paid ? 'refund' : 'nothing-paid', amountMinor: paid ? intent.amountReceivedMinor : 0, signupId };
    },

    /**
     * Refunds all of a recorded payment (one Stripe idempotency key per intent) and marks its row
     * refunded; the signup it was made for shows the refund. Stripe refusing is final for this
     * attempt: the row keeps Stripe's words, the flow waits for an operator (Attention).
     */
    async refundUnhonouredPayment(input: { paymentIntentId: string; operatorRetries?: number }): Promise<{ refundMinor: number }> {
      const em = orm.em.fork();
      const row = await em.findOneOrFail(UnhonouredPayment, input.paymentIntentId);
      if (row.state === 'refunded') return { refundMinor: row.amountMinor };
      let refund;
      try {
        refund = await gateway.refundPayment({
          paymentIntentId: row.paymentIntentId,
          amountMinor: row.amountMinor,
          signupId: row.signupId ?? null,
          reason: row.reason,
          operatorRetries: input.operatorRetries ?? 0,
        });
      } catch (error) {
        row.lastError = error instanceof Error ? error.message : String(error);
        await em.flush();
        throw asActivityError(error);
      }
      row.state = 'refunded';
      row.stripeRefundId = refund.id;
      row.refundedAt = new Date();
      row.lastError = null;
      const signup = row.signupId ? await em.findOne(Signup, row.signupId) : null;
      if (signup?.paymentIntentId === row.paymentIntentId) signup.refundedMinor = row.amountMinor;
      await em.flush();
      refundsTotal.inc({ purpose: `unhonoured:${row.reason}` });
      refundedMinorTotal.inc({ currency: row.currency }, row.amountMinor);
      return { refundMinor: row.amountMinor };
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
