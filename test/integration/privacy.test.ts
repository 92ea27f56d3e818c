import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PersonalDataExport } from '../../src/privacy/export.js';
import { request } from '../support/http.js';
import {
  child,
  consentToAnnouncements,
  newUser,
  paymentIntentOf,
  signUp,
  subjects,
  waitForMail,
  waitForStatus,
  type TestUser,
} from '../support/signup-steps.js';
import { eventually, insertEvent, startTestStack, type TestStack } from '../support/stack.js';
import { ConsentRecord } from '../../src/consents/consent-record.entity.js';
import { UserContact } from '../../src/contacts/contact.entity.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { NeedsNoteRead } from '../../src/events/needs-note-read.entity.js';
import { Interest } from '../../src/interests/interest.entity.js';
import { NotificationLog } from '../../src/notifications/notification-log.entity.js';
import { ErasureRequest } from '../../src/privacy/erasure.entity.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { workflowIds } from '../../src/temporal/contract.js';

// The caller's own data over the real stack: export, erasure, and what the retention purge leaves.
let stack: TestStack;

beforeAll(async () => {
  // Personal data kept 2 s after an event ends, so the purge test sees its event through; the other
  // tests' events (insertEvent) have no lifecycle workflow.
  stack = await startTestStack({ worker: true, env: { DATA_RETENTION_SECONDS: '2' } });
});

afterAll(async () => {
  await stack.stop();
});

function bornYearsAgo(years: number): string {
  const day = new Date();
  day.setUTCFullYear(day.getUTCFullYear() - years, day.getUTCMonth(), 1);
  return day.toISOString().slice(0, 10);
}

interface Person {
  user: TestUser;
  firstName: string;
  consentSignupId: string;
  paidSignupId: string;
  paymentIntentId: string;
  consentEventId: string;
  paidEventId: string;
}

/**
 * A minor with something in every table: a signup approved by the guardian (consent record, needs
 * note), a paid signup still waiting for its payment (Stripe reference), a followed market, mails.
 */
async function personWithEverything(firstName: string): Promise<Person> {
  const api = stack.api;
  const user = await newUser(api, { birthdate: bornYearsAgo(12), guardian: true, name: `privacy-${firstName.toLowerCase()}` });
  const consentEvent = await insertEvent(stack.orm, { capacity: 5, guardianConsentBelowAge: 16, title: 'Drama club' });
  const paidEvent = await insertEvent(stack.orm, { capacity: 5, title: 'Music camp', ticketTypes: [{ code: 'standard', amountMinor: 25_000 }] });

  const consentSignupId = await signUp(api, user, consentEvent.id, {
    attendees: [{ ...child(firstName, 12), needsNote: `${firstName} is allergic to nuts` }],
  });
  const [mail] = await waitForMail(user.guardianEmail ?? '', subjects.consentRequest);
  const token = /\/consent\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1] ?? '';
  expect((await request(api.baseUrl, 'POST', `/v1/consents/${token}`, { body: { decision: 'approved' } })).status).toBe(200);
  await waitForStatus(api, user, consentSignupId, 'confirmed');

  const paidSignupId = await signUp(api, user, paidEvent.id, { attendees: [child(firstName, 12)] });
  await waitForStatus(api, user, paidSignupId, 'held');
  const paymentIntentId = await paymentIntentOf(stack.orm, paidSignupId);

  expect((await request(api.baseUrl, 'POST', '/v1/me/interests', { token: user.token, body: { kind: 'market', value: 'NO' } })).status).toBe(201);
  await consentToAnnouncements(api, user);
  await waitForMail(user.email, subjects.confirmation);
  return { user, firstName, consentSignupId, paidSignupId, paymentIntentId, consentEventId: consentEvent.id, paidEventId: paidEvent.id };
}

