import type { MikroORM } from '@mikro-orm/postgresql';
import { Context } from '@temporalio/activity';
import {
  awaitConsent,
  cancelSignup,
  confirmSeats,
  holdSeats,
  readGuardianDecision,
  readSeatState,
  rejectSignup,
  reinstateAfterLatePayment,
  releaseHold,
} from '../src/signups/seats.js';
import { confirmationsTotal, countSeatMove } from '../src/observability/metrics.js';

/**
 * The key of the seat move this activity makes: the same for every attempt of the activity (its
 * workflow, run and activity id), so a retry finds the outcome an earlier attempt recorded, even one
 * that committed after its StartToClose timeout (src/signups/seats.ts). Called outside an activity
 * (tests that call these functions directly), there is no attempt to repeat and no key.
 */
function moveIdOfThisActivity(): string | undefined {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  const run = info.workflowExecution;
  return run ? `${run.workflowId}/${run.runId}/${info.activityId}` : undefined;
}

/** Seat activities: each forks its own entity manager and runs one transaction from src/signups/seats.ts. */
export function createSeatActivities(orm: MikroORM) {
  const em = () => orm.em.fork();
  const keyed = <T extends object>(input: T) => ({ ...input, moveId: moveIdOfThisActivity() });
  return {
    holdSeats: async (input: { signupId: string; holdSeconds: number; allowWaitlist: boolean; offerSeconds?: number }) =>
      countSeatMove('holdSeats', await holdSeats(em(), keyed(input))),
    confirmSeats: async (input: { signupId: string; paid: boolean }) => {
      const moved = countSeatMove('confirmSeats', await confirmSeats(em(), keyed(input)));
      if (moved.status === 'confirmed') confirmationsTotal.inc({ paid: String(input.paid) });
      return moved;
    },
    releaseHold: async (input: { signupId: string; offerSeconds: number }) => countSeatMove('releaseHold', await releaseHold(em(), keyed(input))),
    cancelSignup: async (input: { signupId: string; by: 'participant' | 'organizer'; reason?: string; offerSeconds: number }) =>
      countSeatMove('cancelSignup', await cancelSignup(em(), keyed(input))),
    rejectSignup: async (input: { signupId: string; reason: string }) => countSeatMove('rejectSignup', await rejectSignup(em(), keyed(input))),
    awaitConsent: (input: { signupId: string }) => awaitConsent(em(), keyed(input)),
    readGuardianDecision: (input: { signupId: string }) => readGuardianDecision(em(), input.signupId),
    readSeatState: (input: { signupId: string }) => readSeatState(em(), input.signupId),
    // The reinstated hold only bridges the step to confirmation, which follows at once.
    reinstateAfterLatePayment: async (input: { signupId: string; offerSeconds?: number }) =>
      countSeatMove('reinstateAfterLatePayment', await reinstateAfterLatePayment(em(), { ...keyed(input), holdSeconds: 300 })),
  };
}
