import { Router } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../http/context.js';
import type { SameShape } from '../http/api-schemas.js';
import { parseRequestPart } from '../http/validate.js';
import type { ConsentRequestView } from './service.js';

export const consentPathSchema = z.object({ token: z.string().min(10).max(500).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/) });
export const consentDecisionBodySchema = z.strictObject({ decision: z.enum(['approved', 'denied']) });

export const consentRequestSchema = z
  .strictObject({
    eventTitle: z.string(),
    eventStartsAt: z.iso.datetime(),
    timezone: z.string().describe("The event's IANA time zone"),
    venue: z.string().nullable().describe('Where: venue name, street, city'),
    attendees: z.array(z.string()).describe('First names of the children signed up'),
    children: z.array(z.strictObject({ firstName: z.string(), age: z.number().int() })).describe('The children signed up, with their ages'),
    price: z.strictObject({ amountMinor: z.number().int(), currency: z.string() }).nullable().describe('What the signup costs; null when free'),
    organizer: z.string().describe('Who organizes the event'),
    expiresAt: z.iso.datetime(),
    decision: z.enum(['approved', 'denied']).nullable(),
  })
  .meta({ id: 'ConsentRequest', description: 'What a guardian is asked to consent to' });
const _consentMatches: SameShape<z.output<typeof consentRequestSchema>, ConsentRequestView> = true;
export const consentDecisionSchema = z
  .strictObject({ decision: z.enum(['approved', 'denied']) })
  .meta({ id: 'ConsentDecision', description: 'The recorded decision' });

/**
 * The guardian's token as JSON, for apps: no account needed, the signed token is the credential.
 * The link in the e-mail opens the HTML page of page-routes.ts, which answers through the same service.
 */
export function consentRoutes({ consents }: RouteContext): Router {
  const router = Router();
  router.get('/v1/consents/:token', async (req, res) => {
    const { token } = parseRequestPart(consentPathSchema, req.params, 'path');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await consents.describe(token));
  });
  router.post('/v1/consents/:token', async (req, res) => {
    const { token } = parseRequestPart(consentPathSchema, req.params, 'path');
    const { decision } = parseRequestPart(consentDecisionBodySchema, req.body, 'body');
    res.json(await consents.decide(token, decision));
  });
  return router;
}
