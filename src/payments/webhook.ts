import type { MikroORM } from '@mikro-orm/postgresql';
import { ServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import Stripe from 'stripe';
import type { Logger } from '../logger.js';
import { Problem } from '../http/problem.js';
import { LiveEvent } from '../events/event.entity.js';
import { Signup } from '../signups/signup.entity.js';
import { withWebhookDeadline } from '../temporal/client.js';
import { toSignupWorkflow, type SignupWorkflowStarter } from '../signups/workflow-starts.js';
import { paymentEventSignal, type UnhonouredPaymentReason } from '../temporal/contract.js';
import { handOverUnhonouredPayment } from './hand-over.js';
import { checkPayment, quoteOf } from './payment-check.js';
import { WebhookSignatureError, type PaymentGateway, type PaymentWebhookEvent } from './stripe-gateway.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Seconds Stripe (which retries anyway) is asked to wait when Stripe or Temporal is not reachable. */
const RETRY_AFTER_SECONDS = '30';

export interface StripeWebhookResult {
  received: true;
  /** A flow took it: the signup's own, or (for money it cannot honour) the payment's refund flow. */
  delivered: boolean;
}

/**
 * Stripe's webhooks, verified over the raw body. Payment failures go to the signup's workflow as a
 * signal. A `payment_intent.succeeded` is never taken on the webhook's word: the intent is read
 * from Stripe, and only a payment of the amount and currency the signup was quoted, on the intent
 * made for it, goes to the signup's workflow (which confirms it, or settles a late payment). Any
 * other succeeded payment that names a signup of ours is handed to its refund flow (signal-with-start
 * of `payment-<intent id>`, src/payments/hand-over.ts): a signup cancelled, rejected or ended, an
 * event cancelled, a flow gone, a signup unknown, a payment not as quoted. Either way the answer is
 * 200 once a flow has the signal; Stripe retries until it gets a 2xx and may deliver an event more
 * than once, and both flows ignore what they have seen, so answering 200 for a repeat is right.
 */
export function createStripeWebhookHandler(deps: {
  orm: MikroORM;
  temporal: Client;
  gateway: PaymentGateway;
  logger: Logger;
  /** Where the refund flows run (the workers' queue). */
  taskQueue: string;
  /** Starts a signup's workflow still in the outbox before signalling it. */
  starter: SignupWorkflowStarter;
}) {
  const signalSignup = async (signup: Signup, event: PaymentWebhookEvent) => {
    const handle = deps.temporal.workflow.getHandle(signup.workflowId);
    // Temporal down: a 503, and Stripe sends the event again later.
    await toSignupWorkflow(deps.starter, signup.id, () =>
      withWebhookDeadline(deps.temporal, () =>
        handle.signal(paymentEventSignal, { stripeEventId: event.eventId, kind: event.kind, paymentIntentId: event.paymentIntentId }),
      ),
    );
  };

  async function succeeded(event: PaymentWebhookEvent): Promise<StripeWebhookResult> {
    const intent = await deps.gateway.getPaymentIntent(event.paymentIntentId);
    const log = { stripeEventId: event.eventId, paymentIntentId: event.paymentIntentId };
    if (intent.state !== 'succeeded') {
      // Signed, but Stripe says otherwise: nothing was paid, so there is nothing to confirm or refund.
      deps.logger.warn({ ...log, state: intent.state }, 'succeeded webhook for an intent Stripe does not call succeeded; ignored');
      return { received: true, delivered: false };
    }
    // The intent's own metadata (read from Stripe, not from the webhook body) names its signup.
    const named = intent.signupId && UUID.test(intent.signupId) ? intent.signupId : undefined;
    const em = deps.orm.em.fork();
    const signup = await em.findOne(Signup, named ? { id: named } : { paymentIntentId: intent.id });
    if (!signup && !named) {
      deps.logger.warn(log, 'payment webhook for no signup of ours');
      return { received: true, delivered: false };
    }
    const refund = async (reason: UnhonouredPaymentReason) => {
      deps.logger.warn({ ...log, signupId: signup?.id ?? named, reason }, 'succeeded payment that cannot become a ticket: handed to its refund flow');
      await withWebhookDeadline(deps.temporal, () =>
        handOverUnhonouredPayment(deps.temporal, deps.taskQueue, intent.id, {
          reason,
          signupId: signup?.id ?? null,
          from: 'webhook',
          stripeEventId: event.eventId,
        }),
      );
      return { received: true as const, delivered: true };
    };

    if (!signup || signup.paymentIntentId !== intent.id) return refund('signup_unknown');
    if (checkPayment(quoteOf(signup), intent).verdict !== 'paid') return refund('payment_not_as_quoted');
    // Paid and confirmed already (a redelivery): the ticket is the payment's; nothing to do.
    if (signup.paidAt) return { received: true, delivered: true };
    if (signup.status === 'cancelled') {
      const event = await em.findOne(LiveEvent, signup.event.id, { fields: ['status'] });
      return refund(event?.status === 'cancelled' ? 'event_cancelled' : 'signup_cancelled');
    }
    if (signup.status === 'rejected') return refund('signup_ended');
    try {
      // Held (paying), or released within the late-payment grace: the signup's flow decides.
      await signalSignup(signup, event);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      // Released past SIGNUP_LATE_PAYMENT_GRACE_SECONDS: its flow has ended.
      return refund('signup_ended');
    }
    return { received: true, delivered: true };
  }

  return async (rawBody: Buffer, signature: string | undefined): Promise<StripeWebhookResult> => {
    let event;
    try {
      event = deps.gateway.parseWebhook(rawBody, signature);
    } catch (error) {
      // Our words: Stripe's text explains signing at length to whoever sent the forgery; it goes to the log.
      if (error instanceof WebhookSignatureError) {
        deps.logger.warn({ reason: error.message }, 'stripe webhook refused: bad signature');
        throw new Problem('webhook-signature-invalid', 'the Stripe-Signature header is missing, too old, or does not match this body');
      }
      throw error;
    }
    if (!event) return { received: true, delivered: false };
    try {
      if (event.kind === 'succeeded') return await succeeded(event);
      // A failure or cancellation moves no money: the signup's flow, if it still runs, records it.
      const signupId = event.signupId && UUID.test(event.signupId) ? event.signupId : undefined;
      const signup = await deps.orm.em.fork().findOne(Signup, signupId ? { id: signupId } : { paymentIntentId: event.paymentIntentId });
      if (!signup || signup.paymentIntentId !== event.paymentIntentId) return { received: true, delivered: false };
      await signalSignup(signup, event);
      return { received: true, delivered: true };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { received: true, delivered: false };
      if (error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeAPIError || error instanceof ServiceError) {
        throw new Problem('service-unavailable', 'Stripe or the workflow service is not reachable; deliver the event again', {
          headers: { 'Retry-After': RETRY_AFTER_SECONDS },
          cause: error,
        });
      }
      throw error;
    }
  };
}
