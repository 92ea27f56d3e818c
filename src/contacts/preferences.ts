/**
 * How a person wants to be told, and what the law lets them turn off. Pure: the one place that
 * decides which channels a notification goes out on (activities/notifications.ts asks it for
 * every message to a participant) and which preferences may be saved (src/contacts/preferences-service.ts).
 */
import { BlockList, isIP } from 'node:net';
import { notificationKinds, type NotificationKind } from '../events/event-data.js';
import type { ChannelName } from '../notifications/channels.js';

/**
 * transactional: about a signup the person made or its event (receipts, confirmations, the
 * guardian's consent request, changes and cancellations of a booked event): needed to perform the
 * contract, so no opt-out. optional: service messages the person may turn off. marketing: news of
 * events nobody booked yet; only with marketing consent (and, for announcements, a follow).
 */
export type NotificationClass = 'transactional' | 'optional' | 'marketing';

export const notificationClasses: Record<NotificationKind, NotificationClass> = {
  announcement: 'marketing',
  'signup-opened': 'optional',
  'signup-received': 'transactional',
  'consent-request': 'transactional',
  'consent-receipt': 'transactional',
  'payment-receipt': 'transactional',
  confirmation: 'transactional',
  'waitlist-offer': 'transactional',
  rejection: 'transactional',
  'cancellation-receipt': 'transactional',
  'payment-refunded': 'transactional',
  'event-changed': 'transactional',
  'event-cancelled': 'transactional',
  reminder: 'optional',
  'thank-you': 'optional',
};

/** The kinds a person may opt out of, in the order of notificationKinds. */
export const optionalKinds: readonly NotificationKind[] = notificationKinds.filter((kind) => notificationClasses[kind] === 'optional');

/** What the decision needs to know about a recipient. */
export interface RecipientChannels {
  /** An e-mail address is known. */
  hasEmail: boolean;
  /** A webhook URL is set and this deployment signs webhooks. */
  hasWebhook: boolean;
  emailEnabled: boolean;
  optedOutKinds: readonly NotificationKind[];
  marketingConsent: boolean;
}

export type DeliveryPlan = { send: ChannelName[] } | { withheld: 'opted-out' | 'no-marketing-consent' | 'no-address' };

/**
 * Which channels a message of this kind goes out on. E-mail switched off still carries a
 * transactional message when there is no webhook to take it: those always go.
 */
export function deliveryPlan(kind: NotificationKind, recipient: RecipientChannels): DeliveryPlan {
  const kindClass = notificationClasses[kind];
  if (kindClass === 'marketing' && !recipient.marketingConsent) return { withheld: 'no-marketing-consent' };
  if (kindClass === 'optional' && recipient.optedOutKinds.includes(kind)) return { withheld: 'opted-out' };
  const send: ChannelName[] = [];
  if (recipient.hasEmail && (recipient.emailEnabled || (kindClass === 'transactional' && !recipient.hasWebhook))) send.push('email');
  if (recipient.hasWebhook) send.push('webhook');
  return send.length > 0 ? { send } : { withheld: 'no-address' };
}

/**
 * Addresses a participant's webhook must not name in production: the worker would POST to our own
 * network (loopback, private, link-local such as cloud metadata, unique-local, CGNAT).
 */
const internalNetworks = new BlockList();
internalNetworks.addSubnet('127.0.0.0', 8);
internalNetworks.addSubnet('10.0.0.0', 8);
internalNetworks.addSubnet('172.16.0.0', 12);
internalNetworks.addSubnet('192.168.0.0', 16);
internalNetworks.addSubnet('169.254.0.0', 16);
internalNetworks.addSubnet('100.64.0.0', 10);
internalNetworks.addSubnet('0.0.0.0', 8);
internalNetworks.addAddress('::', 'ipv6');
internalNetworks.addAddress('::1', 'ipv6');
internalNetworks.addSubnet('fc00::', 7, 'ipv6');
internalNetworks.addSubnet('fe80::', 10, 'ipv6');

/** A host that is an internal IP literal or a local name. Names that resolve inside are not caught here. */
function namesInternalHost(url: URL): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || host.endsWith('.local')) return true;
  const family = isIP(host);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host)?.[1];
  if (mapped) return internalNetworks.check(mapped, 'ipv4');
  return internalNetworks.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/** What a person asks for (PUT /v1/me/notification-preferences). */
export interface PreferencesInput {
  emailEnabled: boolean;
  webhookUrl: string | null;
  optedOutKinds: readonly NotificationKind[];
}

export interface PreferenceViolation {
  field: string;
  message: string;
}

/**
 * The rules a preferences change must keep: only optional kinds can be opted out of; e-mail can be
 * switched off only with a webhook to carry what always goes; a webhook needs a deployment that
 * signs them, and in production https (a plain http URL would carry messages readable on the way)
 * to a host that is not one of our own network's.
 */
export function preferenceViolations(input: PreferencesInput, deployment: { production: boolean; webhooks: boolean }): PreferenceViolation[] {
  const violations: PreferenceViolation[] = [];
  input.optedOutKinds.forEach((kind, index) => {
    if (notificationClasses[kind] !== 'optional') {
      violations.push({ field: `optedOut.${index}`, message: `${kind} messages always go; only ${optionalKinds.join(', ')} can be turned off` });
    }
  });
  if (input.webhookUrl !== null) {
    if (!deployment.webhooks) violations.push({ field: 'channels.webhook.url', message: 'this deployment sends no webhooks' });
    else if (deployment.production && new URL(input.webhookUrl).protocol !== 'https:') {
      violations.push({ field: 'channels.webhook.url', message: 'an https URL (production)' });
    } else if (deployment.production && namesInternalHost(new URL(input.webhookUrl))) {
      violations.push({ field: 'channels.webhook.url', message: 'a public address (production)' });
    }
  }
  if (!input.emailEnabled && input.webhookUrl === null) {
    violations.push({ field: 'channels.email.enabled', message: 'e-mail can be switched off only with a webhook: confirmations, receipts and cancellations always go' });
  }
  return violations;
}
