import { LockMode, type QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { LiveEvent } from '../events/event.entity.js';
import { Signup } from './signup.entity.js';
import { nextSignupStatus, type SignupStatus } from './status.js';

/**
 * The one code path that moves seats. Each function is one transaction that locks the signup row,
 * checks the move against the status table, moves the event's counters with a single conditional
 * UPDATE and writes the signup's new status, so counters and rows can never disagree.
 * Each is idempotent: called again after it succeeded (an activity retry), it changes nothing
 * and answers the state already reached.
 */

export type HoldOutcome =
  | { status: 'held'; holdExpiresAt: Date }
  | { status: 'rejected'; reason: string }
  | { status: Exclude<SignupStatus, 'held' | 'rejected'> };

export async function holdSeats(
  em: EntityManager,
  input: { signupId: string; holdSeconds: number; now?: Date },
): Promise<HoldOutcome> {
  return em.transactional(async (tx) => {
    const signup = await lockSignup(tx, input.signupId);
    if (signup.status !== 'requested') return outcomeOf(signup);

    // The capacity check and the increment are one statement: two concurrent holds cannot both
    // see the last seat free.
    const reserved = await tx.execute<QueryResult>(
      `update "event" set held_count = held_count + ?, updated_at = now()
        where id = ? and status = 'published' and held_count + confirmed_count + ? <= capacity`,
      [signup.seats, signup.event.id, signup.seats],
      'run',
    );
    if (reserved.affectedRows === 1) {
      const now = input.now ?? new Date();
      signup.status = transition(signup, 'hold');
      signup.holdExpiresAt = new Date(now.getTime() + input.holdSeconds * 1000);
    } else {
      const event = await tx.findOneOrFail(LiveEvent, signup.event.id);
      signup.status = transition(signup, 'reject');
      signup.rejectionReason = event.status === 'published' ? 'sold_out' : 'event_not_open';
    }
    return outcomeOf(signup);
  });
}

/** Turns held seats into confirmed ones. Answers the status the signup is in afterwards. */
export async function confirmSeats(em: EntityManager, input: { signupId: string; now?: Date }): Promise<SignupStatus> {
  return em.transactional(async (tx) => {
    const signup = await lockSignup(tx, input.signupId);
    if (signup.status !== 'held') return signup.status;
    await moveCounters(tx, signup.event.id, { held: -signup.seats, confirmed: signup.seats });
    signup.status = transition(signup, 'confirm');
    signup.confirmedAt = input.now ?? new Date();
    return signup.status;
  });
}

/** Gives held seats back. Answers the status the signup is in afterwards. */
export async function releaseHold(em: EntityManager, input: { signupId: string; now?: Date }): Promise<SignupStatus> {
  return em.transactional(async (tx) => {
    const signup = await lockSignup(tx, input.signupId);
    if (signup.status !== 'held') return signup.status;
    await moveCounters(tx, signup.event.id, { held: -signup.seats, confirmed: 0 });
    signup.status = transition(signup, 'release');
    signup.releasedAt = input.now ?? new Date();
    return signup.status;
  });
}

async function lockSignup(tx: EntityManager, signupId: string): Promise<Signup> {
  return tx.findOneOrFail(Signup, signupId, { lockMode: LockMode.PESSIMISTIC_WRITE });
}

async function moveCounters(
  tx: EntityManager,
  eventId: string,
  delta: { held: number; confirmed: number },
): Promise<void> {
  await tx.execute<QueryResult>(
    `update "event" set held_count = held_count + ?, confirmed_count = confirmed_count + ?, updated_at = now()
      where id = ?`,
    [delta.held, delta.confirmed, eventId],
    'run',
  );
}

function transition(signup: Signup, move: Parameters<typeof nextSignupStatus>[1]): SignupStatus {
  const next = nextSignupStatus(signup.status, move);
  if (!next) throw new Error(`signup ${signup.id}: cannot ${move} from ${signup.status}`);
  return next;
}

function outcomeOf(signup: Signup): HoldOutcome {
  if (signup.status === 'held') return { status: 'held', holdExpiresAt: signup.holdExpiresAt ?? new Date(0) };
  if (signup.status === 'rejected') return { status: 'rejected', reason: signup.rejectionReason ?? 'unknown' };
  return { status: signup.status };
}
