import { ActivityFailure, condition, log, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { doorSignupLeftSignal, eventFinishedSignal, searchAttributes, type DoorConfirmationsInput } from '../src/temporal/contract.js';

// As a signup workflow's mails: sent at most once per key (the notification log), so retries never
// send twice, and after the last attempt the flow logs it and goes on. The activity heartbeats each
// signup it is done with, so a retry goes on from there.
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/**
 * Free signups the API confirmed at the door together: their confirmation mails, then the flow stands
 * for them in Temporal (EventId, SignupStatus `confirmed`, SignupIds) until the event is over. Each
 * signup has no workflow of its own until something needs one (a cancel, an organizer's removal, an
 * erasure, the event's cancellation): src/signups/workflow-starts.ts starts it then, from the outbox
 * row kept for it, and tells this flow, which stops listing it. A confirmed signup costs Temporal a
 * share of one flow instead of a flow each (docs/architecture.md, "Door confirmations").
 */
export async function doorConfirmationsWorkflow(input: DoorConfirmationsInput): Promise<{ eventId: string; signupIds: string[] }> {
  const standingFor = new Set(input.signupIds);
  let eventFinished = false;
  setHandler(eventFinishedSignal, () => void (eventFinished = true));
  setHandler(doorSignupLeftSignal, (signupId) => {
    if (!standingFor.delete(signupId)) return;
    upsertSearchAttributes([{ key: searchAttributes.signupIds, value: [...standingFor] }]);
  });

  try {
    // The same key per signup as its own workflow's confirmation (confirmation:<signupId>): one
    // that starts later (or was started by the outbox's sweep as well) finds it sent.
    await mail.sendDoorConfirmations({ signupIds: input.signupIds });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.error('door confirmations not all sent', { eventId: input.eventId, error: error.message });
  }
  await condition(() => eventFinished || standingFor.size === 0);
  return { eventId: input.eventId, signupIds: [...standingFor] };
}
