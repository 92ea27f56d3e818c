import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { raw } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { LiveEvent } from '../src/events/event.entity.js';
import { EventChange } from '../src/events/event-change.entity.js';
import type { LifecyclePlan } from '../src/events/lifecycle-schedule.js';
import { usersAskingToBeNotified, usersFollowing } from '../src/interests/audience.js';
import { forgetSeatMoves } from '../src/signups/seats.js';
import type { SignupStatus } from '../src/signups/status.js';
import { createSignupWorkflowStarter, toSignupWorkflow, type SignupWorkflowStarter } from '../src/signups/workflow-starts.js';
import {
  cancelSignupUpdate,
  eventFinishedSignal,
  flowKinds,
  searchAttributes,
  waitlistClosedSignal,
  workflowIds,
  workflowTypes,
  type NotificationRetryInput,
  workflowTaskQueueOf,
} from '../src/temporal/contract.js';
import type { notificationRetryWorkflow } from '../workflows/notification-retry.js';
import type { createNotificationActivities, NotificationOutcome } from './notifications.js';

type Notifications = ReturnType<typeof createNotificationActivities>;

const PAGE = 200;
/** Signup workflows asked to cancel at once when an event is cancelled. */
const CANCEL_CONCURRENCY = 10;

/**
 * The event lifecycle's activities. Each answers `now` (the activity's clock) so the workflow can
 * time its next sleep without reading a clock itself. Fan-outs walk signups or users in id order a
 * page at a time and heartbeat the last id done: a retried activity (worker restart) resumes there,
 * and every message is keyed once per recipient, so nothing is lost or sent twice.
 *
 * A recipient who cannot be reached (a webhook that is down, an address the mail server refuses)
 * never holds the fan-out back: its notification is handed to a retry workflow of its own
 * (workflows/notification-retry.ts, bounded by `notificationRetry`) and the fan-out goes on, so the
 * step, the other recipients and the steps after it stay on time.
 */
