import { describe, expect, it } from '@jest/globals';
import { createFormToken, FORM_TOKEN_SECONDS, verifyFormToken } from '../../src/consents/form-token.js';
import { acceptedLanguages, consentTextVersion, pickPageLocale, renderConsentForm } from '../../src/consents/page.js';

const secret = 'a-test-secret-that-is-long-enough-to-sign';
const at = new Date('2026-12-01T10:00:00Z');

describe('the consent page form token', () => {
  it.each([
    ['the page it was made for, just now', 'link-a', 0, true],
    ['the page it was made for, 59 minutes on', 'link-a', FORM_TOKEN_SECONDS - 60, true],
    ['the page it was made for, too long after', 'link-a', FORM_TOKEN_SECONDS + 1, false],
    ['another link', 'link-b', 0, false],
  ])('%s: %s', (_what, link, laterSeconds, valid) => {
    const token = createFormToken('link-a', secret, at);
    expect(verifyFormToken(token, link, secret, new Date(at.getTime() + laterSeconds * 1000))).toBe(valid);
  });

  it.each([undefined, '', 'x', '123', `${at.getTime() / 1000}.forged`, `${at.getTime() / 1000}.a.b`])('refuses %p', (token) => {
    expect(verifyFormToken(token, 'link-a', secret, at)).toBe(false);
  });
});

describe('the page language', () => {
  it.each([
    [['nb'], 'nb'],
    [['nb-NO'], 'nb'],
    [['no'], 'nb'],
    [[undefined, 'en-GB'], 'en'],
    [['de', 'fr'], 'en'],
    [[null, 'sv', 'nn-NO'], 'nb'],
  ] as const)('%p -> %s', (candidates, locale) => {
    expect(pickPageLocale(candidates)).toBe(locale);
  });

  it('reads Accept-Language best first', () => {
    expect(acceptedLanguages('en;q=0.5, nb-NO, de;q=0')).toEqual(['nb-NO', 'en']);
    expect(acceptedLanguages(undefined)).toEqual([]);
  });
});

describe('the consent form', () => {
  const facts = {
    eventTitle: '<script>alert(1)</script> club',
    eventStartsAt: '2027-01-10T15:00:00Z',
    timezone: 'Europe/Oslo',
    venue: null,
    children: [{ firstName: 'Kim "K"', age: 12 }],
    price: { amountMinor: 15_000, currency: 'NOK' },
    organizer: 'Eventbook',
    expiresAt: '2027-01-03T15:00:00Z',
  };

  it('escapes every value and labels its controls', () => {
    const html = renderConsentForm({ locale: 'en', facts, formToken: '1.abc' });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; club');
    expect(html).toContain('Kim &quot;K&quot;, 12 years');
    expect(html).toContain('<html lang="en">');
    expect(html).toContain('<label for="guardian"><input type="checkbox" id="guardian"');
    expect(html).toMatch(/NOK\s?150\.00|150\.00/);
  });

  it('is in Norwegian when asked', () => {
    const html = renderConsentForm({ locale: 'nb', facts, formToken: '1.abc' });
    expect(html).toContain('<html lang="nb">');
    expect(html).toContain('Godkjenn påmeldingen');
  });

  it('has a text version that names the texts', () => {
    expect(consentTextVersion).toMatch(/^page-[0-9a-f]{12}$/);
  });
});
