import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../logger.js';
import { Problem } from '../http/problem.js';
import { Signup } from '../signups/signup.entity.js';
import { paymentEventSignal } from '../temporal/contract.js';
import { WebhookSignatureError, type PaymentGateway } from './stripe-gateway.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Stripe's webhooks, verified over the raw body and handed to the signup's workflow as a signal.
 * Stripe retries until it gets a 2xx and may deliver an event more than once: the workflow ignores
 * an event id it has seen, so answering 200 for a repeat is right.
 */
export function createStripeWebhookHandler(deps: { orm: MikroORM; temporal: Client; gateway: PaymentGateway; logger: Logger }) {
  return async (rawBody: Buffer, signature: string | undefined): Promise<{ received: true; delivered: boolean }> => {
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
    const signupId = event.signupId && UUID.test(event.signupId) ? event.signupId : undefined;
    const signup = await deps.orm.em
      .fork()
      .findOne(Signup, signupId ? { id: signupId } : { paymentIntentId: event.paymentIntentId });
    if (!signup || signup.paymentIntentId !== event.paymentIntentId) {
      deps.logger.warn({ stripeEventId: event.eventId, paymentIntentId: event.paymentIntentId }, 'payment webhook for no signup of ours');
      return { received: true, delivered: false };
    }
    try {
      await deps.temporal.workflow.getHandle(signup.workflowId).signal(paymentEventSignal, {
        stripeEventId: event.eventId,
        kind: event.kind,
        paymentIntentId: event.paymentIntentId,
      });
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      // The flow ended long ago (past the late-payment grace): ops must look at this payment.
      deps.logger.error(
        { signupId: signup.id, stripeEventId: event.eventId, kind: event.kind },
        'payment webhook for a signup whose workflow has ended; needs an operator',
      );
      return { received: true, delivered: false };
    }
    return { received: true, delivered: true };
  };
}
