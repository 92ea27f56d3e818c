import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from '../logger.js';
import { Problem } from '../http/problem.js';
import { Signup } from '../signups/signup.entity.js';
import { withRequestDeadline } from '../temporal/client.js';
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
      if (error instanceof WebhookSignatureError) throw new Problem('webhook-signature-invalid', error.message);
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
      // Temporal down: 503, and Stripe sends the event again later.
      await withRequestDeadline(deps.temporal, () =>
        deps.temporal.workflow.getHandle(signup.workflowId).signal(paymentEventSignal, {
          stripeEventId: event.eventId,
          kind: event.kind,
          paymentIntentId: event.paymentIntentId,
        }),
      );
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
