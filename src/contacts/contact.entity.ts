import { defineEntity, p } from '@mikro-orm/core';

/**
 * What we know about how to reach a user: the dev and test stand-in for the profile service a real
 * deployment has. The API refreshes it from the identity token's profile claims on each signup, so
 * workers (which never see tokens) can address e-mails. Purged with the rest of a user's data.
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
     * Where notifications are POSTed in addition to e-mail (src/notifications/channels.ts): the seam
     * for push and SMS gateways. Set by the profile service, never from our API's request bodies.
     */
    webhookUrl: p.string().length(2000).nullable(),
    /** Transactional mail (receipts, changes) needs no opt-in; marketing-like mail (announcements) does. */
    emailMarketingConsent: p.boolean().default(false),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export class UserContact extends UserContactSchema.class {}
UserContactSchema.setClass(UserContact);
