import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from '../support/http.js';
import {
  child,
  mailsMatching,
  newUser,
  postSignup,
  signUp,
  signupRow,
  subjects,
  waitForMail,
  waitForStatus,
  type TestUser,
} from '../support/signup-steps.js';
import { countersAndRows, insertEvent, startTestStack, type RunningApi, type TestStack } from '../support/stack.js';

// Guardian consent for a minor's signup: the link mailed to the guardian, used once.
let stack: TestStack;
let shortStack: TestStack;
let api: RunningApi;

beforeAll(async () => {
  [stack, shortStack] = await Promise.all([
    startTestStack({ worker: true }),
    // Guardians who never answer: the request runs out after 2 s.
    startTestStack({ worker: true, env: { SIGNUP_CONSENT_SECONDS: '2' } }),
  ]);
  api = stack.api;
});

afterAll(async () => {
  await Promise.all([stack.stop(), shortStack.stop()]);
});

/** A birth date that makes the requester `years` old today. */
function bornYearsAgo(years: number): string {
  const day = new Date();
  day.setUTCFullYear(day.getUTCFullYear() - years, day.getUTCMonth(), 1);
  return day.toISOString().slice(0, 10);
}

const minor = (on: RunningApi) => newUser(on, { birthdate: bornYearsAgo(12), guardian: true, name: 'minor' });

async function consentTokenFrom(user: TestUser): Promise<string> {
  const [mail] = await waitForMail(user.guardianEmail ?? '', subjects.consentRequest);
  expect(mail?.subject).toContain('Kim');
  const match = /\/consent\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail?.text ?? '');
  if (!match?.[1]) throw new Error(`no consent link in: ${mail?.text}`);
  // The mail links the guardian's page; apps answer the same token at /v1/consents/{token}.
  expect(mail?.text).toContain(`${api.config.publicBaseUrl}/consent/${match[1]}`);
  return match[1];
}

const consentEvent = (on: TestStack) => insertEvent(on.orm, { capacity: 3, guardianConsentBelowAge: 16, title: 'Coding club' });