describe('GET /v1/me/data', () => {
  it('answers everything stored about the caller, and only that', async () => {
    const person = await personWithEverything('Solveig');
    const other = await newUser(stack.api, { name: 'privacy-other' });
    const exported = await request(stack.api.baseUrl, 'GET', '/v1/me/data', { token: person.user.token });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('cache-control')).toBe('no-store');
    const data = exported.body as unknown as PersonalDataExport;
    expect(data.userId).toBe(person.user.sub);
    expect(data.contact).toMatchObject({
      email: person.user.email,
      guardianEmail: person.user.guardianEmail,
      emailMarketingConsent: true,
      marketingConsentGivenAt: expect.any(String),
      emailEnabled: true,
    });
    expect(data.interests).toEqual([expect.objectContaining({ kind: 'market', value: 'NO' })]);
    const signups = data.signups;
    expect(signups.map((signup) => signup.id).sort()).toEqual([person.consentSignupId, person.paidSignupId].sort());
    expect(signups.find((signup) => signup.id === person.consentSignupId)?.attendees).toEqual([
      expect.objectContaining({ firstName: 'Solveig', age: 12, needsNote: 'Solveig is allergic to nuts' }),
    ]);
    expect(data.payments).toEqual([
      expect.objectContaining({ signupId: person.paidSignupId, stripePaymentIntentId: person.paymentIntentId, amountMinor: 25_000, currency: 'NOK' }),
    ]);
    expect(data.consentRecords).toEqual([
      expect.objectContaining({ signupId: person.consentSignupId, guardianEmail: person.user.guardianEmail, decision: 'approved', answeredVia: 'api' }),
    ]);
    const kinds = data.notifications.map((row) => row.kind);
    expect(kinds).toEqual(expect.arrayContaining(['consent-request', 'consent-receipt', 'confirmation', 'signup-received']));

    const nothing = await request(stack.api.baseUrl, 'GET', '/v1/me/data', { token: other.token });
    expect(nothing.body).toMatchObject({ userId: other.sub, contact: null, interests: [], signups: [], payments: [], consentRecords: [], notifications: [] });
    expect((await request(stack.api.baseUrl, 'GET', '/v1/me/data')).status).toBe(401);
  }, 90_000);
});

/**
 * Every text-like column of every table (information_schema), searched for each needle: where a
 * person's id, addresses or names still are. Identifiers come from the catalog; values are bound.
 */
async function whereFound(needles: string[]): Promise<string[]> {
  const connection = stack.orm.em.fork().getConnection();
  const columns = await connection.execute<{ table_name: string; column_name: string }[]>(
    `select c.table_name, c.column_name from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
        and (c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED'))
        and c.table_name <> 'mikro_orm_migrations'
      order by 1, 2`,
  );
  expect(columns.length).toBeGreaterThan(20);
  const found: string[] = [];
  for (const { table_name: table, column_name: column } of columns) {
    const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
    for (const needle of needles) {
      const [row] = await connection.execute<{ n: number }[]>(
        `select count(*)::int as n from ${quoted(table)} where position(lower(?) in lower(${quoted(column)}::text)) > 0`,
        [needle],
      );
      if ((row?.n ?? 0) > 0) found.push(`${table}.${column} has ${needle}`);
    }
  }
  return found;
}

const needlesOf = (person: Person) => [person.user.sub, person.user.email, person.user.guardianEmail ?? '', person.firstName];

