import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ConsentRecord } from '../src/consents/consent-record.entity.js';
import { createConsentToken } from '../src/consents/consent-token.js';
import { deliveryPlan } from '../src/contacts/preferences.js';
import type { Contact, ContactProvider } from '../src/contacts/provider.js';
import type { NotificationKind } from '../src/events/event-data.js';
import { EventTranslation } from '../src/events/event-translation.entity.js';
import { LiveEvent } from '../src/events/event.entity.js';
import { emailChannel, type NotificationChannel } from '../src/notifications/channels.js';
import type { Mailer } from '../src/notifications/mailer.js';
import { reasonText } from '../src/notifications/reasons.js';
import { DeliveryFailedError, sendNotificationOnce, type Delivery, type NotificationRequest, type SendOutcome } from '../src/notifications/send.js';
import { Attendee } from '../src/signups/attendee.entity.js';
import { Signup } from '../src/signups/signup.entity.js';
import { countNotificationResults, notificationDeliveriesFailedTotal } from '../src/observability/metrics.js';

/**
 * Some channel failed and `deferFailures` was asked for: the channels that worked went out, the
 * failed ones are `retrying` in the log under this key; the caller arranges their retries
 * (workflows/notification-retry.ts) instead of failing.
 */
export interface DeferredNotification {
  deferredKey: string;
}

/**
 * `no-address`: no channel to reach the person; `opted-out`: they turned this kind off;
 * `no-marketing-consent`: an announcement to somebody who has not agreed to them.
 */
export type NotificationOutcome = SendOutcome | 'no-address' | 'opted-out' | 'no-marketing-consent' | DeferredNotification;

export interface SignupNotificationInput {
  signupId: string;
  kind: NotificationKind;
  /** Names the moment in the flow; with the signup id it is the message's once-only key. */
  step: string;
  details: Record<string, unknown>;
  /** Fan-outs: a failed channel does not fail the call (see DeferredNotification). */
  deferFailures?: boolean;
}

/** Messages about one signup, sent in this order (see sendSignupNotifications). */
export interface SignupNotificationsInput {
  signupId: string;
  messages: Pick<SignupNotificationInput, 'kind' | 'step' | 'details'>[];
}

interface SignupFacts {
  signup: Signup;
  /** The reader's: the signup's, else the contact's, else the event's default. */
  locale: string;
  text: EventTranslation | undefined;
  attendees: Attendee[];
}

export interface UserNotificationInput {
  userId: string;
  eventId: string;
  kind: NotificationKind;
  step: string;
  /** Fan-outs: a failed channel does not fail the call (see DeferredNotification). */
  deferFailures?: boolean;
}

export interface NotificationLinks {
  publicBaseUrl: string;
  consentTokenSecret: string;
  consentSeconds: number;
}

/**
 * Signup notifications: gather what the message needs (event text in the participant's language,
 * ticket codes, amounts), find the addresses through the contact provider, and send once per signup,
 * step and channel: by e-mail when the contact has an address, and to the contact's webhook when it
 * has one (and the worker has a webhook channel).
 */
