import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Config } from '../config.js';
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
import type { LifecycleHooks } from './admin-service.js';

/**
 * The admin service's hooks, as calls to the event's lifecycle workflow (`event-<id>`). Changes and
 * cancellations use signal-with-start, so they reach the workflow even if it was never started (an
 * event published before this existed) or its start was lost.
 */
export function createLifecycleHooks(deps: { temporal: Client; taskQueue: string; lifecycle: Config['lifecycle'] }): LifecycleHooks {
  const startOptions = (event: { id: string; market?: string; summary?: string }) => {
    const input: EventLifecycleInput = {
      eventId: event.id,
      reminderOffsetsSeconds: deps.lifecycle.reminderOffsetsSeconds,
      retentionSeconds: (event.market ? deps.lifecycle.retentionSecondsByMarket[event.market] : undefined) ?? deps.lifecycle.retentionSeconds,
    };
    return {
      workflowId: workflowIds.eventLifecycle(event.id),
      taskQueue: deps.taskQueue,
      args: [input] as [EventLifecycleInput],
      typedSearchAttributes: [
        { key: searchAttributes.eventId, value: event.id },
        { key: searchAttributes.flowKind, value: flowKinds.eventLifecycle },
        { key: searchAttributes.eventPhase, value: 'scheduled' },
        ...(event.market ? [{ key: searchAttributes.market, value: event.market }] : []),
      ],
      ...(event.summary ? { memo: { summary: event.summary } } : {}),
    };
  };

  return {
    async published(event) {
      try {
        await deps.temporal.workflow.start<typeof eventLifecycleWorkflow>(workflowTypes.eventLifecycle, startOptions(event));
      } catch (error) {
        // Published again after a withdrawal while the old run is still finishing, or a retried call.
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    },
    async rescheduled(eventId, version) {
      await deps.temporal.workflow.signalWithStart<typeof eventLifecycleWorkflow, [{ version: number }]>(workflowTypes.eventLifecycle, {
        ...startOptions({ id: eventId }),
        signal: eventChangedSignal,
        signalArgs: [{ version }],
      });
    },
    async withdrawn(eventId) {
      try {
        await deps.temporal.workflow.getHandle(workflowIds.eventLifecycle(eventId)).signal(eventWithdrawnSignal);
      } catch {
        // Nothing running: nothing to withdraw.
      }
    },
    async cancelled(eventId, reason) {
      await deps.temporal.workflow.signalWithStart<typeof eventLifecycleWorkflow, [{ reason: string }]>(workflowTypes.eventLifecycle, {
        ...startOptions({ id: eventId }),
        signal: cancelEventSignal,
        signalArgs: [{ reason }],
      });
    },
  };
}
