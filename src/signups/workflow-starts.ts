import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Logger } from 'pino';
import { countSeatMove, signupWorkflowStartsTotal } from '../observability/metrics.js';
import {
  DOOR_CONFIRMATIONS_PER_FLOW,
  doorSignupLeftSignal,
  eventFinishedSignal,
  flowKinds,
  searchAttributes,
  workflowIds,
  workflowTypes,
  type CancelledAtDoor,
  type CancelRequest,
  type DoorConfirmationsInput,
  type SignupWorkflowInput,
  waitlistOfferSignal,
} from '../temporal/contract.js';
import type { doorConfirmationsWorkflow } from '../../workflows/door-confirmations.js';
import type { signupWorkflow } from '../../workflows/signup.js';
import { cancelAtDoor, cancelSignup, offerFreeSeatsIn, type WaitlistOffer, type WorkflowStartValues } from './seats.js';
import type { Signup } from './signup.entity.js';
import type { SignupStatus } from './status.js';
import { SignupWorkflowStart } from './workflow-start.entity.js';

/**
 * Starting signup workflows through an outbox. The API records a signup, its seats and a
 * signup_workflow_start row in one transaction and answers at the commit; the workflow is started
 * right after (startSoon) and the row deleted. If that start fails (Temporal down, the process
 * dying), the row stays and a sweep started by any API process retries it with backoff, so every
 * accepted signup gets its workflow, exactly once: the workflow id is the signup's, and a second
 * start of it is refused by Temporal (REJECT_DUPLICATE, also after the first run ended).
 *
 * The same relay (its queue, its in-flight bound, its sweeps) also delivers other outboxes
 * (WorkflowOutbox): the event lifecycle's (src/events/lifecycle-client.ts).
 *
 * Door confirmations (SIGNUP_DOOR_CONFIRMATIONS=grouped): a free signup the API confirmed at the
 * door needs nothing from its workflow but the confirmation mail until something happens to it. The
 * signups of one event confirmed within DOOR_GROUP_WINDOW_MS then get one door-confirmations flow (up
 * to DOOR_CONFIRMATIONS_PER_FLOW each) that mails them and stands for them in Temporal, and their rows stay, never due, naming that
 * flow (door_flow_id): whoever needs a signup's workflow later (a cancel, an organizer's removal, an
 * erasure, the event's cancellation) starts it from its row (ensureStarted), and the flow is told.
 * The rows are claimed for the flow before it is started (a signup a command started meanwhile is
 * not in it), due in OWN_ATTEMPT_SECONDS until it has: a process dying meanwhile leaves them to the
 * sweep, which starts each signup's own workflow, and its confirmation goes under the same once-only
 * key as the group's.
 *
 * Why not start it inside the request: under a burst workflow.start was most of the accept time
 * (bench/signup-burst.ts), and a Temporal outage turned every signup into a 503. Now an accepted
 * signup waits for its workflow for milliseconds normally; see docs/architecture.md.
 */

/**
 * How long after its commit a row is left to the process that wrote it, before a sweep may take
 * it: longer than a burst's queue takes to drain (1,000 starts took about 20 s), so sweeps do not
 * start the same rows again meanwhile; a dead process's rows wait this long.
 */
const OWN_ATTEMPT_SECONDS = 60;
/**
 * Starts in flight per process; the rest wait their turn in memory (their rows are safe meanwhile).
 * Few: each start is gRPC work on the API's one thread, and under a burst 16 at a time doubled the
 * accept p99 of bench/signup-burst.ts (about 500 ms against 280 ms with 4).
 */
const MAX_IN_FLIGHT = 4;
/**
 * How long door-confirmed signups of one event wait for others to share their door-confirmations
 * flow (unless it fills first): under a burst several door batches go in one flow, so Temporal gets
 * fewer of them; a confirmation mail goes this much later. Their rows are safe meanwhile.
 */
const DOOR_GROUP_WINDOW_MS = 250;
/**
 * A background start's Temporal calls get this long. Set on each one, because a start queued by a
 * request would otherwise inherit that request's short deadline (withRequestDeadline) and fail
 * when it waited its turn in the queue.
 */
const START_DEADLINE_MS = 10_000;