export function createNotificationActivities(deps: {
  orm: MikroORM;
  mailer: Mailer;
  /** Absent when the worker has no webhook signing secret: contacts' webhook URLs are then not used. */
  webhook?: NotificationChannel;
  contacts: ContactProvider;
  links: NotificationLinks;
}) {
  const email = emailChannel(deps.mailer);

  /**
   * Where this message goes, by the person's preferences (src/contacts/preferences.ts decides):
   * e-mail when there is an address (a user may have none) and their webhook when they have one.
   * The webhook and the preferences are the participant's own, so a message for the guardian (a
   * consent request and its receipt) goes to the guardian's e-mail, whatever the participant chose.
   */
  function deliveriesTo(contact: Contact | undefined, kind: NotificationKind, toGuardian = false): Delivery[] | Exclude<NotificationOutcome, SendOutcome | DeferredNotification> {
    if (toGuardian) return contact?.guardianEmail ? [{ channel: email, to: contact.guardianEmail }] : 'no-address';
    if (!contact) return 'no-address';
    const webhookUrl = deps.webhook && contact.webhookUrl ? contact.webhookUrl : undefined;
    const plan = deliveryPlan(kind, {
      hasEmail: Boolean(contact.email),
      hasWebhook: webhookUrl !== undefined,
      emailEnabled: contact.emailEnabled ?? true,
      optedOutKinds: contact.optedOutKinds ?? [],
      marketingConsent: contact.emailMarketingConsent,
    });
    if ('withheld' in plan) return plan.withheld;
    const deliveries: Delivery[] = [];
    if (plan.send.includes('email') && contact.email) deliveries.push({ channel: email, to: contact.email });
    if (plan.send.includes('webhook') && deps.webhook && webhookUrl) deliveries.push({ channel: deps.webhook, to: webhookUrl });
    return deliveries;
  }

  /**
   * Whom to reach is decided before the signup and its event are loaded: a user who left no way to
   * reach them (apps that send their own messages) costs one small read, not the entities.
   */
  async function contactOfSignup(em: EntityManager, signupId: string): Promise<Contact | undefined> {
    const [owner] = await em.getConnection().execute<{ user_id: string }[]>('select user_id from signup where id = ?', [signupId]);
    if (!owner) throw new Error(`no signup ${signupId} to notify about`);
    return deps.contacts.contactOf(owner.user_id);
  }

  /** The signup with its event, the event's text in the reader's language and the attendees, read the first time a message needs them. */
  function loadOnce(em: EntityManager, signupId: string, contact: Contact | undefined): () => Promise<SignupFacts> {
    let facts: Promise<SignupFacts> | undefined;
    return () =>
      (facts ??= (async () => {
        const signup = await em.findOneOrFail(Signup, signupId, { populate: ['event'] });
        const locale = signup.locale || contact?.locale || signup.event.defaultLocale;
        const text = await eventTextIn(em, signup.event, locale);
        const attendees = await em.find(Attendee, { signup }, { orderBy: { firstName: 'asc' } });
        return { signup, locale, text, attendees };
      })());
  }

  async function sendAboutSignup(
    em: EntityManager,
    contact: Contact | undefined,
    input: SignupNotificationInput,
    signupFacts: () => Promise<SignupFacts>,
  ): Promise<NotificationOutcome> {
    // The request and the receipt of the answer go to the guardian; everything else to the user.
    const toGuardian = input.kind === 'consent-request' || input.kind === 'consent-receipt';
    const deliveries = deliveriesTo(contact, input.kind, toGuardian);
    if (!Array.isArray(deliveries)) return deliveries;
    const { signup, locale, text, attendees } = await signupFacts();
    const event = signup.event;
    const money = (amountMinor: unknown) =>
      typeof amountMinor === 'number' && amountMinor > 0 && signup.currency ? { amountMinor, currency: signup.currency } : undefined;

    const context: Record<string, unknown> = {
      timezone: event.timezone,
      event: {
        title: text?.title ?? event.id,
        startsAt: event.startsAt,
        signupOpensAt: event.signupOpensAt,
        venue: event.venue?.name,
        url: eventPageUrl(deps.links, event.id),
      },
      tickets: attendees.map((attendee) => ({ firstName: attendee.firstName, code: attendee.ticketCode })),
      child: { firstName: attendees[0]?.firstName ?? '' },
      amount: money(signup.amountMinor),
      refund: money(input.details.refundMinor),
      // A refunded payment names its own intent (it may not be the signup's).
      paymentReference: typeof input.details.paymentReference === 'string' ? input.details.paymentReference : signup.paymentIntentId,
      reason: typeof input.details.reason === 'string' ? reasonText(input.details.reason, locale) : undefined,
      expiresAt: input.details.expiresAt,
      waitlisted: input.details.waitlisted === true,
      approved: signup.guardianDecision === 'approved',
      answeredAt: signup.guardianDecidedAt ?? undefined,
    };
    if (toGuardian) {
      const expiresAt = new Date(Date.now() + deps.links.consentSeconds * 1000);
      const token = createConsentToken({ signupId: signup.id, expiresAt }, deps.links.consentTokenSecret);
      // The guardian's page (src/consents/page-routes.ts); apps answer the same token at /v1/consents/{token}.
      context.consentUrl = `${deps.links.publicBaseUrl}/consent/${token}`;
      context.expiresAt = expiresAt;
    }
    const guardianAddress = contact?.guardianEmail;
    if (input.kind === 'consent-request' && guardianAddress) await recordConsentRequest(em, signup, guardianAddress);

    const request: NotificationRequest = {
      key: `${input.step}:${signup.id}`,
      kind: input.kind,
      eventId: event.id,
      signupId: signup.id,
      recipient: { userId: signup.userId, locale },
      context: context as { timezone: string },
      overrides: event.notificationTexts,
    };
    const outcome = await sendOnEach(em, deliveries, request, input.deferFailures ?? false);
    // The link of the attempt that went out is the one the guardian holds: its send time and expiry.
    if (input.kind === 'consent-request' && outcome === 'sent' && context.expiresAt instanceof Date) {
      await em.nativeUpdate(ConsentRecord, { signupId: signup.id }, { linkSentAt: new Date(), linkExpiresAt: context.expiresAt });
    }
    return outcome;
  }

  return {
    async sendSignupNotification(input: SignupNotificationInput): Promise<NotificationOutcome> {
      const em = deps.orm.em.fork();
      const contact = await contactOfSignup(em, input.signupId);
      return sendAboutSignup(em, contact, input, loadOnce(em, input.signupId, contact));
    },

    /**
     * Several messages about one signup, in order, from one read of its contact (and, if any goes
     * out, of its signup and event): a paid confirmation's receipt and confirmation, in one activity.
     * Each is tried even when an earlier one failed, then any failure is thrown; each is sent once
     * per its own key, so the retry sends only what is missing.
     */
    async sendSignupNotifications(input: SignupNotificationsInput): Promise<NotificationOutcome[]> {
      const em = deps.orm.em.fork();
      const contact = await contactOfSignup(em, input.signupId);
      const signupFacts = loadOnce(em, input.signupId, contact);
      const outcomes: NotificationOutcome[] = [];
      const failures: string[] = [];
      for (const message of input.messages) {
        try {
          outcomes.push(await sendAboutSignup(em, contact, { signupId: input.signupId, ...message }, signupFacts));
        } catch (error) {
          failures.push(`${message.kind}: ${errorMessage(error)}`);
        }
      }
      if (failures.length > 0) throw new Error(`notifications about signup ${input.signupId} not all sent: ${failures.join('; ')}`);
      return outcomes;
    },

    /**
     * A message to a user about an event rather than about one of their signups (announcements,
     * signups opening), in their language; keyed once per user, event and step.
     */
    async sendUserNotification(input: UserNotificationInput): Promise<NotificationOutcome> {
      const em = deps.orm.em.fork();
      const contact = await deps.contacts.contactOf(input.userId);
      if (!contact) return 'no-address';
      const deliveries = deliveriesTo(contact, input.kind);
      if (!Array.isArray(deliveries)) return deliveries;
      const event = await em.findOneOrFail(LiveEvent, input.eventId);
      const locale = contact.locale ?? event.defaultLocale;
      const text = await eventTextIn(em, event, locale);
      return sendOnEach(em, deliveries, {
        key: `${input.step}:${input.eventId}:${input.userId}`,
        kind: input.kind,
        eventId: event.id,
        recipient: { userId: input.userId, locale },
        context: {
          timezone: event.timezone,
          event: {
            title: text?.title ?? event.id,
            startsAt: event.startsAt,
            signupOpensAt: event.signupOpensAt ?? event.announceAt,
            venue: event.venue?.name,
            url: eventPageUrl(deps.links, event.id),
          },
        },
        overrides: event.notificationTexts,
      }, input.deferFailures ?? false);
    },

    /**
     * A notification's retries ran out (workflows/notification-retry.ts): every channel of it not
     * sent is recorded as failed, per recipient and channel, and counted.
     */
    async recordNotificationFailed(input: { key: string }): Promise<{ failed: number }> {
      const rows = await deps.orm.em.fork().getConnection().execute<{ channel: string; kind: string }[]>(
        `update notification_log set state = 'failed', failed_at = now() where key = ? and state <> 'sent' returning channel, kind`,
        [input.key],
      );
      for (const row of rows) notificationDeliveriesFailedTotal.inc({ channel: row.channel, kind: row.kind });
      return { failed: rows.length };
    },
  };
}

