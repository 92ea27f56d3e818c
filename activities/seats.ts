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

/** Seat activities: each forks its own entity manager and runs one transaction from src/signups/seats.ts. */
export function createSeatActivities(orm: MikroORM) {
  const em = () => orm.em.fork();
  return {
    holdSeats: (input: { signupId: string; holdSeconds: number; allowWaitlist: boolean }) => holdSeats(em(), input),
    confirmSeats: (input: { signupId: string; paid: boolean }) => confirmSeats(em(), input),
    releaseHold: (input: { signupId: string; offerSeconds: number }) => releaseHold(em(), input),
    cancelSignup: (input: { signupId: string; by: 'participant' | 'organizer'; reason?: string; offerSeconds: number }) =>
      cancelSignup(em(), input),
    rejectSignup: (input: { signupId: string; reason: string }) => rejectSignup(em(), input),
    awaitConsent: (input: { signupId: string }) => awaitConsent(em(), input),
    readGuardianDecision: (input: { signupId: string }) => readGuardianDecision(em(), input.signupId),
    readSeatState: (input: { signupId: string }) => readSeatState(em(), input.signupId),
    // The reinstated hold only bridges the step to confirmation, which follows at once.
    reinstateAfterLatePayment: (input: { signupId: string }) => reinstateAfterLatePayment(em(), { ...input, holdSeconds: 300 }),
  };
}
