import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { Problem } from '../http/problem.js';
import { parseRequestPart } from '../http/validate.js';
import { signupStatuses } from '../signups/status.js';
import { adminEventSorts } from './admin-service.js';
import { eventStatuses } from './event.entity.js';
import { newEventSchema } from './event-input.js';
import { eventPatchSchema } from './event-patch.js';
import { participantsCsv } from './participants.js';

/**
 * Admin event routes (organizer: own markets/categories, else 404; admin: all; participant: 403):
 *   POST   /v1/admin/events                              create (201, ETag)
 *   GET    /v1/admin/events                              list, paged (page/limit), ?status&market
 *   GET    /v1/admin/events/{eventId}                    full admin view, ETag "v<version>"
 *   PATCH  /v1/admin/events/{eventId}                    If-Match required; see event-patch.ts
 *   DELETE /v1/admin/events/{eventId}                    drafts only; If-Match required
 *   POST   /v1/admin/events/{eventId}/publish|unpublish  If-Match optional (checked when sent)
 *   POST   /v1/admin/events/{eventId}/cancel     body { reason }; If-Match optional
 *   GET    /v1/admin/events/{eventId}/history            newest first, paged
 *   GET    /v1/admin/events/{eventId}/participants       JSON (paged) or text/csv (all rows)
 *   POST   /v1/admin/events/{eventId}/participants/{signupId}/check-in
 *   GET    /v1/admin/events/{eventId}/stats
 * Routes only parse, call the service and map the answer; decisions live in the service and pure modules.
 */

/** Request schemas, exported for the OpenAPI document. */
export { newEventSchema as createEventBodySchema, eventPatchSchema as patchEventBodySchema };

export const eventIdParamsSchema = z.object({ eventId: z.uuid() });
export const signupIdParamsSchema = z.object({ eventId: z.uuid(), signupId: z.uuid() });

export const pageQueryFields = {
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};

export const listEventsQuerySchema = z.strictObject({
  ...pageQueryFields,
  status: z.enum(eventStatuses).optional(),
  market: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code, e.g. NO').optional(),
  q: z.string().trim().min(1).max(200).optional().describe('Part of a title, in any of the event\'s languages (case-insensitive)'),
  sort: z
    .enum(adminEventSorts)
    .default('startsAt')
    .describe('startsAt (default), title (the default locale\'s, case-insensitive) or createdAt; a leading - reverses'),
});

export const cancelEventBodySchema = z.strictObject({
  reason: z.string().trim().min(1).max(500).describe('Told to every participant'),
});

export const historyQuerySchema = z.strictObject(pageQueryFields);

export const participantsQuerySchema = z.strictObject({
  ...pageQueryFields,
  status: z.enum(signupStatuses).optional(),
  initials: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
});

/** `If-Match: "v<version>"` (a W/ prefix is tolerated). Only one ETag: `*` would defeat the lost-update check. */
export const ifMatchHeaderSchema = z.string().regex(/^(W\/)?"v(\d{1,9})"$/, 'the ETag of the event, e.g. "v3"');

export function etagOf(version: number): string {
  return `"v${version}"`;
}

function expectedVersion(req: Request, required: boolean): number | undefined {
  const header = req.get('if-match');
  if (header === undefined) {
    if (required) throw new Problem('precondition-required', 'send If-Match with the ETag from GET /v1/admin/events/{id}');
    return undefined;
  }
  const parsed = parseRequestPart(ifMatchHeaderSchema, header.trim(), 'header');
  return Number(/"v(\d+)"/.exec(parsed)?.[1]);
}

/** Malformed ids answer 404 like ids that do not exist. */
function eventIdOf(req: Request): string {
  const parsed = eventIdParamsSchema.safeParse(req.params);
  if (!parsed.success) throw new Problem('not-found', 'no event with this id');
  return parsed.data.eventId;
}

/**
 * The ETag names the editable state (the version), but the view also carries live counters (seats,
 * promo uses) that move without a new version. So it serves If-Match only: `end` instead of `json`
 * skips Express's automatic 304 for a matching If-None-Match, which would hand back stale counters.
 */