/** The consent trail starts when its request is sent: which address was asked (once per signup). */
async function recordConsentRequest(em: EntityManager, signup: Signup, guardianEmail: string): Promise<void> {
  await em.execute(
    `insert into consent_record (id, signup_id, event_id, user_id, guardian_email, created_at)
     values (gen_random_uuid(), ?, ?, ?, ?, now()) on conflict (signup_id) do nothing`,
    [signup.id, signup.event.id, signup.userId, guardianEmail],
  );
}

/**
 * Every channel is tried, even when an earlier one fails, so a broken webhook never holds back the
 * e-mail (or the reverse); then any failure is thrown, the activity retries, and the channels that
 * went out answer `already-sent` from the log. With `defer`, a failure is answered instead (the
 * failed channels are `retrying` in the log) and the caller retries on the notification's own schedule.
 */
async function sendOnEach(
  em: Parameters<typeof sendNotificationOnce>[0],
  deliveries: Delivery[],
  request: NotificationRequest,
  defer: boolean,
): Promise<SendOutcome | DeferredNotification> {
  const results = await Promise.allSettled(deliveries.map((delivery) => sendNotificationOnce(em.fork(), delivery, request)));
  countNotificationResults(request.kind, deliveries.map((delivery) => delivery.channel.name), results);
  const failures = results.flatMap((result, index) =>
    result.status === 'rejected' ? [`${deliveries[index]!.channel.name}: ${errorMessage(result.reason)}`] : [],
  );
  if (failures.length > 0) {
    // A channel's failure before it was called (the log unreachable) is not a delivery failure: thrown.
    if (defer && results.every((result) => result.status === 'fulfilled' || result.reason instanceof DeliveryFailedError)) return { deferredKey: request.key };
    throw new Error(`notification ${request.key} not sent on ${failures.join('; ')}`);
  }
  return results.some((result) => result.status === 'fulfilled' && result.value === 'sent') ? 'sent' : 'already-sent';
}

/** The event's public page (GET /v1/events/{id}), which also answers for a cancelled event. */
function eventPageUrl(links: NotificationLinks, eventId: string): string {
  return `${links.publicBaseUrl}/v1/events/${eventId}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The event's text in the reader's language, else its language family, else the event's default. */
async function eventTextIn(em: EntityManager, event: LiveEvent, locale: string): Promise<EventTranslation | undefined> {
  const translations = await em.find(EventTranslation, { event });
  return (
    translations.find((t) => t.locale === locale) ??
    translations.find((t) => t.locale === locale.split('-')[0]) ??
    translations.find((t) => t.locale === event.defaultLocale) ??
    translations[0]
  );
}
