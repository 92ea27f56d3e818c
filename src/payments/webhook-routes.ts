import express, { Router } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../http/context.js';

export const stripeWebhookResultSchema = z
  .strictObject({
    received: z.literal(true),
    delivered: z
      .boolean()
      .describe("Whether a flow took it: the signup's own, or the refund flow of a succeeded payment that cannot become a ticket"),
  })
  .meta({ id: 'StripeWebhookResult' });

/**
 * POST /v1/webhooks/stripe. Mounted before the JSON body parser: the signature covers the exact
 * bytes Stripe sent, so the body must reach the verifier unparsed.
 */
export function stripeWebhookRoutes({ stripeWebhook }: RouteContext): Router {
  const router = Router();
  router.post('/v1/webhooks/stripe', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    res.json(await stripeWebhook(body, req.get('stripe-signature')));
  });
  return router;
}
