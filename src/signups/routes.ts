import { Router } from 'express';
import { z } from 'zod';
import { localeSchema, platforms } from '../events/event-data.js';
import { principalOf, writeBudgetOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import type { SameShape } from '../http/api-schemas.js';
import { parseRequestPart } from '../http/validate.js';
import type { SignupPage, SignupView } from './service.js';
import { signupStatuses } from './status.js';

const attendeeSchema = z
  .strictObject({
    firstName: z.string().trim().min(1).max(100),
    birthDate: z.iso.date().optional().describe('YYYY-MM-DD; the age on the event day is what the age rules check'),
    age: z.number().int().min(0).max(120).optional().describe('Instead of birthDate: the age on the event day'),
    kind: z.enum(['child', 'adult']),
    needsNote: z.string().trim().max(1000).optional().describe(
        "Allergies, accessibility needs: shown to the event's organizers and admins in its participants list and CSV " +
          '(every read is logged), deleted by the retention purge after the event',
      ),
  })
  .refine((attendee) => (attendee.birthDate === undefined) !== (attendee.age === undefined), {
    message: 'give either birthDate or age',
    path: ['birthDate'],
  });

export const signupRequestSchema = z.strictObject({
  attendees: z.array(attendeeSchema).min(1).max(20).describe('Everyone the signup brings; one seat each'),
  ticketType: z.string().min(1).max(64).optional().describe("A ticket type code; may be left out when the event has only one"),
  promoCode: z.string().trim().min(1).max(64).optional(),
  platform: z.enum(platforms).describe('The app the signup comes from; events may be offered on some platforms only'),
  locale: localeSchema.optional().describe("The language of the participant's e-mails (default: the token's, else the event's)"),
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
export const cancelSignupBodySchema = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });
export const removeParticipantPath = z.object({ eventId: z.uuid(), signupId: z.uuid() });
export const removeParticipantBodySchema = z.strictObject({
  reason: z.string().trim().min(1).max(500).describe('Told to the participant'),
});
export const mySignupsQuerySchema = z.strictObject({
  status: z.enum(signupStatuses).optional(),
  eventId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.uuid().optional().describe('nextCursor of the previous page'),
});

const isoOrNull = z.iso.datetime().nullable();

/** The answer of every signup endpoint, for the API document (src/http/api-operations.ts). */
export const signupViewSchema = z
  .strictObject({
    id: z.uuid(),
    eventId: z.uuid(),
    status: z.enum(signupStatuses),
    seats: z.number().int().min(1),
    ticketType: z.string().nullable(),
    platform: z.enum(platforms),
    locale: z.string(),
    attendees: z.array(
      z.strictObject({
        firstName: z.string(),
        kind: z.enum(['child', 'adult']),
        ticketCode: z.string().nullable().describe('Issued on confirmation'),
      }),
    ),
    price: z.strictObject({
      amountMinor: z.number().int().min(0).describe('In the currency minor unit; 0 when free'),
      currency: z.string().nullable(),
      promoCode: z.string().nullable(),
    }),
    payment: z
      .strictObject({ paymentIntentId: z.string(), clientSecret: z.string() })
      .nullable()
      .describe('While the signup awaits payment: confirm this PaymentIntent with Stripe on the device'),
    refundedMinor: z.number().int().min(0),
    waitlistPosition: z.number().int().min(1).nullable(),
    holdExpiresAt: isoOrNull.describe('While seats are held: when they go back unless paid for (or the offer taken)'),
    offeredAt: isoOrNull.describe('When seats were offered from the waiting list'),
    confirmedAt: isoOrNull,
    releasedAt: isoOrNull,
    cancelledAt: isoOrNull,
    rejectionReason: z.string().nullable(),
    cancellationReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Signup', description: 'A signup and where its workflow has got to' });
// Fails to compile when SignupView and the documented schema part ways.
const _signupViewMatches: SameShape<z.output<typeof signupViewSchema>, SignupView> = true;

export const signupPageSchema = z
  .strictObject({ items: z.array(signupViewSchema), nextCursor: z.uuid().nullable() })
  .meta({ id: 'SignupPage', description: 'Your signups, newest first' });
const _signupPageMatches: SameShape<z.output<typeof signupPageSchema>, SignupPage> = true;

export function signupRoutes({ authenticate, signups, signupCommands }: RouteContext): Router {
  const router = Router();

  // The hot route of a burst: its context is read while the write's budget is spent.
  router.post('/v1/events/:eventId/signups', authenticate(undefined, { budgetAlongside: true }), async (req, res) => {
    const principal = principalOf(req);
    const { eventId } = parseRequestPart(eventPath, req.params, 'path');
    const body = parseRequestPart(signupRequestSchema, req.body, 'body');
    const headers = parseRequestPart(idempotencyHeaders, { 'idempotency-key': req.get('idempotency-key') }, 'header');
    const { signup, replayed } = await signups.requestSignup(principal, eventId, body, headers['idempotency-key'], writeBudgetOf(req));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(202).location(`/v1/signups/${signup.id}`).json(signup);
  });

  router.get('/v1/signups/:signupId', authenticate(), async (req, res) => {
    const { signupId } = parseRequestPart(signupPath, req.params, 'path');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await signups.getSignup(principalOf(req), signupId));
  });

  router.get('/v1/me/signups', authenticate(), async (req, res) => {
    const query = parseRequestPart(mySignupsQuerySchema, req.query, 'query');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await signups.listMySignups(principalOf(req), query));
  });

  router.post('/v1/signups/:signupId/confirm', authenticate(), async (req, res) => {
    const { signupId } = parseRequestPart(signupPath, req.params, 'path');
    res.json(await signupCommands.confirm(principalOf(req), signupId));
  });

  router.post('/v1/signups/:signupId/cancel', authenticate(), async (req, res) => {
    const { signupId } = parseRequestPart(signupPath, req.params, 'path');
    const body = parseRequestPart(cancelSignupBodySchema, req.body ?? {}, 'body');
    res.json(await signupCommands.cancel(principalOf(req), signupId, body.reason));
  });

  router.delete('/v1/admin/events/:eventId/participants/:signupId', authenticate(['organizer', 'admin']), async (req, res) => {
    const { eventId, signupId } = parseRequestPart(removeParticipantPath, req.params, 'path');
    const { reason } = parseRequestPart(removeParticipantBodySchema, req.body ?? {}, 'body');
    res.json(await signupCommands.removeParticipant(principalOf(req), eventId, signupId, reason));
  });

  return router;
}
