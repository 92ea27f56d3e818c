import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../config.js';
import { retryDelaySeconds, type WorkflowOutbox } from '../signups/workflow-starts.js';
import {
  cancelEventSignal,
  eventChangedSignal,
  eventWithdrawnSignal,
  flowKinds,
  searchAttributes,
  workflowIds,
  workflowTypes,
  type EventLifecycleInput,
} from '../temporal/contract.js';
import type { eventLifecycleWorkflow } from '../../workflows/event-lifecycle.js';
import { LifecycleCommand, type LifecycleCommandKind } from './lifecycle-command.entity.js';

/**
 * The event lifecycle workflow (`event-<id>`) is told of admin changes through an outbox, like
 * signup workflows are started (src/signups/workflow-starts.ts, whose relay delivers this outbox
 * too). Each change writes an event_lifecycle_command row in its own transaction, so a publish
 * that commits has its lifecycle start committed with it, whatever happens to Temporal or this
 * process afterwards; the relay delivers the rows of one event oldest first and deletes each once
 * Temporal has it, retrying with backoff until then:
 *
 * - `start`: workflow.start (already running counts as started: a retried delivery, or published
 *   again while the withdrawn run is finishing);
 * - `changed`, `cancelled`: signal-with-start, so they reach the workflow even if its start was
 *   lost (an event published before this outbox existed);
 * - `withdrawn`: a signal; "not found" means no run to withdraw (its start was never delivered:
 *   unpublishing deletes a pending start), anything else is retried, never swallowed.
 */

/** Where and with which settings this process's lifecycles run (the API's and the seed script's config). */
export interface LifecycleStartSettings {
  taskQueue: string;
  lifecycle: Config['lifecycle'];
}

/** How long after its commit a row is left to the process that wrote it, before a sweep may take it. */
const OWN_ATTEMPT_SECONDS = 30;
/** Each delivery's Temporal calls get this long: a cut connection fails the attempt, the row waits for a retry. */
const DELIVERY_DEADLINE_MS = 10_000;

export type LifecycleCommandInput =
  | { kind: 'start' }
  | { kind: 'changed'; version: number }
  | { kind: 'withdrawn' }
  | { kind: 'cancelled'; reason: string };

/** Writes the row in the caller's transaction (flushed with the change it belongs to). */
export function recordLifecycleCommand(
  em: EntityManager,
  settings: LifecycleStartSettings,
  event: { id: string; market: string; summary: string },
  command: LifecycleCommandInput,
  now: Date,
): void {
  const input: EventLifecycleInput = {
    eventId: event.id,
    reminderOffsetsSeconds: settings.lifecycle.reminderOffsetsSeconds,
    retentionSeconds: settings.lifecycle.retentionSecondsByMarket[event.market] ?? settings.lifecycle.retentionSeconds,
  };
  em.create(LifecycleCommand, {
    eventId: event.id,
    kind: command.kind,
    taskQueue: settings.taskQueue,
    input,
    market: event.market,
    summary: event.summary,
    version: command.kind === 'changed' ? command.version : null,
    reason: command.kind === 'cancelled' ? command.reason : null,
    nextAttemptAt: new Date(now.getTime() + OWN_ATTEMPT_SECONDS * 1000),
  });
}

/**
 * The event went back to draft: a start (or move) not delivered yet is dropped, in the caller's
 * transaction, so no workflow is started for a draft. The withdrawal itself is still recorded: the
 * start may have reached Temporal just before its row was deleted.
 */
export async function dropPendingLifecycleStart(em: EntityManager, eventId: string): Promise<void> {
  await em.nativeDelete(LifecycleCommand, { eventId, kind: { $in: ['start', 'changed'] } });
}

interface CommandRow {
  id: string;
  event_id: string;
  kind: LifecycleCommandKind;
  task_queue: string;
  input: EventLifecycleInput;
  market: string;
  summary: string;
  version: number | null;
  reason: string | null;
  attempts: number;
}

