import { Router } from 'express';
import { z } from 'zod';
import { createResponseCache, sendCachedBody } from '../http/caching.js';
import type { RouteContext } from '../http/context.js';
import { Problem, type InvalidField } from '../http/problem.js';
import { parseRequestPart } from '../http/validate.js';
import { localeSchema, platforms } from './event-data.js';
import { tagSchema } from './event-input.js';
import { decodeCursor, type CatalogQuery } from './public-catalog.js';

/** Request schemas of the public catalog, exported for the OpenAPI document (src/http/api-operations.ts). */
export const publicEventPathSchema = z.object({ eventId: z.uuid() });

const localeParam = localeSchema.optional().describe('Language of the texts; else Accept-Language, else the default');

export const publicEventQuerySchema = z.strictObject({ locale: localeParam });

/** Query values arrive as strings; numbers are digits only, so `age=1e1` or `limit=` are refused, not guessed. */
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,4}$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
const instant = z.iso.datetime({ offset: true, message: 'an ISO 8601 date-time with offset, e.g. 2027-03-01T10:00:00Z' });

export const publicSorts = ['startsAt', '-startsAt'] as const;

/** Strict: an unknown parameter is a 400 naming it, so a client's typo (`categroy=`) is not silently ignored. */
export const listPublicEventsQuerySchema = z
  .strictObject({
    q: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Words to find in the title, summary or description (websearch syntax: "quoted phrases", -exclusions, or)'),
    from: instant.optional().describe(
      'Only events starting at or after this instant, e.g. 2027-03-01T10:00:00Z (write the + of an offset as %2B). Without `from` and `to` the list leaves out events that have ended; with either it shows ended and completed events starting in the window too',
    ),
    to: instant.optional().describe('Only events starting before this instant (must be after `from`)'),
    category: z.string().min(1).max(64).optional().describe('Only events of this category'),
    market: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code').optional().describe('Only events in this market (ISO 3166-1 alpha-2)'),
    platform: z.enum(platforms).optional().describe('Only events offered on this platform'),
    age: integer(0, 120).optional().describe('Only events an attendee of this age (0 to 120) may join'),
    free: z.enum(['true', 'false']).optional().describe('true: only free events; false: only paid ones'),
    tag: tagSchema.optional().describe('Only events carrying this tag'),
    sort: z
      .enum(publicSorts)
      .default('startsAt')
      .describe('startsAt: soonest first (default); -startsAt: latest first. Keyword searches (`q`) are in start order only'),
    cursor: z.string().max(500).optional().describe('`nextCursor` of the previous page, with the same other parameters'),
    limit: integer(1, 100).default(20).describe('Events per page, 1 to 100 (default 20)'),
    locale: localeParam,
  })
  .superRefine((query, context) => {
    if (query.from && query.to && Date.parse(query.from) >= Date.parse(query.to)) {
      context.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    }
    if (query.q !== undefined && query.sort !== 'startsAt') {
      context.addIssue({ code: 'custom', path: ['sort'], message: 'keyword searches are sorted by start (startsAt) only' });
    }
  });

/**
 * parseRequestPart for query strings, except that an unknown parameter is reported under its own
 * name: zod puts unrecognized keys on the parent (field ""), which would not tell a client which
 * parameter it mistyped. (Candidate for src/http/validate.ts once its owners agree.)
 */
function parseQuery<Schema extends z.ZodType>(schema: Schema, query: unknown): z.infer<Schema> {
  const result = schema.safeParse(query);
  if (result.success) return result.data;
  const errors: InvalidField[] = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ in: 'query' as const, field: [...issue.path.map(String), key].join('.'), message: 'unknown parameter' }))
      : [{ in: 'query' as const, field: issue.path.map(String).join('.'), message: issue.message }],
  );
  throw new Problem('validation-error', `${errors.length} invalid value(s) in the request query`, { errors });
}

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
  // Per app instance; keyed by what the body depends on: the path with its query, and the locale.
  const responses = createResponseCache({ ttlMs: 1000, maxEntries: 2000 });

  router.get('/v1/events', async (req, res) => {
    const input = parseQuery(listPublicEventsQuerySchema, req.query);
    const after = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
    if (input.cursor !== undefined && !after) {
      throw new Problem('validation-error', '1 invalid value(s) in the request query', {
        errors: [{ in: 'query', field: 'cursor', message: 'not a cursor from a previous page' }],
      });
    }
    const query: CatalogQuery = {
      q: input.q,
      from: input.from ? new Date(input.from) : undefined,
      to: input.to ? new Date(input.to) : undefined,
      category: input.category,
      market: input.market,
      platform: input.platform,
      age: input.age,
      free: input.free === undefined ? undefined : input.free === 'true',
      tag: input.tag,
      descending: input.sort === '-startsAt',
      limit: input.limit,
      after,
    };
    const locale = input.locale ?? preferredLocale(req.get('accept-language'));
    sendCachedBody(req, res, await responses.get(`${req.originalUrl}|${locale ?? ''}`, () => catalog.listEvents(query, locale)));
  });

  router.get('/v1/events/:eventId', async (req, res) => {
    const { eventId } = parseRequestPart(publicEventPathSchema, req.params, 'path');
    const { locale } = parseQuery(publicEventQuerySchema, req.query);
    const chosen = locale ?? preferredLocale(req.get('accept-language'));
    sendCachedBody(req, res, await responses.get(`${req.originalUrl}|${chosen ?? ''}`, () => catalog.getPublicEvent(eventId, chosen)));
  });

  return router;
}
