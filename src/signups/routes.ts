import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { parseRequestPart } from '../http/validate.js';

export const signupRequestSchema = z.strictObject({
  seats: z.number().int().min(1).max(20),
});

const eventPath = z.object({ eventId: z.uuid() });
const signupPath = z.object({ signupId: z.uuid() });

export function signupRoutes({ authenticate, signups }: RouteContext): Router {
  const router = Router();

  router.post('/v1/events/:eventId/signups', authenticate(), async (req, res) => {
    const principal = principalOf(req);
    const { eventId } = parseRequestPart(eventPath, req.params, 'path');
    const body = parseRequestPart(signupRequestSchema, req.body, 'body');
    const signup = await signups.requestSignup(principal, eventId, body);
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