export function createLifecycleActivities(deps: {
  orm: MikroORM;
  temporal: Client;
  notifications: Notifications;
  notificationRetry: { attempts: number; initialSeconds: number };
}) {
  const em = () => deps.orm.em.fork();
  // A signup accepted a moment ago may still have its workflow start in the outbox.
  const starter = createSignupWorkflowStarter({ orm: deps.orm, temporal: deps.temporal });

  /** Signups of the event in the given statuses, a page at a time after the heartbeat cursor. */
  async function forEachSignup(
    eventId: string,
    statuses: readonly SignupStatus[],
    act: (signup: { id: string; workflowId: string }) => Promise<void>,
    concurrency = 1,
  ): Promise<number> {
    return fanOut(async (after) => {
      const rows = await em().getConnection().execute<{ id: string; workflow_id: string }[]>(
        `select id, workflow_id from signup where event_id = ? and status in (${statuses.map(() => '?').join(', ')})
            and id > ? order by id limit ${PAGE}`,
        [eventId, ...statuses, after ?? '00000000-0000-0000-0000-000000000000'],
      );
      return rows.map((row) => ({ key: row.id, value: { id: row.id, workflowId: row.workflow_id } }));
    }, act, concurrency);
  }

  /** Sends one fan-out notification; what fails on a channel goes to its own retry workflow. */
  async function notify(eventId: string, notification: NotificationRetryInput['notification']): Promise<NotificationOutcome> {
    let outcome;
    if (notification.to === 'signup') {
      const { to: _to, ...fields } = notification;
      outcome = await deps.notifications.sendSignupNotification({ ...fields, deferFailures: true });
    } else {
      const { to: _to, ...fields } = notification;
      outcome = await deps.notifications.sendUserNotification({ ...fields, deferFailures: true });
    }
    if (typeof outcome !== 'object') return outcome;
    const input: NotificationRetryInput = {
      key: outcome.deferredKey,
      notification,
      maximumAttempts: deps.notificationRetry.attempts,
      initialIntervalSeconds: deps.notificationRetry.initialSeconds,
    };
    try {
      await deps.temporal.workflow.start<typeof notificationRetryWorkflow>(workflowTypes.notificationRetry, {
        workflowId: workflowIds.notificationRetry(outcome.deferredKey),
        // The fan-out's own queue: the workers that run this lifecycle run its retries.
        taskQueue: workflowTaskQueueOf(Context.current().info.taskQueue),
        args: [input],
        typedSearchAttributes: [
          { key: searchAttributes.eventId, value: eventId },
          { key: searchAttributes.flowKind, value: flowKinds.notificationRetry },
        ],
      });
    } catch (error) {
      // A fan-out retried after a crash finds the retry already under way.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return outcome;
  }

  const mailSignup = (eventId: string, signupId: string, kind: Parameters<Notifications['sendSignupNotification']>[0]['kind'], step: string) =>
    notify(eventId, { to: 'signup', signupId, kind, step, details: {} });

  return {
    async loadLifecyclePlan(input: {
      eventId: string;
      reminderOffsetsSeconds: number[];
      retentionSeconds: number;
    }): Promise<{ now: string; status: LiveEvent['status']; version: number; plan: LifecyclePlan }> {
      const event = await em().findOneOrFail(LiveEvent, input.eventId);
      return {
        now: new Date().toISOString(),
        status: event.status,
        version: event.version,
        plan: {
          dates: {
            announceAt: event.announceAt?.toISOString() ?? null,
            signupOpensAt: event.signupOpensAt?.toISOString() ?? null,
            signupClosesAt: event.signupClosesAt?.toISOString() ?? null,
            startsAt: event.startsAt.toISOString(),
            endsAt: event.endsAt.toISOString(),
          },
          reminderOffsetsSeconds: input.reminderOffsetsSeconds,
          retentionSeconds: input.retentionSeconds,
        },
      };
    },

    /** The event is public now: people following its category or market are told. */
    async announceEvent(input: { eventId: string }): Promise<{ now: string; recipients: number }> {
      const event = await em().findOneOrFail(LiveEvent, input.eventId);
      const recipients = await fanOut(
        async (after) =>
          (await usersFollowing(em(), { category: event.category, market: event.market, tags: event.tags }, { afterUserId: after, limit: PAGE })).map(
            (userId) => ({ key: userId, value: userId }),
          ),
        async (userId) => {
          await notify(event.id, { to: 'user', userId, eventId: event.id, kind: 'announcement', step: 'announcement' });
        },
      );
      return { now: new Date().toISOString(), recipients };
    },

    /** Signups are open: those who asked to be told (notify-me) are. */
    async openSignups(input: { eventId: string }): Promise<{ now: string; recipients: number }> {
      const recipients = await fanOut(
        async (after) =>
          (await usersAskingToBeNotified(em(), input.eventId, { afterUserId: after, limit: PAGE })).map((userId) => ({
            key: userId,
            value: userId,
          })),
        async (userId) => {
          await notify(input.eventId, { to: 'user', userId, eventId: input.eventId, kind: 'signup-opened', step: 'signup-opened' });
        },
      );
      return { now: new Date().toISOString(), recipients };
    },

    /** Signups are closed: the waiting list ends (each waitlisted signup's workflow rejects it and says so). */
    async closeSignups(input: { eventId: string }): Promise<{ now: string; recipients: number }> {
      const recipients = await forEachSignup(input.eventId, ['waitlisted'], async (signup) => {
        await signalIfRunning(deps.temporal, starter, signup, (handle) => handle.signal(waitlistClosedSignal));
      });
      return { now: new Date().toISOString(), recipients };
    },

    /** A reminder to every confirmed participant; keyed by the start it was computed for. */
    async sendReminders(input: { eventId: string; offsetSeconds: number; startsAt: string }): Promise<{ now: string; recipients: number }> {
      const recipients = await forEachSignup(input.eventId, ['confirmed'], async (signup) => {
        await mailSignup(input.eventId, signup.id, 'reminder', `reminder:${input.offsetSeconds}:${input.startsAt}`);
      });
      return { now: new Date().toISOString(), recipients };
    },

    /** One "event changed" message per participant and event version. */
    async announceChange(input: { eventId: string; version: number }): Promise<{ now: string; recipients: number }> {
      const recipients = await forEachSignup(input.eventId, ['confirmed', 'held', 'waitlisted', 'awaiting_consent'], async (signup) => {
        await mailSignup(input.eventId, signup.id, 'event-changed', `event-changed:v${input.version}`);
      });
      return { now: new Date().toISOString(), recipients };
    },

    /** The event is over: it is marked completed, participants thanked, their signup workflows ended. */
    async completeEvent(input: { eventId: string }): Promise<{ now: string; recipients: number }> {
      // Published only: a retried attempt finds it completed already and changes nothing. The
      // version moves so an admin's cached copy (its ETag) is stale; the webhook trigger writes
      // nothing for this move (event.entity.ts).
      await em().transactional(async (tx) => {
        const at = new Date();
        const moved = await tx.nativeUpdate(
          LiveEvent,
          { id: input.eventId, status: 'published' },
          { status: 'completed', completedAt: at, version: raw('version + 1'), updatedAt: at },
        );
        if (moved === 1) {
          tx.create(EventChange, {
            eventId: input.eventId,
            action: 'completed',
            changedBy: 'lifecycle',
            changes: [{ field: 'status', before: 'published', after: 'completed' }],
          });
        }
      });
      // Signups a door-confirmations flow stands for need no workflow of their own now: the flows end,
      // their rows go, and the signal below finds no workflow for them (and starts none).
      await starter.finishDoorConfirmations(input.eventId);
      const recipients = await forEachSignup(input.eventId, ['confirmed'], async (signup) => {
        await mailSignup(input.eventId, signup.id, 'thank-you', 'thank-you');
        await signalIfRunning(deps.temporal, starter, signup, (handle) => handle.signal(eventFinishedSignal));
      });
      return { now: new Date().toISOString(), recipients };
    },

    /**
     * Retention: everything that ties a person to the event goes, in one transaction (docs/privacy.md):
     * attendees' names and needs notes, free-text reasons and the signups' link to the user
     * (`purged:<signupId>`); consent records lose the guardian's address, user agent and network, as
     * in an erasure; the event's notification log and its follows (notify-me) are deleted, and the
     * needs-note read log forgets who read. Then the people it concerned (participants and the
     * event's followers) who have nothing left to be told about lose their contact and interests:
     * see `forgetUnreachablePeople`. Counts, ages, ticket codes and money stay for the organizer's
     * books. Recorded in the history. Idempotent: a retry finds nothing left to change.
     * The seat moves' recorded outcomes go too: every signup workflow of the event is over by now.
     */
    async purgePersonalData(input: { eventId: string }): Promise<{ now: string; purgedSignups: number }> {
      const purgedSignups = await em().transactional(async (tx) => {
        const connection = tx.getConnection();
        const run = async (sql: string, params: unknown[]) =>
          (await connection.execute<{ affectedRows: number }>(sql, params, 'run')).affectedRows;
        // Who this event concerned, read before the links to them go.
        const people = await connection.execute<{ user_id: string }[]>(
          `select user_id from signup where event_id = ? and user_id not like 'purged:%' and user_id not like 'erased:%'
           union select user_id from interest where kind = 'event' and value = ?`,
          [input.eventId, input.eventId],
        );
        await run(
          `update signup_attendee set first_name = '-', needs_note = null
            where signup_id in (select id from signup where event_id = ?)`,
          [input.eventId],
        );
        await run(
          `update consent_record set user_id = 'purged:' || signup_id, guardian_email = null, user_agent = null,
                  client_network = null, anonymized_at = coalesce(anonymized_at, now())
            where event_id = ? and user_id not like 'purged:%'`,
          [input.eventId],
        );
        await run(
          `delete from notification_log where event_id = ? or signup_id in (select id from signup where event_id = ?)`,
          [input.eventId, input.eventId],
        );
        await run(`delete from interest where kind = 'event' and value = ?`, [input.eventId]);
        await run('update needs_note_read set read_by = null where event_id = ? and read_by is not null', [input.eventId]);
        const signups = await run(
          `update signup set user_id = 'purged:' || id, cancellation_reason = null, payment_client_secret = null,
                  idempotency_key = null, checked_in_by = null
            where event_id = ? and user_id not like 'purged:%'`,
          [input.eventId],
        );
        await forgetSeatMoves(tx, input.eventId);
        const forgotten = await forgetUnreachablePeople(connection, people.map((row) => row.user_id));
        await tx.nativeUpdate(LiveEvent, { id: input.eventId }, { personalDataPurgedAt: new Date() });
        tx.create(EventChange, {
          eventId: input.eventId,
          action: 'data-purged',
          changedBy: 'lifecycle',
          changes: [
            { field: 'signups', before: null, after: `${signups} anonymized` },
            { field: 'contacts', before: null, after: `${forgotten} people with nothing left to be told about forgotten` },
          ],
        });
        return signups;
      });
      return { now: new Date().toISOString(), purgedSignups };
    },

    /**
     * The event was cancelled: every active signup is cancelled through its own workflow (which
     * refunds in full and tells the participant). Signups already ended refuse the update: skipped.
     */
    async cancelEventSignups(input: { eventId: string; reason: string }): Promise<{ now: string; signups: number }> {
      const statuses: SignupStatus[] = ['requested', 'awaiting_consent', 'held', 'waitlisted', 'confirmed'];
      const signups = await forEachSignup(input.eventId, statuses, async (signup) => {
        try {
          await starter.update(signup, cancelSignupUpdate, [{ by: 'organizer', reason: input.reason, eventCancelled: true }]);
        } catch (error) {
          if (!(error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError)) throw error;
        }
        // Ten updates at a time: one waits for its signup workflow's seat activity (~0.2 s), so one
        // at a time took a minute per 300 signups; each signup's seats are its own row lock.
      }, CANCEL_CONCURRENCY);
      // Each update above returned once its workflow had made its last seat move (the cancel): no
      // retry can still need the recorded outcomes (see forgetSeatMoves).
      await forgetSeatMoves(em(), input.eventId);
      return { now: new Date().toISOString(), signups };
    },

    /**
     * The confirmations of free signups the API confirmed at the door together
     * (workflows/door-confirmations.ts), a few at a time, under the key each one's own workflow would
     * use. As in every fan-out, a recipient who cannot be reached goes to a retry workflow of its own,
     * so the rest of the group is not held back. Heartbeats how many are done (in order), so a retry
     * goes on from there; what it sends again answers already-sent from the log.
     */
    async sendDoorConfirmations(input: { signupIds: string[] }): Promise<{ sent: number }> {
      const context = Context.current();
      const done = typeof context.info.heartbeatDetails === 'number' ? context.info.heartbeatDetails : 0;
      // Only those still confirmed, and still this flow's: one cancelled at the door before this ran
      // gets its cancellation receipt alone, not a confirmation after it, and one whose own workflow
      // was started (its row gone) gets that workflow's confirmation, not a second one at the same
      // moment. A group is one event's (the relay groups by event): its retries are found under it.
      // Only those whose user left a way to reach them (a user_contact row, which the worker's
      // contact provider reads): for anyone else sendSignupNotification would read the signup, its
      // event and the contact one by one only to answer no-address, and a hot event's burst of
      // signups made in apps whose tokens carry no e-mail claim was mostly that work.
      // The rows are found by their ids (= any(array(...)), the primary key) and the status is
      // judged here: with `status = 'confirmed'` in the statement, a hot event's table grown faster
      // than its statistics let the planner scan every active signup of the partial index instead,
      // a cost that grew with the event for every group.
      const stillConfirmed = (
        await em()
          .getConnection()
          .execute<{ id: string; event_id: string; status: SignupStatus }[]>(
            `select s.id, s.event_id, s.status from signup s join signup_workflow_start w on w.signup_id = s.id and w.door_flow_id = ?
               join user_contact c on c.user_id = s.user_id
              where s.id = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))`,
            [context.info.workflowExecution?.workflowId ?? null, JSON.stringify(input.signupIds)],
          )
      ).filter((row) => row.status === 'confirmed');
      const eventId = stillConfirmed[0]?.event_id;
      if (!eventId) return { sent: 0 };
      const toMail = new Set(stillConfirmed.map((row) => row.id));
      let sent = 0;
      for (let from = done; from < input.signupIds.length; from += DOOR_CONFIRMATIONS_AT_ONCE) {
        const chunk = input.signupIds.slice(from, from + DOOR_CONFIRMATIONS_AT_ONCE).filter((signupId) => toMail.has(signupId));
        const outcomes = await Promise.all(chunk.map((signupId) => mailSignup(eventId, signupId, 'confirmation', 'confirmation')));
        sent += outcomes.filter((outcome) => outcome === 'sent').length;
        context.heartbeat(from + chunk.length);
      }
      return { sent };
    },
  };
}

/** Confirmations of one door group sent at once: each is a few queries and an SMTP round trip. */
const DOOR_CONFIRMATIONS_AT_ONCE = 4;

/** How often a fan-out heartbeats while alive, whatever its progress (well inside the workflow's heartbeat timeout). */
const LIVENESS_HEARTBEAT_MS = 3_000;

/**
 * Walks pages of items after the heartbeat cursor; heartbeats the key of each item done. It also
 * heartbeats every few seconds while one item takes long (a signup workflow busy retrying its own
 * activity), so the heartbeat timeout catches a dead worker only, never a slow recipient.
 */
async function fanOut<T>(
  fetchPage: (after: string | undefined) => Promise<{ key: string; value: T }[]>,
  act: (value: T) => Promise<void>,
  concurrency = 1,
): Promise<number> {
  const context = Context.current();
  let after = context.info.heartbeatDetails as string | undefined;
  let count = 0;
  const alive = setInterval(() => context.heartbeat(after), LIVENESS_HEARTBEAT_MS);
  try {
    for (;;) {
      const page = await fetchPage(after);
      if (page.length === 0) return count;
      // `concurrency` items at a time; the cursor moves past a batch once all of it is done, so a
      // retry redoes at most one batch (every act is idempotent).
      for (let start = 0; start < page.length; start += concurrency) {
        const batch = page.slice(start, start + concurrency);
        await Promise.all(batch.map((item) => act(item.value)));
        after = batch[batch.length - 1]?.key ?? after;
        count += batch.length;
        context.heartbeat(after);
      }
    }
  } finally {
    clearInterval(alive);
  }
}

async function signalIfRunning(
  temporal: Client,
  starter: SignupWorkflowStarter,
  signup: { id: string; workflowId: string },
  send: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<void>,
): Promise<void> {
  try {
    const workflow = temporal.workflow.getHandle(signup.workflowId);
    await toSignupWorkflow(starter, signup.id, () => send(workflow));
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

type Connection = ReturnType<ReturnType<MikroORM['em']['fork']>['getConnection']>;

/**
 * The purge's last part: of the given people, those with nothing left to be told about lose their
 * contact (addresses, webhook, preferences) and interests. Something is left while a signup still
 * carries their id (an event not yet purged: its messages, refunds and thank-you need the address),
 * while they follow an event (its signups opening), or while they follow a category, market or tag
 * with marketing consent (announcements). Follows without that consent bring no message, so they go
 * with the contact. Answers how many people were forgotten. Plain SQL: three set-based statements in
 * the purge's transaction rather than loading every person's rows; the ids travel as one JSON value.
 */
async function forgetUnreachablePeople(connection: Connection, userIds: string[]): Promise<number> {
  if (userIds.length === 0) return 0;
  const rows = await connection.execute<{ user_id: string }[]>(
    `select u.user_id from jsonb_array_elements_text(?::jsonb) as u(user_id)
      where not exists (select 1 from signup s where s.user_id = u.user_id)
        and not exists (select 1 from interest i where i.user_id = u.user_id and i.kind = 'event')
        and not exists (
          select 1 from interest i join user_contact c on c.user_id = i.user_id
           where i.user_id = u.user_id and c.email_marketing_consent)`,
    [JSON.stringify(userIds)],
  );
  const forgotten = rows.map((row) => row.user_id);
  if (forgotten.length === 0) return 0;
  const ids = JSON.stringify(forgotten);
  await connection.execute('delete from interest where user_id in (select jsonb_array_elements_text(?::jsonb))', [ids], 'run');
  await connection.execute('delete from user_contact where user_id in (select jsonb_array_elements_text(?::jsonb))', [ids], 'run');
  return forgotten.length;
}
