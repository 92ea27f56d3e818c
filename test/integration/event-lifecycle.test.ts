/**
 * The event lifecycle against the real Temporal server, worker, PostgreSQL and SMTP sink, with the
 * dates seconds apart: announcement, signups opening, reminders, thank-you and the purge happen in
 * order and once each; a reschedule moves the pending reminder and sends one change notice.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LiveEvent } from '../../src/events/event.entity.js';
import { NotificationLog } from '../../src/notifications/notification-log.entity.js';
import { Attendee } from '../../src/signups/attendee.entity.js';
import { eventLifecycleQuery, searchAttributes, workflowIds } from '../../src/temporal/contract.js';
import { request } from '../support/http.js';
import { mailTo } from '../support/mailbox.js';
import { consentToAnnouncements, newUser, signUp, waitForMail, waitForStatus, type TestUser } from '../support/signup-steps.js';
import { eventually, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    worker: true,
    // Reminders 6 s and 3 s before the start; personal data kept 2 s after the end. A workflow per
    // free signup from the start, so a cancel is a recorded seat move of its workflow's (a signup
    // under a door-confirmations flow is cancelled by the API, which records none).
    env: { LIFECYCLE_REMINDER_OFFSETS_SECONDS: '6,3', DATA_RETENTION_SECONDS: '2', SIGNUP_DOOR_CONFIRMATIONS: 'each' },
  });
});

afterAll(() => stack.stop());

const at = (secondsFromNow: number) => new Date(Date.now() + secondsFromNow * 1000).toISOString();

async function createEvent(organizer: TestUser, dates: Record<string, string>, category: string) {
  const created = await request(stack.api.baseUrl, 'POST', '/v1/admin/events', {
    token: organizer.token,
    body: {
      defaultLocale: 'en',
      translations: { en: { title: `Lifecycle ${category}`, description: 'Seconds apart' } },
      category,
      market: 'NO',
      timezone: 'Europe/Oslo',
      capacity: 10,
      refundPolicy: { kind: 'none' },
      publish: true,
      ...dates,
    },
  });
  if (created.status !== 201) throw new Error(`event not created: ${JSON.stringify(created.body)}`);
  return created.body as { id: string };
}

/** When each mail to the address was first seen, by subject. */
function watchMail(address: string) {
  const seen = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const mail of await mailTo(address)) if (!seen.has(mail.subject)) seen.set(mail.subject, Date.now());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    seen,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe('the event lifecycle', () => {
  it('announces, opens signups, reminds, thanks and purges, in order and once each', async () => {
    const { api, orm, client } = stack;
    const category = `cat${Date.now()}`;
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const follower = await newUser(api, { name: 'follower' });
    // Follows too, but gave no marketing consent: no announcement.
    const unconsenting = await newUser(api, { name: 'follower-no-consent' });
    const participant = await newUser(api, { name: 'participant' });
    for (const user of [follower, unconsenting]) {
      expect((await request(api.baseUrl, 'POST', '/v1/me/interests', { token: user.token, body: { kind: 'category', value: category } })).status).toBe(201);
    }
    await consentToAnnouncements(api, follower);

    const event = await createEvent(
      organizer,
      // Wide enough gaps that a busy machine (the whole suite runs in parallel) keeps the order.
      { announceAt: at(4), signupOpensAt: at(7), startsAt: at(24), endsAt: at(26), cancellationDeadline: at(23) },
      category,
    );
    const participantMail = watchMail(participant.email);

    await waitForMail(follower.email, /^New: /);
    // Once the announce step is done, the follower without marketing consent was skipped (before
    // the purge, which removes the event's notification log).
    const lifecycle = client.workflow.getHandle(workflowIds.eventLifecycle(event.id));
    await eventually('the announce step', async () => ((await lifecycle.query(eventLifecycleQuery)).done.includes('announce') ? true : undefined));
    expect(await orm.em.fork().count(NotificationLog, { recipientUserId: unconsenting.sub })).toBe(0);
    // Announced: now the event can be followed; signups open 2 s later.
    expect((await request(api.baseUrl, 'POST', `/v1/events/${event.id}/notify-me`, { token: participant.token })).status).toBe(201);
    await waitForMail(participant.email, /^Signups are open: /);
    const signupId = await signUp(api, participant, event.id);
    await waitForStatus(api, participant, signupId, 'confirmed');

    await waitForMail(participant.email, /^Thank you for coming/, 1, 30_000);
    await eventually('the purge', async () => ((await orm.em.fork().findOneOrFail(LiveEvent, event.id)).personalDataPurgedAt ? true : undefined), 20_000);
    await participantMail.stop();

    const mails = await mailTo(participant.email);
    const firstSeen = (prefix: RegExp) => [...participantMail.seen.entries()].find(([subject]) => prefix.test(subject))?.[1] ?? NaN;
    const order = [/^Signups are open/, /^You're in/, /^Soon/, /^Thank you/].map(firstSeen);
    expect(order.every((time, index) => index === 0 || time >= (order[index - 1] ?? 0))).toBe(true);
    expect(mails.filter((mail) => mail.subject.startsWith('Soon:'))).toHaveLength(2);
    expect(mails.filter((mail) => mail.subject.startsWith('Thank you'))).toHaveLength(1);
    expect(await mailTo(follower.email)).toHaveLength(1);
    const [attendee] = await orm.em.fork().find(Attendee, { signup: signupId });
    expect(attendee?.firstName).toBe('-');

    // Completed: so says the admin view and its filter; it takes no signups; integrators heard of
    // its publication only (completion is not a change of the event).
    const admin = await request(api.baseUrl, 'GET', `/v1/admin/events/${event.id}`, { token: organizer.token });
    expect(admin.body).toMatchObject({ status: 'completed' });
    const completedList = await request(api.baseUrl, 'GET', '/v1/admin/events?status=completed', { token: organizer.token });
    expect(completedList.status).toBe(200);
    expect((completedList.body.items as { id: string }[]).map((item) => item.id)).toContain(event.id);
    const late = await newUser(api, { name: 'late' });
    expect((await request(api.baseUrl, 'POST', `/v1/events/${event.id}/signups`, {
      token: late.token,
      body: { attendees: [{ firstName: 'Late', age: 30, kind: 'adult' }], platform: 'web' },
    })).status).toBe(404);
    const told = await orm.em.fork().getConnection().execute<{ type: string }[]>(
      `select type from integration_event where event_id = ? and type like 'event.%' order by occurred_at`,
      [event.id],
    );
    expect(told.map((row) => row.type)).toEqual(['event.published']);

    const handle = client.workflow.getHandle(workflowIds.eventLifecycle(event.id));
    expect(await handle.result()).toEqual({ eventId: event.id, phase: 'purged' });
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(searchAttributes.eventPhase)).toBe('purged');
    expect(String(description.memo?.summary)).toContain(`Lifecycle ${category}`);
  });

  it('moves the pending reminder when the event is rescheduled, and tells participants once', async () => {
    const { api, client } = stack;
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const participant = await newUser(api, { name: 'moved' });
    const event = await createEvent(organizer, { startsAt: at(20), endsAt: at(21), cancellationDeadline: at(19) }, `move${Date.now()}`);
    const signupId = await signUp(api, participant, event.id);
    await waitForStatus(api, participant, signupId, 'confirmed');
    const watch = watchMail(participant.email);

    // Reminders were due 6 s and 3 s before the start (at +14 s and +17 s); the start moves later.
    const read = await request(api.baseUrl, 'GET', `/v1/admin/events/${event.id}`, { token: organizer.token });
    const movedAt = Date.now();
    const newStart = movedAt + 30_000;
    const patched = await request(api.baseUrl, 'PATCH', `/v1/admin/events/${event.id}`, {
      token: organizer.token,
      body: { startsAt: new Date(newStart).toISOString(), endsAt: new Date(newStart + 1000).toISOString(), cancellationDeadline: new Date(newStart - 1000).toISOString() },
      headers: { 'if-match': read.headers.get('etag') ?? '' },
    });
    expect(patched.status).toBe(200);
    await waitForMail(participant.email, /^Changed: /);
    const [firstReminder] = await waitForMail(participant.email, /^Soon: /, 1, 30_000);
    expect(firstReminder).toBeDefined();
    await waitForMail(participant.email, /^Soon: /, 2, 30_000);
    await watch.stop();

    const firstReminderSeen = [...watch.seen.entries()].find(([subject]) => subject.startsWith('Soon:'))?.[1] ?? 0;
    // Not at the old moment (+6 s after creation), but 6 s before the new start.
    expect(firstReminderSeen).toBeGreaterThanOrEqual(newStart - 6_000 - 500);
    expect((await mailTo(participant.email)).filter((mail) => mail.subject.startsWith('Changed:'))).toHaveLength(1);
    const state = await client.workflow.getHandle(workflowIds.eventLifecycle(event.id)).query(eventLifecycleQuery);
    expect(state.changesAnnounced).toHaveLength(1);
  });

  it("forgets an event's recorded seat moves once its signup workflows are over: at the purge, and when it is cancelled", async () => {
    const { api, client } = stack;
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const seatMoves = async (eventId: string) => {
      const [row] = await stack.orm.em
        .getConnection()
        .execute<{ n: number }[]>('select count(*)::int as n from seat_move m join signup s on s.id = m.signup_id where s.event_id = ?', [eventId]);
      return row?.n ?? 0;
    };
    /** A participant who signs up and cancels: the cancel is a seat move of the workflow's, recorded. */
    const signUpAndCancel = async (eventId: string) => {
      const quitter = await newUser(api, { name: 'quitter' });
      const signupId = await signUp(api, quitter, eventId);
      await waitForStatus(api, quitter, signupId, 'confirmed');
      const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: quitter.token, body: {} });
      expect(cancelled.status).toBe(200);
    };

    const purged = await createEvent(organizer, { startsAt: at(10), endsAt: at(11), cancellationDeadline: at(9) }, `forget${Date.now()}`);
    await signUpAndCancel(purged.id);
    expect(await seatMoves(purged.id)).toBeGreaterThan(0);
    expect(await client.workflow.getHandle(workflowIds.eventLifecycle(purged.id)).result()).toEqual({ eventId: purged.id, phase: 'purged' });
    expect(await seatMoves(purged.id)).toBe(0);

    const cancelledEvent = await createEvent(organizer, { startsAt: at(600), endsAt: at(601), cancellationDeadline: at(599) }, `forgetc${Date.now()}`);
    await signUpAndCancel(cancelledEvent.id);
    const staying = await newUser(api, { name: 'staying' });
    const stayingId = await signUp(api, staying, cancelledEvent.id);
    await waitForStatus(api, staying, stayingId, 'confirmed');
    expect(await seatMoves(cancelledEvent.id)).toBeGreaterThan(0);
    const cancel = await request(api.baseUrl, 'POST', `/v1/admin/events/${cancelledEvent.id}/cancel`, { token: organizer.token, body: { reason: 'storm' } });
    expect(cancel.status).toBeLessThan(300);
    expect(await client.workflow.getHandle(workflowIds.eventLifecycle(cancelledEvent.id)).result()).toEqual({ eventId: cancelledEvent.id, phase: 'cancelled' });
    await waitForStatus(api, staying, stayingId, 'cancelled');
    expect(await seatMoves(cancelledEvent.id)).toBe(0);
  });
});