describe('DELETE /v1/me', () => {
  it('cancels active signups, erases or anonymizes everything personal, keeps the books, and is idempotent', async () => {
    const person = await personWithEverything('Ingeborg');
    expect((await whereFound(needlesOf(person))).length).toBeGreaterThan(5); // the scan does find what is there

    const asked = await request(stack.api.baseUrl, 'DELETE', '/v1/me', { token: person.user.token });
    expect(asked.status).toBe(202);
    const location = asked.headers.get('location') ?? '';
    expect(location).toBe(`/v1/me/erasures/${asked.body.id as string}`);
    const again = await request(stack.api.baseUrl, 'DELETE', '/v1/me', { token: person.user.token });
    expect([again.body.id, again.status]).toEqual([asked.body.id, 202]);

    const done = await eventually(
      'the erasure to finish',
      async () => {
        const status = await request(stack.api.baseUrl, 'GET', location, { token: person.user.token });
        return status.body.status === 'done' ? status.body : undefined;
      },
      60_000,
    );
    expect(done.counts).toMatchObject({ signupsCancelled: 2, contactsDeleted: 1, interestsDeleted: 1, consentRecordsAnonymized: 1, attendeesAnonymized: 2 });
    expect((done.counts as { notificationLinksDeleted: number }).notificationLinksDeleted).toBeGreaterThan(3);

    expect(await whereFound(needlesOf(person))).toEqual([]);
    // The books: the paid signup keeps its amount and Stripe reference, with nobody attached.
    const paid = await stack.orm.em.fork().findOneOrFail(Signup, person.paidSignupId);
    expect(paid).toMatchObject({ status: 'cancelled', amountMinor: 25_000, currency: 'NOK', paymentIntentId: person.paymentIntentId, userId: `erased:${paid.id}` });
    // The audit keeps no id, only a digest and counts; the export now has nothing.
    const audit = await stack.orm.em.fork().findOneOrFail(ErasureRequest, asked.body.id as string);
    expect(audit).toMatchObject({ pendingUserId: null, status: 'done' });
    const exported = await request(stack.api.baseUrl, 'GET', '/v1/me/data', { token: person.user.token });
    expect(exported.body).toMatchObject({ contact: null, signups: [], interests: [], consentRecords: [], notifications: [] });
    // Somebody else cannot read it.
    const other = await newUser(stack.api, { name: 'privacy-stranger' });
    expect((await request(stack.api.baseUrl, 'GET', location, { token: other.token })).status).toBe(404);
  }, 120_000);
});

