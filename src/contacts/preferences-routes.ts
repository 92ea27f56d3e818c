import { Router } from 'express';
import { z } from 'zod';
import { notificationKinds } from '../events/event-data.js';
import type { SameShape } from '../http/api-schemas.js';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { parseRequestPart } from '../http/validate.js';
import { webhookUrlSchema } from '../webhooks/routes.js';
import { optionalKinds } from './preferences.js';
import type { NotificationPreferencesInput, NotificationPreferencesView } from './preferences-service.js';

const nullableTime = z.iso.datetime().nullable();
const kindsDescription = `Kinds you turned off; only ${optionalKinds.join(', ')} can be (confirmations, receipts, consent and cancellation messages always go)`;

export const notificationPreferencesBodySchema = z
  .strictObject({
    channels: z.strictObject({
      email: z.strictObject({ enabled: z.boolean().describe('false: e-mail only for what always goes, and only when no webhook takes it') }),
      webhook: z.strictObject({
        url: webhookUrlSchema.nullable().describe('Your push or webhook endpoint (https in production); null: none'),
      }),
    }),
    optedOut: z.array(z.enum(notificationKinds)).max(notificationKinds.length).describe(kindsDescription),
    marketing: z.strictObject({
      consent: z.boolean().describe('Announcements of new events in what you follow; withdraw it any time with false'),
    }),
  })
  .meta({ id: 'NotificationPreferencesInput', description: 'How you want to be told; replaces what was saved' });
const _inputMatches: SameShape<z.output<typeof notificationPreferencesBodySchema>, NotificationPreferencesInput> = true;

export const notificationPreferencesSchema = z
  .strictObject({
    channels: z.strictObject({
      email: z.strictObject({
        enabled: z.boolean(),
        address: z.string().nullable().describe('From your identity provider; not set here'),
      }),
      webhook: z.strictObject({ url: z.string().nullable() }),
    }),
    optedOut: z.array(z.enum(notificationKinds)).describe(kindsDescription),
    marketing: z.strictObject({
      consent: z.boolean(),
      givenAt: nullableTime.describe('When you last gave it'),
      withdrawnAt: nullableTime.describe('When you last withdrew it; null while it stands'),
    }),
    updatedAt: nullableTime.describe('null: never saved (the defaults)'),
  })
  .meta({ id: 'NotificationPreferences', description: 'How you are told: channels, opt-outs, marketing consent' });
const _viewMatches: SameShape<z.output<typeof notificationPreferencesSchema>, NotificationPreferencesView> = true;

export function notificationPreferenceRoutes({ authenticate, notificationPreferences }: RouteContext): Router {
  const router = Router();
  router.get('/v1/me/notification-preferences', authenticate(), async (req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    res.json(await notificationPreferences.get(principalOf(req)));
  });
  router.put('/v1/me/notification-preferences', authenticate(), async (req, res) => {
    const body = parseRequestPart(notificationPreferencesBodySchema, req.body ?? {}, 'body');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await notificationPreferences.put(principalOf(req), body));
  });
  return router;
}