function sendEvent(res: Response, event: { version: number }, status = 200): void {
  res.status(status).setHeader('ETag', etagOf(event.version)).type('application/json').end(JSON.stringify(event));
}

export function eventAdminRoutes({ authenticate, events }: RouteContext): Router {
  const router = Router();
  const staff = authenticate(['organizer', 'admin']);
  // Internal notes and participants' names: never kept by browsers or shared caches.
  router.use('/v1/admin', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  router.post('/v1/admin/events', staff, async (req, res) => {
    const input = parseRequestPart(newEventSchema, req.body, 'body');
    const event = await events.createEvent(principalOf(req), input);
    res.location(`/v1/admin/events/${event.id}`);
    sendEvent(res, event, 201);
  });

  router.get('/v1/admin/events', staff, async (req, res) => {
    const query = parseRequestPart(listEventsQuerySchema, req.query, 'query');
    res.json(await events.listEvents(principalOf(req), query));
  });

  router.get('/v1/admin/events/:eventId', staff, async (req, res) => {
    sendEvent(res, await events.getEvent(principalOf(req), eventIdOf(req)));
  });

  router.patch('/v1/admin/events/:eventId', staff, async (req, res) => {
    const id = eventIdOf(req);
    const version = expectedVersion(req, true) as number;
    const patch = parseRequestPart(eventPatchSchema, req.body ?? {}, 'body');
    sendEvent(res, await events.updateEvent(principalOf(req), id, version, patch));
  });

  router.delete('/v1/admin/events/:eventId', staff, async (req, res) => {
    const id = eventIdOf(req);
    await events.deleteEvent(principalOf(req), id, expectedVersion(req, true) as number);
    res.status(204).end();
  });

  router.post('/v1/admin/events/:eventId/publish', staff, async (req, res) => {
    const id = eventIdOf(req);
    sendEvent(res, await events.publishEvent(principalOf(req), id, expectedVersion(req, false)));
  });

  router.post('/v1/admin/events/:eventId/unpublish', staff, async (req, res) => {
    const id = eventIdOf(req);
    sendEvent(res, await events.unpublishEvent(principalOf(req), id, expectedVersion(req, false)));
  });

  router.post('/v1/admin/events/:eventId/cancel', staff, async (req, res) => {
    const id = eventIdOf(req);
    const { reason } = parseRequestPart(cancelEventBodySchema, req.body ?? {}, 'body');
    sendEvent(res, await events.cancelEvent(principalOf(req), id, reason, expectedVersion(req, false)));
  });

  router.get('/v1/admin/events/:eventId/history', staff, async (req, res) => {
    const id = eventIdOf(req);
    const query = parseRequestPart(historyQuerySchema, req.query, 'query');
    res.json(await events.history(principalOf(req), id, query));
  });

  router.get('/v1/admin/events/:eventId/participants', staff, async (req, res) => {
    const id = eventIdOf(req);
    const query = parseRequestPart(participantsQuerySchema, req.query, 'query');
    const format = req.accepts(['application/json', 'text/csv']);
    if (!format) throw new Problem('not-acceptable', 'participants are available as application/json or text/csv');
    if (format === 'text/csv') {
      // The CSV is the whole (filtered) list: an export, not a page.
      const all = await events.participants(principalOf(req), id, { status: query.status, initials: query.initials, format: 'csv' });
      res
        .status(200)
        .type('text/csv; charset=utf-8')
        .setHeader('Content-Disposition', `attachment; filename="participants-${id}.csv"`)
        .send(participantsCsv(all.items));
      return;
    }
    res.json(
      await events.participants(principalOf(req), id, {
        status: query.status,
        initials: query.initials,
        format: 'json',
        page: { page: query.page, limit: query.limit },
      }),
    );
  });

  router.post('/v1/admin/events/:eventId/participants/:signupId/check-in', staff, async (req, res) => {
    const parsed = signupIdParamsSchema.safeParse(req.params);
    if (!parsed.success) throw new Problem('not-found', 'no such signup');
    res.json(await events.checkIn(principalOf(req), parsed.data.eventId, parsed.data.signupId));
  });

  router.get('/v1/admin/events/:eventId/stats', staff, async (req, res) => {
    res.json(await events.stats(principalOf(req), eventIdOf(req)));
  });

  return router;
}