describe('the retention purge', () => {
  const at = (secondsFromNow: number) => new Date(Date.now() + secondsFromNow * 1000).toISOString();

  it('leaves nothing of a person the event was their only link to, and keeps what others still need', async () => {
    const api = stack.api;
    const organizerSub = `privacy-organizer-${Date.now()}`;
    const organizer = await api.token(organizerSub, ['organizer'], { markets: ['NO'] });
    const category = `purge${Date.now()}`;
    const created = await request(api.baseUrl, 'POST', '/v1/admin/events', {
      token: organizer,
      body: {
        defaultLocale: 'en',
        translations: { en: { title: 'Purged camp', description: 'Over in seconds' } },
        category,
        market: 'NO',
        timezone: 'Europe/Oslo',
        capacity: 10,
        refundPolicy: { kind: 'none' },
        ageRules: { guardianConsentBelowAge: 16 },
        publish: true,
        // Room for the guardian's answer on a busy machine; the purge 2 s after the end.
        startsAt: at(30),
        endsAt: at(32),
        cancellationDeadline: at(29),
      },
    });
    expect(created.status).toBe(201);
    const eventId = created.body.id as string;

    // Only this event: a minor with a guardian's consent, a needs note, a follow of the event and a
    // market follow without marketing consent (it brings no message, so it goes too).
    const only = await newUser(api, { birthdate: bornYearsAgo(12), guardian: true, name: 'purge-only' });
    const firstName = 'Torunn';
    expect((await request(api.baseUrl, 'POST', `/v1/events/${eventId}/notify-me`, { token: only.token })).status).toBe(201);
    expect((await request(api.baseUrl, 'POST', '/v1/me/interests', { token: only.token, body: { kind: 'market', value: 'NO' } })).status).toBe(201);
    const onlySignup = await signUp(api, only, eventId, { attendees: [{ ...child(firstName, 12), needsNote: `${firstName} needs a ramp` }] });
    const [mail] = await waitForMail(only.guardianEmail ?? '', subjects.consentRequest);
    const token = /\/consent\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)/.exec(mail?.text ?? '')?.[1] ?? '';
    expect((await request(api.baseUrl, 'POST', `/v1/consents/${token}`, { body: { decision: 'approved' } })).status).toBe(200);
    await waitForStatus(api, only, onlySignup, 'confirmed');

    // Still something to be told about: a signup for an event that is not over, or followed
    // categories with marketing consent.
    const booked = await newUser(api, { birthdate: bornYearsAgo(35), name: 'purge-booked' });
    await waitForStatus(api, booked, await signUp(api, booked, eventId), 'confirmed');
    const later = await insertEvent(stack.orm, { capacity: 5, title: 'Later camp' });
    await waitForStatus(api, booked, await signUp(api, booked, later.id), 'confirmed');
    const subscribed = await newUser(api, { birthdate: bornYearsAgo(40), name: 'purge-subscribed' });
    expect((await request(api.baseUrl, 'POST', '/v1/me/interests', { token: subscribed.token, body: { kind: 'category', value: category } })).status).toBe(201);
    await consentToAnnouncements(api, subscribed);
    await waitForStatus(api, subscribed, await signUp(api, subscribed, eventId), 'confirmed');

    // The organizer reads the needs note (logged with who read it).
    expect((await request(api.baseUrl, 'GET', `/v1/admin/events/${eventId}/participants`, { token: organizer })).status).toBe(200);
    const needles = [only.sub, only.email, only.guardianEmail ?? '', firstName];
    expect((await whereFound(needles)).length).toBeGreaterThan(5);
    expect(await stack.orm.em.fork().find(NeedsNoteRead, { eventId })).toEqual([expect.objectContaining({ readBy: organizerSub, notes: 1 })]);

    await eventually(
      'the purge',
      async () => ((await stack.orm.em.fork().findOneOrFail(LiveEvent, eventId)).personalDataPurgedAt ? true : undefined),
      90_000,
    );

    expect(await whereFound(needles)).toEqual([]);
    const em = stack.orm.em.fork();
    // The event's notification log and follows are gone for everyone; the consent is still shown, by nobody.
    expect(await em.count(NotificationLog, { eventId })).toBe(0);
    expect(await em.count(Interest, { kind: 'event', value: eventId })).toBe(0);
    expect(await em.findOneOrFail(ConsentRecord, { signupId: onlySignup })).toMatchObject({
      userId: `purged:${onlySignup}`,
      guardianEmail: null,
      decision: 'approved',
      anonymizedAt: expect.any(Date),
    });
    expect(await em.find(NeedsNoteRead, { eventId })).toEqual([expect.objectContaining({ readBy: null, notes: 1 })]);
    // Those with something left keep their contact (and the subscriber the follow).
    expect(await em.count(UserContact, { userId: { $in: [booked.sub, subscribed.sub] } })).toBe(2);
    expect(await em.count(Interest, { userId: subscribed.sub, kind: 'category' })).toBe(1);
    expect(await em.count(Signup, { event: eventId, userId: { $in: [booked.sub, subscribed.sub] } })).toBe(0);
  }, 150_000);

  it('comes for a cancelled event too, a retention period after the cancellation', async () => {
    const api = stack.api;
    const organizer = await api.token(`privacy-organizer-c-${Date.now()}`, ['organizer'], { markets: ['NO'] });
    const created = await request(api.baseUrl, 'POST', '/v1/admin/events', {
      token: organizer,
      body: {
        defaultLocale: 'en',
        translations: { en: { title: 'Cancelled camp', description: 'Never held' } },
        category: `cancelpurge${Date.now()}`,
        market: 'NO',
        timezone: 'Europe/Oslo',
        capacity: 10,
        refundPolicy: { kind: 'none' },
        publish: true,
        startsAt: at(7 * 86_400),
        endsAt: at(7 * 86_400 + 3_600),
      },
    });
    expect(created.status).toBe(201);
    const eventId = created.body.id as string;
    const person = await newUser(api, { birthdate: bornYearsAgo(30), name: 'cancel-purge' });
    const firstName = 'Sigrunn';
    const signupId = await signUp(api, person, eventId, { attendees: [{ firstName, age: 30, kind: 'adult', needsNote: `${firstName} is vegan` }] });
    await waitForStatus(api, person, signupId, 'confirmed');
    const needles = [person.sub, person.email, firstName];
    expect((await whereFound(needles)).length).toBeGreaterThan(0);

    const cancelled = await request(api.baseUrl, 'POST', `/v1/admin/events/${eventId}/cancel`, { token: organizer, body: { reason: 'The hall burned down' } });
    expect(cancelled.status).toBe(200);
    // Its lifecycle ends at once (cancelled); the purge is a flow of its own that waits out the retention.
    const retention = stack.client.workflow.getHandle(workflowIds.eventRetention(eventId));
    await eventually('the retention flow of the cancelled event', async () => ((await retention.describe().catch(() => undefined)) ? true : undefined), 60_000, 100);
    expect(await retention.result()).toEqual({ eventId, phase: 'purged' });
    expect(await whereFound(needles)).toEqual([]);
  }, 120_000);
});