/** The outbox row's values for a signup accepted `now`; placeAtDoor (seats.ts) writes the same in SQL. */
export function workflowStartValues(start: {
  workflowId: string;
  taskQueue: string;
  input: SignupWorkflowInput;
  market: string;
  summary: string;
  now: Date;
}): WorkflowStartValues {
  const { now, ...values } = start;
  return { ...values, nextAttemptAt: new Date(now.getTime() + OWN_ATTEMPT_SECONDS * 1000) };
}

/** Writes the outbox row in the caller's transaction (flushed with the signup). */
export function recordWorkflowStart(em: EntityManager, signup: Signup, values: WorkflowStartValues): void {
  em.create(SignupWorkflowStart, { signup, status: signup.status, ...values });
}

/** Seconds until a failed start is tried again: 2, 4, 8 ... up to a minute. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(2 ** Math.max(attempts, 1), 60);
}

/**
 * Another outbox the relay delivers: rows grouped by a key (an event id), delivered oldest first.
 * `deliver` throws when something is left (it has set the rows' next attempt itself).
 */
export interface WorkflowOutbox {
  name: string;
  deliver(key: string): Promise<void>;
  /** Claims the keys with rows due (moving their next attempt ahead, so two sweeps never take the same). */
  claimDue(limit: number, claimSeconds: number): Promise<string[]>;
}

/** A new outbox row's columns, as the relay reads them back (the door's batch inserts the same). */
export function startRowOf(signupId: string, status: SignupStatus, start: WorkflowStartValues): StartRow {
  return {
    signup_id: signupId,
    workflow_id: start.workflowId,
    task_queue: start.taskQueue,
    input: start.input,
    status,
    market: start.market,
    summary: start.summary,
    attempts: 0,
  };
}

interface StartRow {
  signup_id: string;
  workflow_id: string;
  task_queue: string;
  input: SignupWorkflowInput;
  status: SignupStatus;
  market: string;
  summary: string;
  attempts: number;
}

/** A kept row whose signup was not confirmed after all (never, by construction): its transaction is rolled back. */
class NotConfirmedAtDoor extends Error {}

