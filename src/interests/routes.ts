import { Router, type Response } from 'express';
import { z } from 'zod';
import { categoryCodeSchema, marketCodeSchema, tagSchema } from '../events/event-input.js';
import type { SameShape } from '../http/api-schemas.js';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { parseRequestPart } from '../http/validate.js';
import type { InterestList, InterestView } from './service.js';
import { interestKinds } from './interest.entity.js';

export const notifyMePathSchema = z.object({ eventId: z.uuid() });

/** What a user may follow through /v1/me/interests; events are followed with notify-me. */
export const followBodySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('category'), value: categoryCodeSchema.describe('A category slug, e.g. workshop') }),
  z.strictObject({ kind: z.literal('market'), value: marketCodeSchema.describe('An ISO 3166-1 alpha-2 market, e.g. NO') }),
  z.strictObject({ kind: z.literal('tag'), value: tagSchema.describe('A tag as events carry it, e.g. lego') }),
]);

const followableKinds = ['category', 'market', 'tag'] as const;
const valueFormats = { category: categoryCodeSchema, market: marketCodeSchema, tag: tagSchema };

/** The same code formats as the body, checked per kind, so a malformed DELETE is a 400 rather than a silent 204. */
export const interestPathSchema = z
  .object({
    kind: z.enum(followableKinds),
    value: z.string().min(1).max(64).describe('The category slug, market code or tag'),
  })
  .superRefine((path, ctx) => {
    const format = valueFormats[path.kind];
    const checked = format.safeParse(path.value);
    if (!checked.success) ctx.addIssue({ code: 'custom', path: ['value'], message: checked.error.issues[0]?.message ?? 'malformed' });
  });

export const interestViewSchema = z
  .strictObject({
    kind: z.enum(interestKinds),
    value: z.string().describe('The event id, category slug, market code or tag'),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Interest', description: 'Something you follow, and so agreed to hear about' });
const _interestViewMatches: SameShape<z.output<typeof interestViewSchema>, InterestView> = true;

export const interestListSchema = z
  .strictObject({ items: z.array(interestViewSchema) })
  .meta({ id: 'InterestList', description: 'Everything you follow, by kind (category, event, market), oldest first within a kind' });
const _interestListMatches: SameShape<z.output<typeof interestListSchema>, InterestList> = true;

/** 201 when this call made the interest, 200 when it was there already (a retry changes nothing). */
function answerFollow(res: Response, result: { interest: InterestView; created: boolean }): void {
  res.setHeader('Cache-Control', 'no-store');
  res.status(result.created ? 201 : 200).json(result.interest);
}

export function interestRoutes({ authenticate, interests }: RouteContext): Router {
  const router = Router();

  router.post('/v1/events/:eventId/notify-me', authenticate(), async (req, res) => {
    const { eventId } = parseRequestPart(notifyMePathSchema, req.params, 'path');
    answerFollow(res, await interests.notifyMe(principalOf(req), eventId));
  });

  router.delete('/v1/events/:eventId/notify-me', authenticate(), async (req, res) => {
    const { eventId } = parseRequestPart(notifyMePathSchema, req.params, 'path');
    await interests.stopNotifying(principalOf(req), eventId);
    res.status(204).end();
  });

  router.get('/v1/me/interests', authenticate(), async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await interests.list(principalOf(req)));
  });

  router.post('/v1/me/interests', authenticate(), async (req, res) => {
    const body = parseRequestPart(followBodySchema, req.body ?? {}, 'body');
    answerFollow(res, await interests.follow(principalOf(req), body.kind, body.value));
  });

  router.delete('/v1/me/interests/:kind/:value', authenticate(), async (req, res) => {
    const { kind, value } = parseRequestPart(interestPathSchema, req.params, 'path');
    await interests.unfollow(principalOf(req), kind, value);
    res.status(204).end();
  });

  return router;
}
