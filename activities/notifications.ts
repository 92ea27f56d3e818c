import type { MikroORM } from '@mikro-orm/postgresql';
import { createConsentToken } from '../src/consents/consent-token.js';
import type { ContactProvider } from '../src/contacts/provider.js';
import type { NotificationKind } from '../src/events/event-data.js';
import { EventTranslation } from '../src/events/event-translation.entity.js';
import type { Mailer } from '../src/notifications/mailer.js';
import { reasonText } from '../src/notifications/reasons.js';
import { sendNotificationOnce, type SendOutcome } from '../src/notifications/send.js';
import { Attendee } from '../src/signups/attendee.entity.js';
import { Signup } from '../src/signups/signup.entity.js';

export interface NotificationLinks {
  publicBaseUrl: string;
  consentTokenSecret: string;
  consentSeconds: number;
}

/**
 * Signup e-mails: gather what the message needs (event text in the participant's language, ticket
 * codes, amounts), find the address through the contact provider, and send once per signup and step.
 */
export function createNotificationActivities(deps: {
  orm: MikroORM;
  mailer: Mailer;
  contacts: ContactProvider;
  links: NotificationLinks;
}) {
  return {
    async sendSignupNotification(input: {
      signupId: string;
      kind: NotificationKind;
      /** Names the moment in the flow; with the signup id it is the message's once-only key. */
      step: string;
      details: Record<string, unknown>;
    }): Promise<SendOutcome | 'no-address'> {
      const em = deps.orm.em.fork();
      const signup = await em.findOneOrFail(Signup, input.signupId, { populate: ['event'] });
      const event = signup.event;
      const contact = await deps.contacts.contactOf(signup.userId);
      const toGuardian = input.kind === 'consent-request';
      const email = toGuardian ? contact?.guardianEmail : contact?.email;
      if (!email) return 'no-address';
      const locale = signup.locale || contact?.locale || event.defaultLocale;

      const translations = await em.find(EventTranslation, { event });
      const text =
        translations.find((t) => t.locale === locale) ??
        translations.find((t) => t.locale === locale.split('-')[0]) ??
        translations.find((t) => t.locale === event.defaultLocale) ??
        translations[0];
      const attendees = await em.find(Attendee, { signup }, { orderBy: { firstName: 'asc' } });
      const money = (amountMinor: unknown) =>
        typeof amountMinor === 'number' && amountMinor > 0 && signup.currency ? { amountMinor, currency: signup.currency } : undefined;

      const context: Record<string, unknown> = {
        timezone: event.timezone,
        event: {
          title: text?.title ?? event.id,
          startsAt: event.startsAt,
          signupOpensAt: event.signupOpensAt,
          venue: event.venue?.name,
        },
        tickets: attendees.map((attendee) => ({ firstName: attendee.firstName, code: attendee.ticketCode })),
        child: { firstName: attendees[0]?.firstName ?? '' },
        amount: money(signup.amountMinor),
        refund: money(input.details.refundMinor),
        paymentReference: signup.paymentIntentId,
        reason: typeof input.details.reason === 'string' ? reasonText(input.details.reason, locale) : undefined,
        expiresAt: input.details.expiresAt,
        waitlisted: input.details.waitlisted === true,
      };
      if (toGuardian) {
        const expiresAt = new Date(Date.now() + deps.links.consentSeconds * 1000);
        const token = createConsentToken({ signupId: signup.id, expiresAt }, deps.links.consentTokenSecret);
        context.consentUrl = `${deps.links.publicBaseUrl}/v1/consents/${token}`;
        context.expiresAt = expiresAt;
      }

      return sendNotificationOnce(em, deps.mailer, {
        key: `${input.step}:${signup.id}`,
        kind: input.kind,
        eventId: event.id,
        signupId: signup.id,
        recipient: { userId: signup.userId, email, locale },
        context: context as { timezone: string },
        overrides: event.notificationTexts,
      });
    },
  };
}
