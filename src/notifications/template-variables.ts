import type { NotificationKind } from '../events/event-data.js';

/**
 * The variables each kind of notification is rendered with (activities/notifications.ts builds the
 * contexts): what an event's notificationTexts override may use. Kept here, free of Handlebars, so
 * the event input schema can list them in the API document.
 */

/** Every message is about an event. */
const eventVariables = ['event.title', 'event.startsAt', 'event.signupOpensAt', 'event.venue', 'event.url'] as const;

/** Messages about one signup (sendSignupNotification). */
const signupVariables = [
  ...eventVariables,
  'tickets',
  'child.firstName',
  'amount',
  'refund',
  'paymentReference',
  'reason',
  'expiresAt',
  'waitlisted',
] as const;

export const templateVariables: Record<NotificationKind, readonly string[]> = {
  announcement: eventVariables,
  'signup-opened': eventVariables,
  'signup-received': signupVariables,
  'consent-request': [...signupVariables, 'consentUrl'],
  'consent-receipt': [...signupVariables, 'approved', 'answeredAt'],
  'payment-receipt': signupVariables,
  'payment-refunded': signupVariables,
  confirmation: signupVariables,
  'waitlist-offer': signupVariables,
  rejection: signupVariables,
  'cancellation-receipt': signupVariables,
  'event-changed': signupVariables,
  'event-cancelled': signupVariables,
  reminder: signupVariables,
  'thank-you': signupVariables,
};

/** What `{{#each tickets}}` iterates over: inside it, `this.firstName` and `this.code`. */
export const listItemVariables: Record<string, readonly string[]> = { tickets: ['firstName', 'code'] };

/** The helpers the renderer registers besides Handlebars' own (`if`, `unless`, `each`). */
export const templateHelpers = ['date', 'money'] as const;

/** For the API document: the variables per kind, one line each. */
export function describeTemplateVariables(): string {
  return [
    'Handlebars templates per kind and locale (subject, body). Helpers: `{{date x}}`, `{{money x}}`, `{{#if x}}`, `{{#unless x}}`,',
    '`{{#each tickets}}{{this.firstName}} {{this.code}}{{/each}}`. An unknown variable is refused (422). Variables per kind:',
    ...Object.entries(templateVariables).map(([kind, names]) => `- ${kind}: ${names.join(', ')}`),
  ].join('\n');
}
