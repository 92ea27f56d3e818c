import { Router } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../http/context.js';
import type { SameShape } from '../http/api-schemas.js';
import { parseRequestPart } from '../http/validate.js';
import type { ConsentRecordView, ConsentRequestView } from './service.js';

export const consentPathSchema = z.object({ token: z.string().min(10).max(500).regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/) });
export const consentDecisionBodySchema = z.strictObject({
  decision: z.enum(['approved', 'denied']),
  textVersion: z.string().min(1).max(64).optional().describe('Which version of its consent text the app showed; recorded with the answer'),
});

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

export const consentRecordPathSchema = z.object({ signupId: z.uuid() });
const nullableTime = z.iso.datetime().nullable();
export const consentRecordSchema = z
  .strictObject({
    signupId: z.uuid(),
    eventId: z.uuid(),
    guardianEmail: z.string().nullable().describe('The address the request went to; null once anonymized'),
    linkSentAt: nullableTime,
    linkExpiresAt: nullableTime,
    decision: z.enum(['approved', 'denied']).nullable(),
    answeredAt: nullableTime,
    answeredVia: z.enum(['page', 'api']).nullable(),
    textVersion: z.string().nullable().describe("The version of the text the guardian was shown"),
    userAgent: z.string().nullable(),
    clientNetwork: z.string().nullable().describe('The answering address, truncated to its /24 (IPv4) or /48 (IPv6)'),
    anonymizedAt: nullableTime,
  })
  .meta({ id: 'ConsentRecord', description: "The trail of a guardian's consent: who was asked, when, what was shown, the answer" });
const _recordMatches: SameShape<z.output<typeof consentRecordSchema>, ConsentRecordView> = true;

/**
 * The guardian's token as JSON, for apps: no account needed, the signed token is the credential.
 * The link in the e-mail opens the HTML page of page-routes.ts, which answers through the same service.
 */
export function consentRoutes({ consents, authenticate }: RouteContext): Router {
  const router = Router();
  router.get('/v1/consents/:token', async (req, res) => {
    const { token } = parseRequestPart(consentPathSchema, req.params, 'path');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await consents.describe(token));
  });
  router.get('/v1/admin/signups/:signupId/consent', authenticate(['admin']), async (req, res) => {
    const { signupId } = parseRequestPart(consentRecordPathSchema, req.params, 'path');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await consents.recordOf(signupId));
  });
  router.post('/v1/consents/:token', async (req, res) => {
    const { token } = parseRequestPart(consentPathSchema, req.params, 'path');
    const { decision, textVersion } = parseRequestPart(consentDecisionBodySchema, req.body, 'body');
    res.json(
      await consents.decide(token, decision, {
        via: 'api',
        textVersion: textVersion ?? 'api:unstated',
        userAgent: req.get('user-agent'),
        clientAddress: req.ip,
      }),
    );
  });
  return router;
}
