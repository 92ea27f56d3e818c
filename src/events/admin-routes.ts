import { Router } from 'express';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { parseRequestPart } from '../http/validate.js';
import { newEventSchema } from './event-input.js';

export function eventAdminRoutes({ authenticate, events }: RouteContext): Router {
  const router = Router();

  router.post('/v1/admin/events', authenticate(['organizer', 'admin']), async (req, res) => {
    const input = parseRequestPart(newEventSchema, req.body, 'body');
    const event = await events.createEvent(principalOf(req), input);
    res.status(201).location(`/v1/admin/events/${event.id}`).json(event);
  });

  return router;
}
