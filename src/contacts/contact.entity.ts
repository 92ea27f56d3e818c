import { defineEntity, p } from '@mikro-orm/core';
import type { NotificationKind } from '../events/event-data.js';

/**
 * What we know about how to reach a user, and how they want to be told: the dev and test stand-in
 * for the profile service a real deployment has. The API refreshes the addresses from the identity
 * token's profile claims on each signup, follow and preferences change, so workers (which never see
 * tokens) can address messages. Deleted by erasure, and by the retention purge once nothing is left
 * to tell the person (docs/privacy.md).
 */
export const UserContactSchema = defineEntity({
  name: 'UserContact',
  tableName: 'user_contact',
  properties: {
    userId: p.string().length(200).primary(),
    email: p.string().length(320).nullable(),
    locale: p.string().length(16).nullable(),
    /** Where consent requests for a minor go. */
    guardianEmail: p.string().length(320).nullable(),
    /**
     * Where notifications are POSTed in addition to (or instead of) e-mail (src/notifications/channels.ts):
     * the seam for push and SMS gateways. Set by the person (PUT /v1/me/notification-preferences).
     */
    webhookUrl: p.string().length(2000).nullable(),
    /** Off: e-mail carries only what always goes, and only when no webhook takes it (src/contacts/preferences.ts). */
    emailEnabled: p.boolean().default(true),
    /** Optional kinds (reminders, thank-yous, signups opening) the person turned off. */
    optedOutKinds: p.array<NotificationKind>().default([]),
    /**
     * Marketing consent (GDPR art. 6(1)(a)), on every channel: announcements of new events go only to
     * followers who gave it. Transactional mail (receipts, changes) needs none.
     */
    emailMarketingConsent: p.boolean().default(false),
    /** When the consent was last given; kept after a withdrawal, to show what was agreed when. */
    marketingConsentGivenAt: p.datetime().nullable(),
    /** When it was last withdrawn; null while it stands (or was never given). */
    marketingConsentWithdrawnAt: p.datetime().nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export class UserContact extends UserContactSchema.class {}
UserContactSchema.setClass(UserContact);
