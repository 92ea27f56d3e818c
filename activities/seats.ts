import type { MikroORM } from '@mikro-orm/postgresql';
import { confirmSeats, holdSeats, releaseHold } from '../src/signups/seats.js';
import type { SignupStatus } from '../src/signups/status.js';

/** Seat activities: each forks its own entity manager and runs one transaction from src/signups/seats.ts. */
export function createSeatActivities(orm: MikroORM) {
  return {
    async holdSeats(input: {
      signupId: string;
      holdSeconds: number;
    }): Promise<{ status: SignupStatus; holdExpiresAt?: string; reason?: string }> {
      const outcome = await holdSeats(orm.em.fork(), input);
      if (outcome.status === 'held') return { status: 'held', holdExpiresAt: outcome.holdExpiresAt.toISOString() };
      if (outcome.status === 'rejected') return { status: 'rejected', reason: outcome.reason };
      return { status: outcome.status };
    },

    async confirmSeats(input: { signupId: string }): Promise<SignupStatus> {
      return confirmSeats(orm.em.fork(), input);
    },

    async releaseHold(input: { signupId: string }): Promise<SignupStatus> {
      return releaseHold(orm.em.fork(), input);
    },
  };
}
