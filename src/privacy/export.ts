import type { MikroORM } from '@mikro-orm/postgresql';
import { ConsentRecord } from '../consents/consent-record.entity.js';
import { UserContact } from '../contacts/contact.entity.js';
import { EventTranslation } from '../events/event-translation.entity.js';
import { Interest } from '../interests/interest.entity.js';
import { NotificationLog } from '../notifications/notification-log.entity.js';
import { Attendee } from '../signups/attendee.entity.js';
import { Signup } from '../signups/signup.entity.js';

/**
 * GET /v1/me/data (GDPR art. 15 and 20): everything stored about the caller, keyed by their user
 * id, as one machine-readable JSON document. What each field is, and how long it is kept, is in
 * docs/privacy.md; a new table with personal data belongs here too.
 */
export interface PersonalDataExport {
  userId: string;
  exportedAt: string;
  contact: {
    email: string | null;
    locale: string | null;
    guardianEmail: string | null;
    webhookUrl: string | null;
    emailMarketingConsent: boolean;
    /** The notification preferences (GET /v1/me/notification-preferences). */
    emailEnabled: boolean;
    optedOutKinds: string[];
    marketingConsentGivenAt: string | null;
    marketingConsentWithdrawnAt: string | null;
    updatedAt: string;
  } | null;
  interests: { kind: string; value: string; createdAt: string }[];
  signups: {
    id: string;
    eventId: string;
    eventTitle: string | null;
    status: string;
    platform: string;
    locale: string;
    seats: number;
    createdAt: string;
    confirmedAt: string | null;
    cancelledAt: string | null;
    cancellationReason: string | null;
    rejectionReason: string | null;
    guardianDecision: string | null;
    attendees: { firstName: string; age: number; kind: string; needsNote: string | null; ticketCode: string | null }[];
  }[];
  payments: {
    signupId: string;
    stripePaymentIntentId: string | null;
    amountMinor: number;
    currency: string | null;
    paidAt: string | null;
    refundedMinor: number;
  }[];
  consentRecords: {
    signupId: string;
    guardianEmail: string | null;
    linkSentAt: string | null;
    decision: string | null;
    answeredAt: string | null;
    answeredVia: string | null;
    textVersion: string | null;
    userAgent: string | null;
    clientNetwork: string | null;
  }[];
  notifications: { kind: string; channel: string; eventId: string | null; signupId: string | null; state: string; sentAt: string | null }[];
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

export function createPersonalDataExport(deps: { orm: MikroORM; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return async function exportFor(userId: string): Promise<PersonalDataExport> {
    const em = deps.orm.em.fork();
    const [contact, interests, signups, consentRecords, notifications] = await Promise.all([
      em.fork().findOne(UserContact, userId),
      em.fork().find(Interest, { userId }, { orderBy: { createdAt: 'asc', id: 'asc' } }),
      em.fork().find(Signup, { userId }, { orderBy: { createdAt: 'asc', id: 'asc' } }),
      em.fork().find(ConsentRecord, { userId }, { orderBy: { createdAt: 'asc' } }),
      em.fork().find(NotificationLog, { recipientUserId: userId }, { orderBy: { id: 'asc' } }),
    ]);
    const signupIds = signups.map((signup) => signup.id);
    const eventIds = [...new Set(signups.map((signup) => signup.event.id))];
    const [attendees, titles] = await Promise.all([
      signupIds.length ? em.fork().find(Attendee, { signup: { $in: signupIds } }, { orderBy: { firstName: 'asc', id: 'asc' } }) : [],
      eventIds.length ? em.fork().find(EventTranslation, { event: { $in: eventIds } }) : [],
    ]);
    const titleOf = (signup: Signup) =>
      (titles.find((t) => t.event.id === signup.event.id && t.locale === signup.locale) ?? titles.find((t) => t.event.id === signup.event.id))?.title ?? null;
    return {
      userId,
      exportedAt: now().toISOString(),
      contact: contact
        ? {
            email: contact.email ?? null,
            locale: contact.locale ?? null,
            guardianEmail: contact.guardianEmail ?? null,
            webhookUrl: contact.webhookUrl ?? null,
            emailMarketingConsent: contact.emailMarketingConsent,
            emailEnabled: contact.emailEnabled,
            optedOutKinds: [...contact.optedOutKinds],
            marketingConsentGivenAt: iso(contact.marketingConsentGivenAt),
            marketingConsentWithdrawnAt: iso(contact.marketingConsentWithdrawnAt),
            updatedAt: contact.updatedAt.toISOString(),
          }
        : null,
      interests: interests.map((interest) => ({ kind: interest.kind, value: interest.value, createdAt: interest.createdAt.toISOString() })),
      signups: signups.map((signup) => ({
        id: signup.id,
        eventId: signup.event.id,
        eventTitle: titleOf(signup),
        status: signup.status,
        platform: signup.platform,
        locale: signup.locale,
        seats: signup.seats,
        createdAt: signup.createdAt.toISOString(),
        confirmedAt: iso(signup.confirmedAt),
        cancelledAt: iso(signup.cancelledAt),
        cancellationReason: signup.cancellationReason ?? null,
        rejectionReason: signup.rejectionReason ?? null,
        guardianDecision: signup.guardianDecision ?? null,
        attendees: attendees
          .filter((attendee) => attendee.signup.id === signup.id)
          .map((attendee) => ({
            firstName: attendee.firstName,
            age: attendee.age,
            kind: attendee.kind,
            needsNote: attendee.needsNote ?? null,
            ticketCode: attendee.ticketCode ?? null,
          })),
      })),
      payments: signups
        .filter((signup) => signup.amountMinor > 0 || signup.paymentIntentId)
        .map((signup) => ({
          signupId: signup.id,
          stripePaymentIntentId: signup.paymentIntentId ?? null,
          amountMinor: signup.amountMinor,
          currency: signup.currency ?? null,
          paidAt: iso(signup.paidAt),
          refundedMinor: signup.refundedMinor,
        })),
      consentRecords: consentRecords.map((record) => ({
        signupId: record.signupId,
        guardianEmail: record.guardianEmail ?? null,
        linkSentAt: iso(record.linkSentAt),
        decision: record.decision ?? null,
        answeredAt: iso(record.answeredAt),
        answeredVia: record.answeredVia ?? null,
        textVersion: record.textVersion ?? null,
        userAgent: record.userAgent ?? null,
        clientNetwork: record.clientNetwork ?? null,
      })),
      notifications: notifications.map((row) => ({
        kind: row.kind,
        channel: row.channel,
        eventId: row.eventId ?? null,
        signupId: row.signupId ?? null,
        state: row.state,
        sentAt: iso(row.sentAt),
      })),
    };
  };
}
