import { Router } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../http/context.js';
import { parseRequestPart } from '../http/validate.js';
import { localeSchema } from './event-data.js';

const eventPath = z.object({ eventId: z.uuid() });
const localeQuery = z.object({ locale: localeSchema.optional() });

/** The first language of an Accept-Language header (quality order), e.g. `nb` from `nb-NO,nb;q=0.9`. */
export function preferredLocale(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.find((param) => param.trim().startsWith('q='));
      return { tag: tag.trim(), q: q ? Number(q.trim().slice(2)) : 1 };
    })
    .filter((entry) => entry.tag && entry.tag !== '*' && entry.q > 0)
    .sort((a, b) => b.q - a.q);
  return ranked[0]?.tag.split('-')[0]?.toLowerCase();
}

export function publicEventRoutes({ catalog }: RouteContext): Router {
  const router = Router();

  router.get('/v1/events/:eventId', async (req, res) => {
    const { eventId } = parseRequestPart(eventPath, req.params, 'path');
    const { locale } = parseRequestPart(localeQuery, req.query, 'query');
    res.json(await catalog.getPublicEvent(eventId, locale ?? preferredLocale(req.get('accept-language'))));
  });

  return router;
}
