import { describe, expect, it } from '@jest/globals';
import { notificationKinds } from '../../src/events/event-data.js';
import { defaultTemplates, supportedLocales } from '../../src/notifications/default-templates.js';
import { renderNotification } from '../../src/notifications/render.js';

const context = {
  timezone: 'Europe/Oslo',
  event: { title: 'Lego <build> day', startsAt: new Date('2027-03-10T09:00:00Z'), venue: 'Deichman Bjørvika' },
  tickets: [{ firstName: 'Ada', code: 'TK-1' }],
  refund: { amountMinor: 12_500, currency: 'NOK' },
  reason: 'The venue flooded.',
};

describe('notification texts', () => {
  it.each(notificationKinds.flatMap((kind) => supportedLocales.map((locale) => [kind, locale] as const)))(
    '%s in %s renders without leftovers',
    (kind, locale) => {
      const message = renderNotification({ kind, locale, context });
      expect(message.locale).toBe(locale);
      expect(message.subject.length).toBeGreaterThan(0);
      expect(`${message.subject}${message.text}${message.html}`).not.toMatch(/\{\{|\}\}/);
    },
  );

  it('covers every kind in every supported locale', () => {
    for (const kind of notificationKinds) expect(Object.keys(defaultTemplates[kind]).sort()).toEqual([...supportedLocales].sort());
  });

  it("shows dates in the event's time zone and the reader's language", () => {
    const english = renderNotification({ kind: 'reminder', locale: 'en', context });
    expect(english.text).toContain('Wednesday, March 10, 2027 at 10:00');
    const norwegian = renderNotification({ kind: 'reminder', locale: 'nb-NO', context });
    expect(norwegian.locale).toBe('nb');
    expect(norwegian.text).toMatch(/onsdag 10\. mars 2027/);
  });

  it('formats money in minor units', () => {
    expect(renderNotification({ kind: 'cancellation-receipt', locale: 'en', context }).text).toMatch(/NOK\s125\.00/); // Intl puts a no-break space there
  });

  it('falls back to English for a language we have no texts in', () => {
    expect(renderNotification({ kind: 'reminder', locale: 'ja', context }).locale).toBe('en');
  });

  it("uses the event's own text where it has one", () => {
    const message = renderNotification({
      kind: 'confirmation',
      locale: 'nb',
      context,
      overrides: { confirmation: { nb: { subject: 'Velkommen, {{tickets.0.firstName}}!' } } },
    });
    expect(message.subject).toBe('Velkommen, Ada!');
    expect(message.text).toContain('billett TK-1'); // the body stays the default
  });

  it('escapes values in HTML, not in plain text', () => {
    const message = renderNotification({ kind: 'reminder', locale: 'en', context });
    expect(message.html).toContain('Lego &lt;build&gt; day');
    expect(message.html).not.toContain('<build>');
    expect(message.text).toContain('Lego <build> day');
  });
});
