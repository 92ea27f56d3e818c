import { describe, expect, it } from '@jest/globals';
import { deliveryPlan, optionalKinds, preferenceViolations, type RecipientChannels } from '../../src/contacts/preferences.js';
import type { NotificationKind } from '../../src/events/event-data.js';

const everyone: RecipientChannels = { hasEmail: true, hasWebhook: false, emailEnabled: true, optedOutKinds: [], marketingConsent: false };

describe('which channels a message goes out on', () => {
  it.each<[string, NotificationKind, Partial<RecipientChannels>, ReturnType<typeof deliveryPlan>]>([
    ['a confirmation by e-mail', 'confirmation', {}, { send: ['email'] }],
    ['a confirmation on both channels', 'confirmation', { hasWebhook: true }, { send: ['email', 'webhook'] }],
    ['a confirmation with e-mail off: the webhook', 'confirmation', { hasWebhook: true, emailEnabled: false }, { send: ['webhook'] }],
    ['a confirmation with e-mail off and no webhook: e-mail all the same', 'confirmation', { emailEnabled: false }, { send: ['email'] }],
    ['a refund although every optional kind is off', 'payment-refunded', { optedOutKinds: optionalKinds }, { send: ['email'] }],
    ['a cancellation receipt', 'cancellation-receipt', { optedOutKinds: optionalKinds }, { send: ['email'] }],
    ['a reminder, not turned off', 'reminder', { optedOutKinds: ['thank-you'] }, { send: ['email'] }],
    ['a reminder turned off', 'reminder', { optedOutKinds: ['reminder'], hasWebhook: true }, { withheld: 'opted-out' }],
    ['a reminder with e-mail off and no webhook', 'reminder', { emailEnabled: false }, { withheld: 'no-address' }],
    ['a thank-you with e-mail off: the webhook', 'thank-you', { emailEnabled: false, hasWebhook: true }, { send: ['webhook'] }],
    ['an announcement without marketing consent', 'announcement', { hasWebhook: true }, { withheld: 'no-marketing-consent' }],
    ['an announcement with marketing consent', 'announcement', { marketingConsent: true }, { send: ['email'] }],
    ['an announcement with consent and e-mail off', 'announcement', { marketingConsent: true, emailEnabled: false, hasWebhook: true }, { send: ['webhook'] }],
    ['anything to nobody', 'confirmation', { hasEmail: false }, { withheld: 'no-address' }],
  ])('%s', (_name, kind, recipient, plan) => {
    expect(deliveryPlan(kind, { ...everyone, ...recipient })).toEqual(plan);
  });

  it('lets only reminders, thank-yous and signups-opening mails be turned off', () => {
    expect([...optionalKinds].sort()).toEqual(['reminder', 'signup-opened', 'thank-you']);
  });
});

describe('what preferences may be saved', () => {
  const fine = { emailEnabled: true, webhookUrl: null, optedOutKinds: [] };
  const development = { production: false, webhooks: true };
  const production = { production: true, webhooks: true };
  it.each<[string, Partial<Parameters<typeof preferenceViolations>[0]>, Parameters<typeof preferenceViolations>[1], string[]]>([
    ['the defaults', {}, production, []],
    ['optional kinds turned off', { optedOutKinds: ['reminder', 'thank-you', 'signup-opened'] }, production, []],
    ['a confirmation turned off', { optedOutKinds: ['reminder', 'confirmation'] }, production, ['optedOut.1']],
    ['consent messages turned off', { optedOutKinds: ['consent-request', 'consent-receipt'] }, production, ['optedOut.0', 'optedOut.1']],
    ['e-mail off without a webhook', { emailEnabled: false }, production, ['channels.email.enabled']],
    ['e-mail off with a webhook', { emailEnabled: false, webhookUrl: 'https://push.example.com/x' }, production, []],
    ['an http webhook in production', { webhookUrl: 'http://push.example.com/x' }, production, ['channels.webhook.url']],
    ['an http webhook in development', { webhookUrl: 'http://127.0.0.1:9/x' }, development, []],
    ['a loopback webhook in production', { webhookUrl: 'https://127.0.0.1/x' }, production, ['channels.webhook.url']],
    ['a cloud metadata webhook in production', { webhookUrl: 'https://169.254.169.254/latest' }, production, ['channels.webhook.url']],
    ['a private network webhook in production', { webhookUrl: 'https://10.1.2.3/x' }, production, ['channels.webhook.url']],
    ['an IPv6 loopback webhook in production', { webhookUrl: 'https://[::1]/x' }, production, ['channels.webhook.url']],
    ['a mapped IPv4 loopback in production', { webhookUrl: 'https://[::ffff:127.0.0.1]/x' }, production, ['channels.webhook.url']],
    ['localhost in production', { webhookUrl: 'https://localhost:8443/x' }, production, ['channels.webhook.url']],
    ['a public IP in production', { webhookUrl: 'https://93.184.216.34/x' }, production, []],
    ['a webhook where none are sent', { webhookUrl: 'https://push.example.com/x' }, { production: false, webhooks: false }, ['channels.webhook.url']],
  ])('%s', (_name, input, deployment, fields) => {
    expect(preferenceViolations({ ...fine, ...input }, deployment).map((violation) => violation.field)).toEqual(fields);
  });
});