export function createLifecycleOutbox(deps: { orm: MikroORM; temporal: Client }): WorkflowOutbox {
  const connection = () => deps.orm.em.getConnection();
  /** One delivery per event at a time in this process, so its rows go out in order. */
  const running = new Map<string, Promise<void>>();

  function startOptions(row: CommandRow) {
    return {
      workflowId: workflowIds.eventLifecycle(row.event_id),
      taskQueue: row.task_queue,
      args: [row.input] as [EventLifecycleInput],
      typedSearchAttributes: [
        { key: searchAttributes.eventId, value: row.event_id },
        { key: searchAttributes.flowKind, value: flowKinds.eventLifecycle },
        { key: searchAttributes.eventPhase, value: 'scheduled' },
        { key: searchAttributes.market, value: row.market },
      ],
      memo: { summary: row.summary },
    };
  }

  async function send(row: CommandRow): Promise<void> {
    const workflow = deps.temporal.workflow;
    switch (row.kind) {
      case 'start':
        try {
          await workflow.start<typeof eventLifecycleWorkflow>(workflowTypes.eventLifecycle, startOptions(row));
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
        return;
      case 'changed':
        await workflow.signalWithStart<typeof eventLifecycleWorkflow, [{ version: number }]>(workflowTypes.eventLifecycle, {
          ...startOptions(row),
          signal: eventChangedSignal,
          signalArgs: [{ version: row.version ?? 0 }],
        });
        return;
      case 'cancelled':
        await workflow.signalWithStart<typeof eventLifecycleWorkflow, [{ reason: string }]>(workflowTypes.eventLifecycle, {
          ...startOptions(row),
          signal: cancelEventSignal,
          signalArgs: [{ reason: row.reason ?? 'cancelled' }],
        });
        return;
      case 'withdrawn':
        try {
          await workflow.getHandle(workflowIds.eventLifecycle(row.event_id)).signal(eventWithdrawnSignal);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        }
        return;
    }
  }

  async function deliverRows(eventId: string): Promise<void> {
    const rows = await connection().execute<CommandRow[]>(
      'select * from event_lifecycle_command where event_id = ? order by id',
      [eventId],
    );
    for (const row of rows) {
      try {
        await deps.temporal.connection.withDeadline(Date.now() + DELIVERY_DEADLINE_MS, () => send(row));
      } catch (error) {
        // Every row of the event waits as long, so none overtakes this one.
        await connection().execute(
          `update event_lifecycle_command set attempts = attempts + case when id = ? then 1 else 0 end,
                  last_error = case when id = ? then ? else last_error end,
                  next_attempt_at = now() + make_interval(secs => ?)
            where event_id = ?`,
          [row.id, row.id, String(error), retryDelaySeconds(row.attempts + 1), eventId],
          'run',
        );
        throw error;
      }
      await connection().execute('delete from event_lifecycle_command where id = ?', [row.id], 'run');
    }
  }

  return {
    name: 'event-lifecycle',

    deliver(eventId: string): Promise<void> {
      const previous = running.get(eventId) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => deliverRows(eventId));
      running.set(eventId, next);
      return next.finally(() => {
        if (running.get(eventId) === next) running.delete(eventId);
      });
    },

    async claimDue(limit: number, claimSeconds: number): Promise<string[]> {
      // Claims whole events (every row of one event moves together), so a sweep delivers an
      // event's rows in order; SKIP LOCKED keeps two sweeps off the same rows.
      const rows = await connection().execute<{ event_id: string }[]>(
        `update event_lifecycle_command set next_attempt_at = now() + make_interval(secs => ?)
          where id in (select id from event_lifecycle_command
                        where event_id in (select event_id from event_lifecycle_command where next_attempt_at <= now()
                                            order by next_attempt_at limit ?)
                        for update skip locked)
          returning event_id`,
        [claimSeconds, limit],
      );
      return [...new Set(rows.map((row) => row.event_id))];
    },
  };
}
