import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import type { SameShape } from '../http/api-schemas.js';
import { parseRequestPart } from '../http/validate.js';
import type { SignupView } from './service.js';
import { signupStatuses } from './status.js';

export const signupRequestSchema = z.strictObject({
  seats: z.number().int().min(1).max(20),
});

export const eventPath = z.object({ eventId: z.uuid() });

/** Retrying a POST with the same key answers the same signup instead of making a second one. */
export const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,200}$/, '1 to 200 visible ASCII characters, e.g. a UUID')
    .optional(),
});
export const signupPath = z.object({ signupId: z.uuid() });

/** The answer of every signup endpoint, for the API document (src/http/api-operations.ts). */
export const signupViewSchema = z
  .strictObject({
    id: z.uuid(),
    eventId: z.uuid(),
    status: z.enum(signupStatuses),
    seats: z.number().int().min(1),
    holdExpiresAt: z.iso
      .datetime()
      .nullable()
      .describe('When held seats go back unless confirmed (for display: the workflow timer decides)'),
    confirmedAt: z.iso.datetime().nullable(),
    releasedAt: z.iso.datetime().nullable(),
    rejectionReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Signup', description: 'A signup and where its workflow has got to' });
// Fails to compile when SignupView and the documented schema part ways.
const _signupViewMatches: SameShape<z.output<typeof signupViewSchema>, SignupView> = true;

export function signupRoutes({ authenticate, signups }: RouteContext): Router {
  const router = Router();

  router.post('/v1/events/:eventId/signups', authenticate(), async (req, res) => {
    const principal = principalOf(req);
    const { eventId } = parseRequestPart(eventPath, req.params, 'path');
    const body = parseRequestPart(signupRequestSchema, req.body, 'body');
    const headers = parseRequestPart(idempotencyHeaders, { 'idempotency-key': req.get('idempotency-key') }, 'header');
    const { signup, replayed } = await signups.requestSignup(principal, eventId, body, headers['idempotency-key']);
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).location(`/v1/signups/${signup.id}`).json(signup);
  });

  router.get('/v1/signups/:signupId', authenticate(), async (req, res) => {
    const { signupId } = parseRequestPart(signupPath, req.params, 'path');
    res.json(await signups.getSignup(principalOf(req), signupId));
  });

  router.post('/v1/signups/:signupId/confirm', authenticate(), async (req, res) => {
    const { signupId } = parseRequestPart(signupPath, req.params, 'path');
    res.json(await signups.confirmSignup(principalOf(req), signupId));
  });

  return router;
}
