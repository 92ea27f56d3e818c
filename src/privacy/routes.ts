import { Router } from 'express';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import type { SameShape } from '../http/api-schemas.js';
import type { RouteContext } from '../http/context.js';
import type { PersonalDataExport } from './export.js';
import type { ErasureView } from './service.js';
import { parseRequestPart } from '../http/validate.js';

const time = z.iso.datetime();
const nullableTime = time.nullable();

export const personalDataExportSchema = z
  .strictObject({
    userId: z.string(),
    exportedAt: time,
    contact: z
      .strictObject({
        email: z.string().nullable(),
        locale: z.string().nullable(),
        guardianEmail: z.string().nullable(),
        webhookUrl: z.string().nullable(),
        emailMarketingConsent: z.boolean().describe('Marketing consent (announcements), on every channel'),
        emailEnabled: z.boolean(),
        optedOutKinds: z.array(z.string()),
        marketingConsentGivenAt: nullableTime,
        marketingConsentWithdrawnAt: nullableTime,
        updatedAt: time,
      })
      .nullable(),
    interests: z.array(z.strictObject({ kind: z.string(), value: z.string(), createdAt: time })),
    signups: z.array(
      z.strictObject({
        id: z.uuid(),
        eventId: z.uuid(),
        eventTitle: z.string().nullable(),
        status: z.string(),
        platform: z.string(),
        locale: z.string(),
        seats: z.number().int(),
        createdAt: time,
        confirmedAt: nullableTime,
        cancelledAt: nullableTime,
        cancellationReason: z.string().nullable(),
        rejectionReason: z.string().nullable(),
        guardianDecision: z.string().nullable(),
        attendees: z.array(
          z.strictObject({
            firstName: z.string(),
            age: z.number().int(),
            kind: z.string(),
            needsNote: z.string().nullable(),
            ticketCode: z.string().nullable(),
          }),
        ),
      }),
    ),
    payments: z.array(
      z.strictObject({
        signupId: z.uuid(),
        stripePaymentIntentId: z.string().nullable(),
        amountMinor: z.number().int(),
        currency: z.string().nullable(),
        paidAt: nullableTime,
        refundedMinor: z.number().int(),
      }),
    ),
    consentRecords: z.array(
      z.strictObject({
        signupId: z.uuid(),
        guardianEmail: z.string().nullable(),
        linkSentAt: nullableTime,
        decision: z.string().nullable(),
        answeredAt: nullableTime,
        answeredVia: z.string().nullable(),
        textVersion: z.string().nullable(),
        userAgent: z.string().nullable(),
        clientNetwork: z.string().nullable(),
      }),
    ),
    notifications: z.array(
      z.strictObject({
        kind: z.string(),
        channel: z.string(),
        eventId: z.uuid().nullable(),
        signupId: z.uuid().nullable(),
        state: z.string(),
        sentAt: nullableTime,
      }),
    ),
  })
  .meta({ id: 'PersonalDataExport', description: 'Everything stored about the caller (GDPR art. 15 and 20); fields in docs/privacy.md' });
const _exportMatches: SameShape<z.output<typeof personalDataExportSchema>, PersonalDataExport> = true;

export const erasurePathSchema = z.object({ erasureId: z.uuid() });
const count = z.number().int();
export const erasureViewSchema = z
  .strictObject({
    id: z.uuid(),
    status: z.enum(['running', 'done']),
    requestedAt: time,
    completedAt: nullableTime,
    counts: z
      .strictObject({
        signupsCancelled: count,
        signupsAnonymized: count,
        attendeesAnonymized: count,
        contactsDeleted: count,
        interestsDeleted: count,
        notificationLinksDeleted: count,
        consentRecordsAnonymized: count,
      })
      .nullable()
      .describe('What was done, in counts; null while running'),
  })
  .meta({ id: 'Erasure', description: 'An erasure of your data and where it stands' });
const _erasureMatches: SameShape<z.output<typeof erasureViewSchema>, ErasureView> = true;

/** The caller's own data: export and erasure. */
export function privacyRoutes({ authenticate, privacy }: RouteContext): Router {
  const router = Router();
  router.get('/v1/me/data', authenticate(), async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Disposition', 'attachment; filename="eventbook-data.json"');
    res.json(await privacy.exportFor(principalOf(req).userId));
  });
  router.delete('/v1/me', authenticate(), async (req, res) => {
    const erasure = await privacy.requestErasure(principalOf(req).userId);
    res.status(202).location(`/v1/me/erasures/${erasure.id}`).json(erasure);
  });
  router.get('/v1/me/erasures/:erasureId', authenticate(), async (req, res) => {
    const { erasureId } = parseRequestPart(erasurePathSchema, req.params, 'path');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await privacy.erasureStatus(principalOf(req).userId, erasureId));
  });
  return router;
}
