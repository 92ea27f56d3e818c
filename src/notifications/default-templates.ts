import type { NotificationKind } from '../events/event-data.js';

/**
 * The default text of every notification, per locale, as Handlebars templates. The HTML part is
 * made from the text (see render.ts), so a message is written once. Events may override subject
 * and body per kind and locale (the catalog's notificationTexts).
 */
export interface MessageTemplate {
  subject: string;
  body: string;
}

export const supportedLocales = ['en', 'nb'] as const;
export const fallbackLocale = 'en';

export const defaultTemplates: Record<NotificationKind, Record<(typeof supportedLocales)[number], MessageTemplate>> = {
  announcement: {
    en: { subject: 'New: {{event.title}}', body: '{{event.title}} is coming on {{date event.startsAt}}.\n\nSignups open {{date event.signupOpensAt}}.' },
    nb: { subject: 'Nytt: {{event.title}}', body: '{{event.title}} kommer {{date event.startsAt}}.\n\nPåmeldingen åpner {{date event.signupOpensAt}}.' },
  },
  'signup-opened': {
    en: { subject: 'Signups are open: {{event.title}}', body: 'You asked us to tell you: signups for {{event.title}} ({{date event.startsAt}}) are open now.' },
    nb: { subject: 'Påmeldingen er åpen: {{event.title}}', body: 'Du ba oss si fra: påmeldingen til {{event.title}} ({{date event.startsAt}}) er åpen nå.' },
  },
  'signup-received': {
    en: { subject: 'We got your signup for {{event.title}}', body: 'Thank you! We have your signup for {{event.title}} on {{date event.startsAt}} and will confirm it shortly.' },
    nb: { subject: 'Vi har mottatt påmeldingen til {{event.title}}', body: 'Takk! Vi har mottatt påmeldingen til {{event.title}} {{date event.startsAt}} og bekrefter den snart.' },
  },
  'consent-request': {
    en: { subject: '{{child.firstName}} wants to join {{event.title}}', body: '{{child.firstName}} has asked to sign up for {{event.title}} on {{date event.startsAt}}.\n\nApprove or decline here: {{consentUrl}}\n\nThe request expires {{date expiresAt}}.' },
    nb: { subject: '{{child.firstName}} vil være med på {{event.title}}', body: '{{child.firstName}} har bedt om å bli med på {{event.title}} {{date event.startsAt}}.\n\nGodkjenn eller avslå her: {{consentUrl}}\n\nForespørselen utløper {{date expiresAt}}.' },
  },
  'consent-receipt': {
    en: { subject: 'Your answer: {{child.firstName}} and {{event.title}}', body: 'This is the receipt of your answer: you {{#if approved}}approved{{else}}declined{{/if}} the signup of {{child.firstName}} for {{event.title}} on {{date event.startsAt}}.\n\nAnswered {{date answeredAt}}. Keep this e-mail for your records.' },
    nb: { subject: 'Svaret ditt: {{child.firstName}} og {{event.title}}', body: 'Dette er kvitteringen for svaret ditt: du {{#if approved}}godkjente{{else}}avslo{{/if}} påmeldingen av {{child.firstName}} til {{event.title}} {{date event.startsAt}}.\n\nBesvart {{date answeredAt}}. Ta vare på denne e-posten.' },
  },
  'payment-receipt': {
    en: { subject: 'Receipt: {{event.title}}', body: 'We received {{money amount}} for {{event.title}}. Payment reference: {{paymentReference}}.' },
    nb: { subject: 'Kvittering: {{event.title}}', body: 'Vi har mottatt {{money amount}} for {{event.title}}. Betalingsreferanse: {{paymentReference}}.' },
  },
  confirmation: {
    en: { subject: "You're in: {{event.title}}", body: 'See you at {{event.title}} on {{date event.startsAt}}{{#if event.venue}} at {{event.venue}}{{/if}}.\n\n{{#each tickets}}{{this.firstName}}: ticket {{this.code}}\n{{/each}}' },
    nb: { subject: 'Du er med: {{event.title}}', body: 'Vi ses på {{event.title}} {{date event.startsAt}}{{#if event.venue}} på {{event.venue}}{{/if}}.\n\n{{#each tickets}}{{this.firstName}}: billett {{this.code}}\n{{/each}}' },
  },
  'waitlist-offer': {
    en: { subject: 'A place opened up: {{event.title}}', body: 'Good news: there is room for you at {{event.title}} on {{date event.startsAt}}. The place is held for you until {{date expiresAt}}.' },
    nb: { subject: 'Det ble ledig plass: {{event.title}}', body: 'Gode nyheter: det er plass til deg på {{event.title}} {{date event.startsAt}}. Plassen holdes av til {{date expiresAt}}.' },
  },
  rejection: {
    en: { subject: 'Your signup for {{event.title}}', body: 'Sorry, we could not accept your signup for {{event.title}}: {{reason}}.' },
    nb: { subject: 'Påmeldingen til {{event.title}}', body: 'Beklager, vi kunne ikke ta imot påmeldingen til {{event.title}}: {{reason}}.' },
  },
  'cancellation-receipt': {
    en: { subject: 'Cancelled: {{event.title}}', body: 'Your signup for {{event.title}} is cancelled.{{#if refund}} We refund {{money refund}}.{{/if}}' },
    nb: { subject: 'Avmeldt: {{event.title}}', body: 'Påmeldingen din til {{event.title}} er avmeldt.{{#if refund}} Vi refunderer {{money refund}}.{{/if}}' },
  },
  'payment-refunded': {
    en: { subject: 'Refund: {{event.title}}', body: 'We have refunded {{money refund}} for {{event.title}}: {{reason}}. You have no ticket for it.\n\nPayment reference: {{paymentReference}}.' },
    nb: { subject: 'Refusjon: {{event.title}}', body: 'Vi har refundert {{money refund}} for {{event.title}}: {{reason}}. Du har ikke billett for den.\n\nBetalingsreferanse: {{paymentReference}}.' },
  },
  'event-changed': {
    en: { subject: 'Changed: {{event.title}}', body: '{{event.title}} has changed. It now starts {{date event.startsAt}}{{#if event.venue}} at {{event.venue}}{{/if}}.' },
    nb: { subject: 'Endret: {{event.title}}', body: '{{event.title}} er endret. Det starter nå {{date event.startsAt}}{{#if event.venue}} på {{event.venue}}{{/if}}.' },
  },
  'event-cancelled': {
    en: { subject: 'Cancelled: {{event.title}}', body: 'We are sorry: {{event.title}} on {{date event.startsAt}} is cancelled. {{reason}}{{#if refund}}\n\nWe refund {{money refund}}.{{/if}}\n\n{{event.url}}' },
    nb: { subject: 'Avlyst: {{event.title}}', body: 'Beklager: {{event.title}} {{date event.startsAt}} er avlyst. {{reason}}{{#if refund}}\n\nVi refunderer {{money refund}}.{{/if}}\n\n{{event.url}}' },
  },
  reminder: {
    en: { subject: 'Soon: {{event.title}}', body: 'A reminder: {{event.title}} starts {{date event.startsAt}}{{#if event.venue}} at {{event.venue}}{{/if}}.' },
    nb: { subject: 'Snart: {{event.title}}', body: 'En påminnelse: {{event.title}} starter {{date event.startsAt}}{{#if event.venue}} på {{event.venue}}{{/if}}.' },
  },
  'thank-you': {
    en: { subject: 'Thank you for coming to {{event.title}}', body: 'Thank you for joining {{event.title}}. We hope to see you again!' },
    nb: { subject: 'Takk for at du kom på {{event.title}}', body: 'Takk for at du var med på {{event.title}}. Vi håper å se deg igjen!' },
  },
};
