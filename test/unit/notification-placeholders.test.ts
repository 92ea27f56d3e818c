import { describe, expect, it } from '@jest/globals';
import { notificationKinds } from '../../src/events/event-data.js';
import { splitExclusions } from '../../src/events/public-catalog.js';
import { defaultTemplates } from '../../src/notifications/default-templates.js';
import { checkNotificationTexts, unknownVariables } from '../../src/notifications/placeholders.js';

describe('notification placeholders', () => {
  it('accept every default template (the variable table matches what the texts use)', () => {
    for (const kind of notificationKinds) {
      for (const [locale, template] of Object.entries(defaultTemplates[kind])) {
        expect({ kind, locale, subject: unknownVariables(template.subject, kind), body: unknownVariables(template.body, kind) }).toEqual({
          kind,
          locale,
          subject: { unknown: [] },
          body: { unknown: [] },
        });
      }
    }
  });

  it.each([
    ['{{eventTitle}}', 'confirmation', ['eventTitle']],
    ['{{event.title}} {{event.nope}}', 'confirmation', ['event.nope']],
    ['{{date event.startsAt}} {{money refund}}', 'cancellation-receipt', []],
    ['{{date when}}', 'reminder', ['when']],
    ['{{#each tickets}}{{this.firstName}} {{code}} {{@index}} {{this.secret}}{{/each}}', 'confirmation', ['this.secret']],
    ['{{#if event.venue}}at {{event.venue}}{{else}}{{venue}}{{/if}}', 'reminder', ['venue']],
    ['{{#with event}}{{title}}{{/with}}', 'reminder', ['#with', 'event', 'title']],
    ['{{consentUrl}}', 'consent-request', []],
    ['{{consentUrl}}', 'confirmation', ['consentUrl']],
    ['{{tickets}} {{child.firstName}}', 'announcement', ['tickets', 'child.firstName']],
    ['{{lookup event "title"}}', 'reminder', ['lookup', 'event']],
    ['{{> header}}', 'reminder', ['>partial']],
  ] as const)('%s in %s: unknown %j', (template, kind, unknown) => {
    expect(unknownVariables(template, kind)).toEqual({ unknown });
  });

  it('names the field and reports syntax errors', () => {
    expect(
      checkNotificationTexts({
        reminder: { en: { subject: 'Soon {{eventTitle}}', body: '{{#if x}' }, nb: { body: 'Snart {{event.title}}' } },
      }),
    ).toEqual([
      { field: 'notificationTexts.reminder.en.subject', message: expect.stringMatching(/^unknown variables: eventTitle \(reminder offers event\.title/) },
      { field: 'notificationTexts.reminder.en.body', message: expect.stringMatching(/^not a valid template/) },
    ]);
  });
});

describe('search exclusions', () => {
  it.each([
    ['dinosaurs -concert', 'dinosaurs', 'concert'],
    ['dinosaurs -concert -"rock show" or museum', 'dinosaurs or museum', 'concert or "rock show"'],
    ['t-shirt -', 't-shirt -', ''],
    ['-robot', '', 'robot'],
  ])('%s: find %j, exclude %j', (q, include, exclude) => {
    expect(splitExclusions(q)).toEqual({ include, exclude });
  });
});
