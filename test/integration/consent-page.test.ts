import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ConsentRecord } from '../../src/consents/consent-record.entity.js';
import { createConsentToken } from '../../src/consents/consent-token.js';
import { consentTextVersion } from '../../src/consents/page.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { child, newUser, signUp, signupRow, subjects, waitForMail, waitForStatus, type TestUser } from '../support/signup-steps.js';
import { insertEvent, startTestStack, type TestStack } from '../support/stack.js';

/**
 * The guardian's consent page as a guardian uses it: the link read from the mail sink, opened in
 * the system's Chromium with JavaScript off (the page must work without it), answered by clicking.
 */
const chromiumPath = '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  console.warn(`consent-page.test.ts: SKIPPED, no browser at ${chromiumPath} (apt-get install chromium to run it)`);
}
const describeWithBrowser = haveChromium ? describe : describe.skip;
const artifacts = join(process.cwd(), 'test-artifacts');

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  [stack, browser] = await Promise.all([
    startTestStack({ worker: true }),
    haveChromium
      ? chromium.launch({
          executablePath: chromiumPath,
          headless: true,
          args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
        })
      : (undefined as unknown as Browser),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function bornYearsAgo(years: number): string {
  const day = new Date();
  day.setUTCFullYear(day.getUTCFullYear() - years, day.getUTCMonth(), 1);
  return day.toISOString().slice(0, 10);
}

const minor = () => newUser(stack.api, { birthdate: bornYearsAgo(12), guardian: true, name: 'page-minor' });

/** The link in the guardian's mail, pointed at the test API (the mail names PUBLIC_BASE_URL). */
async function mailedLink(user: TestUser, subject = subjects.consentRequest): Promise<string> {
  const [mail] = await waitForMail(user.guardianEmail ?? '', subject);
  const found = /https?:\/\/\S+\/consent\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(mail?.text ?? '')?.[0];
  if (!found) throw new Error(`no consent page link in: ${mail?.text}`);
  const link = new URL(found);
  expect(link.origin).toBe(new URL(stack.api.config.publicBaseUrl).origin);
  return `${stack.api.baseUrl}${link.pathname}`;
}

async function newPage(locale = 'en-GB'): Promise<Page> {
  const context = await browser.newContext({ javaScriptEnabled: false, locale, viewport: { width: 900, height: 1000 } });
  return context.newPage();
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(artifacts, `consent-page-${name}.png`), fullPage: true });

async function consentEvent(title: string, ticketTypes?: { code: string; amountMinor: number }[]) {
  const event = await insertEvent(stack.orm, { capacity: 3, guardianConsentBelowAge: 16, title, ...(ticketTypes ? { ticketTypes } : {}) });
  await stack.orm.em.fork().nativeUpdate(LiveEvent, { id: event.id }, {
    venue: { name: 'Deichman Bjørvika', address: { line1: 'Anne-Cath. Vestlys plass 1', city: 'Oslo', country: 'NO' } },
  });
  return event;
}

describeWithBrowser('the guardian consent page (Chromium, no JavaScript)', () => {
  it('shows what is asked; approving confirms the signup, and the link then shows it was used', async () => {
    const event = await consentEvent('Coding club');
    const user = await minor();
    const signupId = await signUp(stack.api, user, event.id, { attendees: [child('Kim', 12)] });
    await waitForStatus(stack.api, user, signupId, 'awaiting_consent');
    const link = await mailedLink(user);

    const page = await newPage();
    try {
      const opened = await page.goto(link);
      expect(opened?.status()).toBe(200);
      expect(opened?.headers()['referrer-policy']).toBe('no-referrer');
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('A signup that needs your consent');
      const details = (await page.locator('dl').textContent()) ?? '';
      expect(details).toContain('Coding club');
      expect(details).toContain('Kim, 12 years');
      expect(details).toContain('Deichman Bjørvika');
      expect(details).toContain('Free');
      expect(details).toContain('Eventbook');
      await expect(page.getByRole('heading', { name: 'Your privacy' }).isVisible()).resolves.toBe(true);
      await shot(page, 'question');

      await page.getByLabel("I am this child's parent or guardian").check();
      await page.getByRole('button', { name: 'Approve the signup' }).click();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Thank you: the signup is approved');
      await shot(page, 'approved');
      await waitForStatus(stack.api, user, signupId, 'confirmed');
      expect(await signupRow(stack.orm, signupId)).toMatchObject({ status: 'confirmed', guardianDecision: 'approved' });
      const record = await stack.orm.em.fork().findOneOrFail(ConsentRecord, { signupId });
      expect(record).toMatchObject({ decision: 'approved', answeredVia: 'page', textVersion: consentTextVersion, guardianEmail: user.guardianEmail });
      expect(record.userAgent).toMatch(/Chrome/);

      const again = await page.goto(link);
      expect(again?.status()).toBe(200);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link has been used');
      await expect(page.locator('main p').textContent()).resolves.toContain('already approved');
      await expect(page.locator('form').count()).resolves.toBe(0);
      await shot(page, 'used');
    } finally {
      await page.context().close();
    }
  }, 60_000);

  it('declining in Norwegian rejects the signup, and shows the price', async () => {
    const event = await consentEvent('Kodeklubb', [{ code: 'standard', amountMinor: 15_000 }]);
    const user = await minor();
    const signupId = await signUp(stack.api, user, event.id, { attendees: [child('Kim', 12)], locale: 'nb' });
    const link = await mailedLink(user, /vil være med på/);

    const page = await newPage('nb-NO');
    try {
      await page.goto(link);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('nb');
      const details = (await page.locator('dl').textContent()) ?? '';
      expect(details).toMatch(/150,00/);
      expect(details).toContain('Kim, 12 år');
      await page.getByLabel('Jeg er barnets forelder eller foresatte').check();
      await page.getByRole('button', { name: 'Avslå' }).click();
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Påmeldingen er avslått');
      await shot(page, 'declined-nb');
      const rejected = await waitForStatus(stack.api, user, signupId, 'rejected');
      expect(rejected.rejectionReason).toBe('guardian_declined');
    } finally {
      await page.context().close();
    }
  }, 60_000);

  it('an expired link and a broken link each show their own page', async () => {
    const event = await consentEvent('Robot camp');
    const user = await minor();
    const signupId = await signUp(stack.api, user, event.id, { attendees: [child('Kim', 12)] });
    await waitForStatus(stack.api, user, signupId, 'awaiting_consent');
    const expired = createConsentToken({ signupId, expiresAt: new Date(Date.now() - 1_000) }, stack.api.config.signup.consentTokenSecret);

    const page = await newPage();
    try {
      const gone = await page.goto(`${stack.api.baseUrl}/consent/${expired}`);
      expect(gone?.status()).toBe(410);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link has expired');
      await shot(page, 'expired');

      const broken = await page.goto(`${stack.api.baseUrl}/consent/${expired.slice(0, -3)}abc`);
      expect(broken?.status()).toBe(404);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('This link is not valid');
      await shot(page, 'invalid');
      expect((await signupRow(stack.orm, signupId)).status).toBe('awaiting_consent');
    } finally {
      await page.context().close();
    }
  }, 60_000);
});

describe('the consent page form (CSRF)', () => {
  it('records nothing without the form token of a page we rendered, or from another site', async () => {
    const event = await consentEvent('Chess club');
    const user = await minor();
    const signupId = await signUp(stack.api, user, event.id, { attendees: [child('Kim', 12)] });
    const link = await mailedLink(user);
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields) });

    const forged = await post({ decision: 'approved', guardian: 'yes', formToken: `${Math.floor(Date.now() / 1000)}.forged` });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('Please answer again');

    const html = await (await fetch(link)).text();
    const formToken = /name="formToken" value="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(formToken).not.toBe('');
    const crossSite = await post({ decision: 'approved', guardian: 'yes', formToken }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const unticked = await post({ decision: 'approved', formToken });
    expect(unticked.status).toBe(400);
    expect(await unticked.text()).toContain('Please confirm that you are');
    expect(await signupRow(stack.orm, signupId)).toMatchObject({ status: 'awaiting_consent', guardianDecision: null });

    const answered = await post({ decision: 'denied', guardian: 'yes', formToken });
    expect(answered.status).toBe(200);
    const twice = await post({ decision: 'approved', guardian: 'yes', formToken });
    expect(twice.status).toBe(409);
    await waitForStatus(stack.api, user, signupId, 'rejected');
  }, 60_000);
});
