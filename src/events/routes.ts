import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { parseRequestPart } from '../http/validate.js';
import { isValidTimeZone } from './rules.js';

export const newEventSchema = z.strictObject({
  title: z.string().trim().min(1).max(200),
  market: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code, e.g. NO'),
  timezone: z.string().refine(isValidTimeZone, 'an IANA time zone, e.g. Europe/Oslo'),
  startsAt: z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
  endsAt: z.iso.datetime({ offset: true }).transform((value) => new Date(value)),
  capacity: z.number().int().min(0).max(1_000_000),
  publish: z.boolean().default(false),
});

const eventPath = z.object({ eventId: z.uuid() });

export function eventRoutes({ authenticate, events }: RouteContext): Router {
  const router = Router();

  router.post('/v1/admin/events', authenticate(['organizer', 'admin']), async (req, res) => {
    const input = parseRequestPart(newEventSchema, req.body, 'body');
    const event = await events.createEvent(principalOf(req), input);
    res.status(201).location(`/v1/admin/events/${event.id}`).json(event);
  });

  router.get('/v1/events/:eventId', async (req, res) => {
    const { eventId } = parseRequestPart(eventPath, req.params, 'path');
    res.json(await events.getPublicEvent(eventId));
  });

  return router;
}