describe('guardian consent', () => {
  it('holds no seat while waiting; approval lets the signup through, and the link works once', async () => {
    const event = await consentEvent(stack);
    const user = await minor(api);
    const signupId = await signUp(api, user, event.id, { attendees: [child('Kim', 12)] });
    await waitForStatus(api, user, signupId, 'awaiting_consent');
    expect(await countersAndRows(stack.orm, event.id)).toMatchObject({ held: 0, confirmed: 0 });

    const token = await consentTokenFrom(user);
    const described = await request(api.baseUrl, 'GET', `/v1/consents/${token}`);
    expect(described).toMatchObject({ status: 200, body: { eventTitle: 'Coding club', attendees: ['Kim'], decision: null } });

    const approved = await request(api.baseUrl, 'POST', `/v1/consents/${token}`, { body: { decision: 'approved' } });
    expect(approved).toMatchObject({ status: 200, body: { decision: 'approved' } });
    await waitForStatus(api, user, signupId, 'confirmed');
    expect(await signupRow(stack.orm, signupId)).toMatchObject({ status: 'confirmed', guardianDecision: 'approved' });
    const counters = await countersAndRows(stack.orm, event.id);
    expect(counters).toMatchObject({ held: 0, confirmed: 1, confirmedRows: 1, heldRows: 0 });
    await waitForMail(user.email, subjects.confirmation);

    const again = await request(api.baseUrl, 'POST', `/v1/consents/${token}`, { body: { decision: 'denied' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: '/problems/consent-already-given', status: 409 });
    expect((await signupRow(stack.orm, signupId)).guardianDecision).toBe('approved');
  });

  it('keeps a consent record for admins, and mails the guardian a receipt', async () => {
    const event = await consentEvent(stack);
    const user = await minor(api);
    const signupId = await signUp(api, user, event.id, { attendees: [child('Kim', 12)] });
    const token = await consentTokenFrom(user);
    const answered = await request(api.baseUrl, 'POST', `/v1/consents/${token}`, {
      body: { decision: 'approved', textVersion: 'app-consent-v3' },
      headers: { 'user-agent': 'GuardianApp/1.0' },
    });
    expect(answered.status).toBe(200);
    await waitForStatus(api, user, signupId, 'confirmed');

    const admin = await api.token(`admin-${signupId}`, ['admin']);
    const record = await request(api.baseUrl, 'GET', `/v1/admin/signups/${signupId}/consent`, { token: admin });
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      signupId,
      eventId: event.id,
      guardianEmail: user.guardianEmail,
      decision: 'approved',
      answeredVia: 'api',
      textVersion: 'app-consent-v3',
      userAgent: 'GuardianApp/1.0',
      clientNetwork: '127.0.0.0/24',
      anonymizedAt: null,
    });
    const sentAt = Date.parse(record.body.linkSentAt as string);
    expect(sentAt).toBeLessThanOrEqual(Date.parse(record.body.answeredAt as string));
    expect(Date.parse(record.body.linkExpiresAt as string)).toBeGreaterThan(sentAt);
    // Organizers never see the guardian's address.
    const organizer = await api.token(`organizer-${signupId}`, ['organizer'], { markets: ['NO'] });
    expect((await request(api.baseUrl, 'GET', `/v1/admin/signups/${signupId}/consent`, { token: organizer })).status).toBe(403);

    const [receipt] = await waitForMail(user.guardianEmail ?? '', /^Your answer:/);
    expect(receipt?.text).toContain('you approved the signup of Kim for Coding club');
  });

  it('asks the guardian when the token says nothing of the age, and refuses when no guardian is known', async () => {
    const event = await consentEvent(stack);
    const unknownAge = await newUser(api, { guardian: true, name: 'no-birthdate' });
    const signupId = await signUp(api, unknownAge, event.id, { attendees: [child('Kim', 12)] });
    await waitForStatus(api, unknownAge, signupId, 'awaiting_consent');
    await waitForMail(unknownAge.guardianEmail ?? '', subjects.consentRequest);

    const nobodyToAsk = await newUser(api, { name: 'no-birthdate-no-guardian' });
    const refused = await postSignup(api, nobodyToAsk, event.id, { attendees: [child('Kim', 12)] });
    expect(refused.status).toBe(422);
    expect(JSON.stringify(refused.body)).toContain('your age is not known');
  });

  it('rejects the signup with the reason when the guardian declines', async () => {
    const event = await consentEvent(stack);
    const user = await minor(api);
    const signupId = await signUp(api, user, event.id, { attendees: [child('Kim', 12)] });
    const token = await consentTokenFrom(user);

    const denied = await request(api.baseUrl, 'POST', `/v1/consents/${token}`, { body: { decision: 'denied' } });
    expect(denied).toMatchObject({ status: 200, body: { decision: 'denied' } });
    const rejected = await waitForStatus(api, user, signupId, 'rejected');
    expect(rejected.rejectionReason).toBe('guardian_declined');
    expect(await countersAndRows(stack.orm, event.id)).toMatchObject({ held: 0, confirmed: 0, heldRows: 0, confirmedRows: 0 });
    const [told] = await waitForMail(user.email, subjects.rejection);
    expect(told?.text).toContain('a guardian declined');

    const again = await request(api.baseUrl, 'POST', `/v1/consents/${token}`, { body: { decision: 'approved' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ type: '/problems/consent-already-given' });
  });

  it('refuses a tampered link', async () => {
    const event = await consentEvent(stack);
    const user = await minor(api);
    await signUp(api, user, event.id, { attendees: [child('Kim', 12)] });
    const token = await consentTokenFrom(user);
    const tampered = `${token.slice(0, -2)}xx`;
    const refused = await request(api.baseUrl, 'POST', `/v1/consents/${tampered}`, { body: { decision: 'approved' } });
    expect(refused.status).toBe(404);
    expect(refused.body).toMatchObject({ type: '/problems/consent-link-invalid' });
  });

  it('refuses a minor whose profile names no guardian', async () => {
    const event = await consentEvent(stack);
    const user = await newUser(api, { birthdate: bornYearsAgo(12) });
    const refused = await postSignup(api, user, event.id, { attendees: [child('Kim', 12)] });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ type: '/problems/signup-not-eligible' });
  });

  it('rejects the signup when the guardian does not answer in time, and the link then answers 409 or 410', async () => {
    const short = shortStack.api;
    const event = await consentEvent(shortStack);
    const user = await minor(short);
    const signupId = await signUp(short, user, event.id, { attendees: [child('Kim', 12)] });
    const [mail] = await waitForMail(user.guardianEmail ?? '', subjects.consentRequest);
    const token = /\/consent\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1] ?? '';

    const rejected = await waitForStatus(short, user, signupId, 'rejected', 20_000);
    expect(rejected.rejectionReason).toBe('guardian_did_not_answer');
    expect(await countersAndRows(shortStack.orm, event.id)).toMatchObject({ held: 0, confirmed: 0 });
    const [told] = await waitForMail(user.email, subjects.rejection);
    expect(told?.text).toContain('a guardian did not answer in time');

    const tooLate = await request(short.baseUrl, 'POST', `/v1/consents/${token}`, { body: { decision: 'approved' } });
    expect([409, 410]).toContain(tooLate.status);
    expect((await signupRow(shortStack.orm, signupId)).status).toBe('rejected');
    expect(await mailsMatching(user.email, subjects.confirmation)).toHaveLength(0);
  });
});