export function createSignupWorkflowStarter(deps: { orm: MikroORM; temporal: Client; logger?: Logger; outboxes?: WorkflowOutbox[] }) {
  /** Deliveries waiting for a free slot, with what to log if one fails. */
  const queue: { run: () => Promise<void>; about: Record<string, string> }[] = [];
  const inFlight = new Set<Promise<void>>();
  let sweeping: NodeJS.Timeout | undefined;
  /** Door-confirmed signups waiting to be grouped, per event (a group goes when full or after DOOR_GROUP_WINDOW_MS). */
  const confirmedAtDoor = new Map<string, { rows: StartRow[]; timer?: NodeJS.Timeout }>();

  /** The workflow a row stands for, as Temporal is asked to start it. */
  function startOptionsOf(row: StartRow) {
    const input = row.input;
    return {
      workflowId: row.workflow_id,
      taskQueue: row.task_queue,
      args: [input] as [SignupWorkflowInput],
      workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
      typedSearchAttributes: [
        { key: searchAttributes.eventId, value: input.eventId },
        { key: searchAttributes.signupId, value: input.signupId },
        { key: searchAttributes.signupStatus, value: row.status },
        { key: searchAttributes.market, value: row.market },
        { key: searchAttributes.flowKind, value: flowKinds.signup },
      ],
      memo: { summary: row.summary },
    };
  }

  /** Starts the workflow of one row (already started counts as started) and deletes the row. */
  async function startRow(row: StartRow): Promise<void> {
    try {
      await deps.temporal.workflow.start<typeof signupWorkflow>(workflowTypes.signup, startOptionsOf(row));
      signupWorkflowStartsTotal.inc({ outcome: 'started' });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        await recordFailedStart([row.signup_id], error, row.attempts + 1);
        throw error;
      }
      signupWorkflowStartsTotal.inc({ outcome: 'already-started' });
    }
    await forgetRow(row.signup_id);
  }

  /**
   * A start that failed: its error on the rows (not yet under a door-confirmations flow), tried again
   * by a sweep after the backoff of the given attempt. The ids travel as one JSON value (the driver
   * would spread an array into a list of parameters).
   */
  async function recordFailedStart(signupIds: string[], error: unknown, attempt: number): Promise<void> {
    signupWorkflowStartsTotal.inc({ outcome: 'failed' });
    await deps.orm.em.getConnection().execute(
      `update signup_workflow_start set attempts = attempts + 1, last_error = ?, next_attempt_at = now() + make_interval(secs => ?)
        where signup_id in (select jsonb_array_elements_text(?::jsonb)::uuid) and door_flow_id is null`,
      [String(error), retryDelaySeconds(attempt), JSON.stringify(signupIds)],
      'run',
    );
  }

  /**
   * The row of a started workflow goes. As deleted, not as read: a door-confirmations flow may have
   * claimed it meanwhile; that flow is told in the background (a command waiting on this start
   * need not wait for it too).
   */
  async function forgetRow(signupId: string): Promise<void> {
    const [deleted] = await deps.orm.em
      .getConnection()
      .execute<{ door_flow_id: string | null }[]>('delete from signup_workflow_start where signup_id = ? returning door_flow_id', [signupId]);
    if (deleted?.door_flow_id) void leaveDoorFlow(deleted.door_flow_id, signupId);
  }

  /** The signup has a workflow of its own now: its door-confirmations flow stops listing it. Not critical: logged. */
  async function leaveDoorFlow(flowId: string, signupId: string): Promise<void> {
    try {
      await deps.temporal.workflow.getHandle(flowId).signal(doorSignupLeftSignal, signupId);
    } catch (error) {
      // Ended (its event is over) or unreachable: its SignupIds may still name this signup.
      if (!(error instanceof WorkflowNotFoundError)) deps.logger?.warn({ flowId, signupId, err: error }, 'door-confirmations flow not told of a signup that left it');
    }
  }

  /** A waitlisted signup got freed seats (its row says so): its workflow is told. Not critical: it reads its row within the hour. */
  async function tellOffered(offer: WaitlistOffer): Promise<void> {
    try {
      await deps.temporal.workflow.getHandle(offer.workflowId).signal(waitlistOfferSignal, { holdExpiresAt: offer.holdExpiresAt });
    } catch (error) {
      deps.logger?.warn({ signupId: offer.signupId, err: error }, 'waitlist offer not signalled; its workflow finds it in its row');
    }
  }

  /**
   * One door-confirmations flow for these rows (signups of one event confirmed at the door together).
   * The rows are claimed for the flow first, and the flow stands for those claimed only: a row a
   * command started meanwhile (gone: the signup's own workflow mails its confirmation) is not in it,
   * where a flow started first mailed that signup too, at the same moment. Once the flow has started
   * its rows are never due; until then they are due in OWN_ATTEMPT_SECONDS, so a process dying in
   * between leaves them to the sweep, which starts each signup's own workflow (its confirmation goes
   * under the same once-only key as the flow's).
   */
  async function startDoorConfirmations(eventId: string, rows: StartRow[]): Promise<void> {
    const first = rows[0];
    if (!first) return;
    const flowId = workflowIds.doorConfirmations(first.signup_id);
    const connection = deps.orm.em.getConnection();
    const claimed = await connection.execute<{ signup_id: string }[]>(
      `update signup_workflow_start set door_flow_id = ?, next_attempt_at = now() + make_interval(secs => ?)
        where signup_id in (select jsonb_array_elements_text(?::jsonb)::uuid) and door_flow_id is null returning signup_id`,
      [flowId, OWN_ATTEMPT_SECONDS, JSON.stringify(rows.map((row) => row.signup_id))],
    );
    const inFlow = new Set(claimed.map((row) => row.signup_id));
    const signupIds = rows.map((row) => row.signup_id).filter((id) => inFlow.has(id));
    if (signupIds.length === 0) return;
    try {
      await deps.temporal.workflow.start<typeof doorConfirmationsWorkflow>(workflowTypes.doorConfirmations, {
        workflowId: flowId,
        taskQueue: first.task_queue,
        args: [{ eventId, signupIds } satisfies DoorConfirmationsInput],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: searchAttributes.eventId, value: eventId },
          { key: searchAttributes.signupIds, value: signupIds },
          { key: searchAttributes.signupStatus, value: 'confirmed' },
          { key: searchAttributes.market, value: first.market },
          { key: searchAttributes.flowKind, value: flowKinds.doorConfirmations },
        ],
        memo: { summary: `${signupIds.length} free signup(s) confirmed at the door` },
        // Below the default (3): its mails can wait behind a cancel, a payment or a hold that somebody
        // waits on, when the queue has a backlog. Its activity inherits it.
        priority: { priorityKey: 4 },
      });
      signupWorkflowStartsTotal.inc({ outcome: 'door-group' });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) {
        // As a failed start of each: the rows are ordinary again, with the error, and the sweep starts
        // each signup's own workflow at its next attempt (the group is not tried again).
        await connection.execute(
          `update signup_workflow_start set door_flow_id = null where door_flow_id = ? and signup_id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
          [flowId, JSON.stringify(signupIds)],
        );
        await recordFailedStart(signupIds, error, 1);
        throw error;
      }
    }
    // 'infinity': out of the sweep's range of the due index, however many there are. Not a row a
    // cancel at the door rewrote meanwhile: its own start is queued, and due should it fail.
    await connection.execute(
      `update signup_workflow_start set next_attempt_at = 'infinity' where door_flow_id = ? and status = 'confirmed'
          and signup_id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
      [flowId, JSON.stringify(signupIds)],
    );
  }

  async function pendingRow(signupId: string): Promise<StartRow | undefined> {
    const [row] = await deps.orm.em
      .getConnection()
      .execute<StartRow[]>('select * from signup_workflow_start where signup_id = ?', [signupId]);
    return row;
  }

  function drain(): void {
    while (inFlight.size < MAX_IN_FLIGHT && queue.length > 0) {
      const job = queue.shift() as (typeof queue)[number];
      const run: Promise<void> = deps.temporal.connection
        .withDeadline(Date.now() + START_DEADLINE_MS, job.run)
        .catch((error: unknown) => deps.logger?.warn({ ...job.about, err: error }, 'workflow not started or told yet; a sweep retries it'))
        .finally(() => {
          inFlight.delete(run);
          drain();
        });
      inFlight.add(run);
    }
  }

  const starter = {
    /** After the signup's commit: start its workflow in the background, from the values its outbox row was written with. */
    startSoon(signupId: string, status: SignupStatus, start: WorkflowStartValues): void {
      const row = startRowOf(signupId, status, start);
      queue.push({ run: () => startRow(row), about: { signupId } });
      drain();
    },

    /**
     * After the commit of a free signup confirmed at the door (SIGNUP_DOOR_CONFIRMATIONS=grouped): its
     * confirmation goes with the others of its event confirmed within DOOR_GROUP_WINDOW_MS, in one
     * door-confirmations flow of at most DOOR_CONFIRMATIONS_PER_FLOW; its own workflow waits in the
     * outbox until needed.
     */
    confirmAtDoorSoon(eventId: string, signupId: string, start: WorkflowStartValues): void {
      const group = confirmedAtDoor.get(eventId) ?? { rows: [] };
      confirmedAtDoor.set(eventId, group);
      group.rows.push(startRowOf(signupId, 'confirmed', start));
      const flush = () => {
        clearTimeout(group.timer);
        confirmedAtDoor.delete(eventId);
        queue.push({ run: () => startDoorConfirmations(eventId, group.rows), about: { eventId, doorGroup: group.rows[0]?.signup_id ?? '' } });
        drain();
      };
      if (group.rows.length >= DOOR_CONFIRMATIONS_PER_FLOW) flush();
      else group.timer ??= setTimeout(flush, DOOR_GROUP_WINDOW_MS);
    },

    /**
     * The event is over: its door-confirmations flows end, and the rows kept for their signups go
     * (those signups never need a workflow now). Told before the rows go, so a retry tells them again.
     */
    async finishDoorConfirmations(eventId: string): Promise<number> {
      const connection = deps.orm.em.getConnection();
      const flows = await connection.execute<{ door_flow_id: string }[]>(
        `select distinct w.door_flow_id from signup_workflow_start w join signup s on s.id = w.signup_id
          where s.event_id = ? and w.door_flow_id is not null`,
        [eventId],
      );
      for (const { door_flow_id: flowId } of flows) {
        try {
          await deps.temporal.workflow.getHandle(flowId).signal(eventFinishedSignal);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
      }
      await connection.execute(
        `delete from signup_workflow_start w using signup s where s.id = w.signup_id and s.event_id = ? and w.door_flow_id is not null`,
        [eventId],
        'run',
      );
      return flows.length;
    },

    /**
     * Cancels a signup a door-confirmations flow stands for, without a workflow (a free signup the
     * API confirmed at the door, never needed since): its seats go back through the ledger and its
     * kept row now starts its workflow as cancelled, in one commit, due for a sweep should this
     * process die before the start. The start follows in the background; it tells the door flow, and
     * the workflow tells those offered and the participant. So the cancel is answered at the commit,
     * under a burst as when Temporal is down. With nobody on the event's waiting list that is one
     * statement (the ledger's cancelAtDoor); otherwise the ledger's cancelSignup, which offers the
     * seats, in a transaction that locks the row first. A start of its workflow for something else
     * (an erasure) that read the row before is then told by its own cancel that the signup is over.
     * False, with nothing written, when the signup has no such row (it has a workflow of its own, or
     * is being given one): the cancel goes to that workflow.
     */
    async cancelAtDoor(signupId: string, request: CancelRequest): Promise<boolean> {
      const cancelled: CancelledAtDoor = { by: request.by, ...(request.reason ? { reason: request.reason } : {}), offers: [] };
      const rewrite = (values: CancelledAtDoor) => ({
        set: `status = 'cancelled', input = input || ?::jsonb, attempts = 0, last_error = null, next_attempt_at = now() + make_interval(secs => ?)`,
        params: [JSON.stringify({ cancelledAtDoor: values }), OWN_ATTEMPT_SECONDS],
      });
      const em = deps.orm.em.fork();
      const fast = await cancelAtDoor<StartRow>(em, { signupId, ...cancelled }, rewrite(cancelled));
      let started = fast?.row;
      if (fast?.waitlistEnabled) {
        // Somebody joined the waiting list while the statement ran (it saw nobody there): the seats go to them now.
        const offers = await em.transactional((tx) => offerFreeSeatsIn(tx, { eventId: fast.eventId, offerSeconds: fast.row.input.offerTimeoutSeconds, now: new Date() }));
        for (const offer of offers) void tellOffered(offer);
      }
      // Somebody waits on the event's list: the ledger's transactional cancel, which offers them the seats.
      started ??= await em
        .transactional(async (tx) => {
          const [kept] = await tx.execute<StartRow[]>('select * from signup_workflow_start where signup_id = ? and door_flow_id is not null for update', [signupId]);
          if (!kept) return undefined;
          const move = await cancelSignup(tx, { signupId, ...cancelled, offerSeconds: kept.input.offerTimeoutSeconds });
          if (move.previousStatus !== 'confirmed') throw new NotConfirmedAtDoor();
          const { set, params } = rewrite({ ...cancelled, offers: move.offers });
          const [row] = await tx.execute<StartRow[]>(`update signup_workflow_start set ${set} where signup_id = ? returning *`, [...params, signupId]);
          return row;
        })
        .catch((error: unknown) => {
          if (error instanceof NotConfirmedAtDoor) return undefined; // rolled back: the workflow's update decides
          throw error;
        });
      if (!started) return false;
      // The worker's seat activities count their moves; this one is the API's.
      countSeatMove('cancelAtDoor', { status: 'cancelled' });
      const row = started;
      queue.push({ run: () => startRow(row), about: { signupId } });
      drain();
      return true;
    },

    /** After a commit that wrote rows to another outbox: deliver that key's rows in the background. */
    deliverSoon(outbox: WorkflowOutbox, key: string): void {
      queue.push({ run: () => outbox.deliver(key), about: { outbox: outbox.name, key } });
      drain();
    },

    /**
     * Starts the signup's workflow now if it is still in the outbox; true if it was (callers that
     * met WorkflowNotFoundError then try again). Used where a command may beat the start.
     */
    async ensureStarted(signupId: string): Promise<boolean> {
      const row = await pendingRow(signupId);
      if (!row) return false;
      await startRow(row);
      return true;
    },

    /**
     * Sends an update to a signup's workflow and answers its result. If Temporal has not heard of the
     * workflow because its start is still in the outbox, starts it with the update in the same call
     * (update-with-start: its first workflow task carries the update, one trip through the server's
     * queues instead of a start, then an update).
     */
    async update<Ret, Args extends [unknown, ...unknown[]]>(signup: { id: string; workflowId: string }, update: UpdateDefinition<Ret, Args>, args: Args): Promise<Ret> {
      const send = () => deps.temporal.workflow.getHandle(signup.workflowId).executeUpdate(update, { args });
      try {
        return await send();
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
      const row = await pendingRow(signup.id);
      // Started meanwhile (a sweep, another command), or never recorded: as Temporal answers now.
      if (!row) return send();
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof signupWorkflow>(workflowTypes.signup, {
        ...startOptionsOf(row),
        // Started meanwhile (a sweep, another command): the update goes to that run.
        workflowIdConflictPolicy: 'USE_EXISTING',
        // Above the default (3): somebody waits on its first task, which has no cached run to be
        // answered from and would otherwise queue behind a burst's new workflows.
        priority: { priorityKey: 1 },
      });
      const result = await deps.temporal.workflow.executeUpdateWithStart(update, { args, startWorkflowOperation });
      signupWorkflowStartsTotal.inc({ outcome: 'started' });
      await forgetRow(signup.id);
      return result;
    },

    /**
     * Starts the rows that are due: left by a process that died, or whose start failed. Rows are
     * claimed by moving their next attempt ahead (SKIP LOCKED), so two sweeps never take the same one.
     * Then the same for every other outbox. Answers how many rows or keys were delivered.
     */
    async sweep(limit = 100): Promise<number> {
      const rows = await deps.orm.em.getConnection().execute<StartRow[]>(
        `update signup_workflow_start set next_attempt_at = now() + make_interval(secs => ?)
          where signup_id in (select signup_id from signup_workflow_start where next_attempt_at <= now()
                               order by next_attempt_at limit ? for update skip locked)
          returning *`,
        [OWN_ATTEMPT_SECONDS, limit],
      );
      const results = await Promise.allSettled(rows.map((row) => startRow(row)));
      let failed = results.filter((result) => result.status === 'rejected').length;
      if (failed > 0) deps.logger?.warn({ failed, of: rows.length }, 'signup workflow starts failed; retried with backoff');
      let claimed = rows.length;
      for (const outbox of deps.outboxes ?? []) {
        const keys = await outbox.claimDue(limit, OWN_ATTEMPT_SECONDS);
        const delivered = await Promise.allSettled(keys.map((key) => outbox.deliver(key)));
        const outboxFailed = delivered.filter((result) => result.status === 'rejected').length;
        if (outboxFailed > 0) deps.logger?.warn({ outbox: outbox.name, failed: outboxFailed, of: keys.length }, 'outbox deliveries failed; retried with backoff');
        claimed += keys.length;
        failed += outboxFailed;
      }
      return claimed - failed;
    },

    /** Sweeps every `seconds` until stop(); the timer does not keep the process alive. */
    sweepEvery(seconds: number): void {
      sweeping ??= setInterval(() => {
        starter.sweep().catch((error: unknown) => deps.logger?.error({ err: error }, 'signup workflow start sweep failed'));
      }, seconds * 1000).unref();
    },

    /** Stops sweeping and waits for the deliveries in flight; queued ones (and door groups not yet sent) stay in their outbox for a sweep. */
    async stop(): Promise<void> {
      if (sweeping) clearInterval(sweeping);
      sweeping = undefined;
      for (const group of confirmedAtDoor.values()) clearTimeout(group.timer);
      confirmedAtDoor.clear();
      queue.length = 0;
      await Promise.allSettled([...inFlight]);
    },
  };
  return starter;
}

export type SignupWorkflowStarter = ReturnType<typeof createSignupWorkflowStarter>;

/**
 * Sends something to a signup's workflow; if Temporal has not heard of it because its start is
 * still in the outbox, starts it and sends again. (An update: the starter's `update`, which starts
 * and updates in one call.)
 */
export async function toSignupWorkflow<T>(
  starter: SignupWorkflowStarter,
  signupId: string,
  send: () => Promise<T>,
): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError) || !(await starter.ensureStarted(signupId))) throw error;
    return send();
  }
}
