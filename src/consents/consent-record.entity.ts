import { defineEntity, p } from '@mikro-orm/core';
import { guardianDecisions } from '../signups/signup.entity.js';

export const consentAnswerChannels = ['page', 'api'] as const;

/**
 * The trail of one guardian consent request and its answer: which address was asked, when the link
 * went out and when it ran out, the decision and when it was made, the version of the text shown,
 * and the answering request's user agent and truncated network address (client-address.ts). Written
 * when the request mail is sent (activities/notifications.ts) and completed by the answer
 * (service.ts). Shown to admins only. Purge and erasure anonymize it (the address, agent and user
 * id go; the decision and its times stay, so that a consent once given can still be shown).
 */
export const ConsentRecordSchema = defineEntity({
  name: 'ConsentRecord',
  tableName: 'consent_record',
  indexes: [{ properties: ['userId'] }],
  properties: {
    id: p.uuid().primary(),
    /** One request per signup: the signup workflow asks once. */
    signupId: p.uuid().unique(),
    eventId: p.uuid(),
    /** The minor's user id (the requester); `purged:`/`erased:` once anonymized. */
    userId: p.string().length(200),
    /** The guardian's address the request went to; null once anonymized. */
    guardianEmail: p.string().length(320).nullable(),
    linkSentAt: p.datetime().nullable(),
    linkExpiresAt: p.datetime().nullable(),
    decision: p.enum(guardianDecisions).nullable(),
    answeredAt: p.datetime().nullable(),
    /** Answered on the HTML page or through the JSON API (an app). */
    answeredVia: p.enum(consentAnswerChannels).nullable(),
    /** What the guardian was shown: the page's text version, or what the app said it showed. */
    textVersion: p.string().length(64).nullable(),
    userAgent: p.string().length(500).nullable(),
    /** The answering client's address, truncated (IPv4 /24, IPv6 /48): enough to spot abuse, not to find a home. */
    clientNetwork: p.string().length(64).nullable(),
    anonymizedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class ConsentRecord extends ConsentRecordSchema.class {}
ConsentRecordSchema.setClass(ConsentRecord);
