import type { MikroORM } from '@mikro-orm/postgresql';
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

/** Seat activities: each forks its own entity manager and runs one transaction from src/signups/seats.ts. */
export function createSeatActivities(orm: MikroORM) {
  const em = () => orm.em.fork();
  return {
    holdSeats: async (input: { signupId: string; holdSeconds: number; allowWaitlist: boolean }) => countSeatMove('holdSeats', await holdSeats(em(), input)),
    confirmSeats: async (input: { signupId: string; paid: boolean }) => {
      const moved = countSeatMove('confirmSeats', await confirmSeats(em(), input));
      if (moved.status === 'confirmed') confirmationsTotal.inc({ paid: String(input.paid) });
      return moved;
    },
    releaseHold: async (input: { signupId: string; offerSeconds: number }) => countSeatMove('releaseHold', await releaseHold(em(), input)),
    cancelSignup: async (input: { signupId: string; by: 'participant' | 'organizer'; reason?: string; offerSeconds: number }) =>
      countSeatMove('cancelSignup', await cancelSignup(em(), input)),
    rejectSignup: async (input: { signupId: string; reason: string }) => countSeatMove('rejectSignup', await rejectSignup(em(), input)),
    awaitConsent: (input: { signupId: string }) => awaitConsent(em(), input),
    readGuardianDecision: (input: { signupId: string }) => readGuardianDecision(em(), input.signupId),
    readSeatState: (input: { signupId: string }) => readSeatState(em(), input.signupId),
    // The reinstated hold only bridges the step to confirmation, which follows at once.
    reinstateAfterLatePayment: async (input: { signupId: string }) =>
      countSeatMove('reinstateAfterLatePayment', await reinstateAfterLatePayment(em(), { ...input, holdSeconds: 300 })),
  };
}
