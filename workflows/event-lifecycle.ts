import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  condition,
  continueAsNew,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  lifecyclePhase,
  nextLifecycleStep,
  remindersSettledByMove,
  type LifecyclePlan,
  type LifecycleStep,
} from '../src/events/lifecycle-schedule.js';
import {
  cancelEventSignal,
  eventChangedSignal,
  eventLifecycleQuery,
  eventWithdrawnSignal,
  flowKinds,
  workflowTypes,
  searchAttributes,
  workflowIds,
  type EventLifecycleInput,
} from '../src/temporal/contract.js';
import type { eventRetentionWorkflow } from './event-retention.js';

// Reading the event is one short query; retry through database trouble.
const events = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

// Fan-outs page through thousands of signups or users: long, so they heartbeat (a worker that dies
// mid-way is noticed within the heartbeat timeout and the retry resumes after the last one done).
// 15 s rather than a minute: the activity heartbeats every few seconds while it lives, also while
// one recipient's step is slow (see fanOut in activities/lifecycle.ts), so a short timeout costs
// nothing on a healthy worker and a crashed one delays an event cancellation by 15 s, not 60
// (test/integration/event-cancellation.test.ts kills the worker mid fan-out).
const FAN_OUT_HEARTBEAT_TIMEOUT = '15 seconds';
const fanOuts = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: FAN_OUT_HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
});

/**
 * Released change: a cancelled event's personal data is purged too, a retention period after the
 * cancellation (before it, a cancelled event kept it for good). Histories recorded before it replay
 * without the retention flow's start.
 */
const purgeAfterCancellationPatch = 'purge-after-cancellation';

/** Past this many history events the workflow continues as new, carrying only what it has done. */
const HISTORY_LIMIT = 5_000;

/**
 * One event, from publication to the purge of its personal data: sleeps until each date and acts
 * (announce, open and close signups, remind, complete, purge). A change of dates or venue wakes it:
 * it recomputes its timers and tells participants once. A cancellation cancels every signup through
 * its own workflow. No cron job anywhere: these timers are the schedule.
 */
export async function eventLifecycleWorkflow(input: EventLifecycleInput): Promise<{ eventId: string; phase: string }> {
  const { eventId } = input;
  const done = new Set(input.done ?? []);
  const changes: number[] = [];
  let changeVersion: number | undefined;
  let cancelReason: string | undefined;
  let withdrawn = false;
  let next: LifecycleStep | undefined;

  setHandler(eventChangedSignal, ({ version }) => {
    changeVersion = Math.max(changeVersion ?? 0, version);
  });
  setHandler(cancelEventSignal, ({ reason }) => {
    cancelReason ??= reason;
  });
  setHandler(eventWithdrawnSignal, () => {
    withdrawn = true;
  });
  setHandler(eventLifecycleQuery, () => ({
    phase: cancelReason !== undefined ? 'cancelled' : lifecyclePhase(done),
    next: next ? { key: next.key, at: next.at } : null,
    done: [...done],
    changesAnnounced: [...changes],
  }));

  const setPhase = (phase: string) => upsertSearchAttributes([{ key: searchAttributes.eventPhase, value: phase }]);
  const interrupted = () => changeVersion !== undefined || cancelReason !== undefined || withdrawn;

  let loaded = await loadPlan();
  setPhase(lifecyclePhase(done));

  for (;;) {
    if (withdrawn) return finish('withdrawn');
    if (cancelReason !== undefined || loaded.status === 'cancelled') return cancelEverything(cancelReason ?? 'cancelled');
    if (changeVersion !== undefined) {
      const version = changeVersion;
      changeVersion = undefined;
      loaded = await loadPlan();
      for (const key of remindersSettledByMove(loaded.plan, done, new Date(loaded.now))) done.add(key);
      if (!changes.includes(version)) {
        await fanOuts.announceChange({ eventId, version });
        changes.push(version);
      }
      continue;
    }

    const { step, skip } = nextLifecycleStep(loaded.plan, done, new Date(loaded.now));
    for (const skipped of skip) done.add(skipped.key);
    next = step;
    if (!step) return finish(lifecyclePhase(done));

    const waitMs = Date.parse(step.at) - Date.parse(loaded.now);
    if (waitMs > 0 && (await condition(interrupted, waitMs))) continue;

    loaded = { ...loaded, now: (await act(step, loaded.plan)).now };
    done.add(step.key);
    setPhase(lifecyclePhase(done));

    if (workflowInfo().historyLength > HISTORY_LIMIT) {
      await continueAsNew<typeof eventLifecycleWorkflow>({ ...input, done: [...done] });
    }
  }

  async function loadPlan(): Promise<{ now: string; status: string; plan: LifecyclePlan }> {
    return events.loadLifecyclePlan({
      eventId,
      reminderOffsetsSeconds: input.reminderOffsetsSeconds,
      retentionSeconds: input.retentionSeconds,
    });
  }

  async function act(step: LifecycleStep, plan: LifecyclePlan): Promise<{ now: string }> {
    switch (step.action.kind) {
      case 'announce':
        return fanOuts.announceEvent({ eventId });
      case 'open-signups':
        return fanOuts.openSignups({ eventId });
      case 'close-signups':
        return fanOuts.closeSignups({ eventId });
      case 'remind':
        return fanOuts.sendReminders({ eventId, offsetSeconds: step.action.offsetSeconds, startsAt: plan.dates.startsAt });
      case 'complete':
        return fanOuts.completeEvent({ eventId });
      case 'purge':
        return fanOuts.purgePersonalData({ eventId });
    }
  }

  async function cancelEverything(reason: string): Promise<{ eventId: string; phase: string }> {
    setPhase('cancelled');
    next = undefined;
    await fanOuts.cancelEventSignups({ eventId, reason });
    if (patched(purgeAfterCancellationPatch)) await purgeLater();
    return { eventId, phase: 'cancelled' };
  }

  /**
   * The purge of a cancelled event, in a flow of its own that outlives this one (so the lifecycle's
   * result still says `cancelled` at once, and its waiting shows in the Temporal UI by EventId).
   */
  async function purgeLater(): Promise<void> {
    try {
      await startChild<typeof eventRetentionWorkflow>(workflowTypes.eventRetention, {
        workflowId: workflowIds.eventRetention(eventId),
        args: [{ eventId, retentionSeconds: input.retentionSeconds }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: searchAttributes.eventId, value: eventId },
          { key: searchAttributes.flowKind, value: flowKinds.eventRetention },
        ],
      });
    } catch (error) {
      // A second cancellation's run of this lifecycle: the first one's purge is already waiting.
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  function finish(phase: string): { eventId: string; phase: string } {
    setPhase(phase);
    return { eventId, phase };
  }
}
