/**
 * What an app may tell a visitor about getting a seat, decided from the event's counters and
 * signup window at one moment. Pure: the catalog reads the values, this decides.
 */
import { spotsLeft } from './rules.js';

export type SignupState = 'not-open-yet' | 'open' | 'closed';

export interface AvailabilityInput {
  capacity: number;
  heldCount: number;
  confirmedCount: number;
  waitlistEnabled: boolean;
  startsAt: Date;
  signupOpensAt: Date | null;
  signupClosesAt: Date | null;
}

export interface Availability {
  spotsLeft: number;
  soldOut: boolean;
  /** Sold out, signups open and the event keeps a waitlist: a signup now joins the waitlist. */
  waitlistOpen: boolean;
  signupState: SignupState;
  signupOpensAt: string | null;
}

/**
 * The window is [signupOpensAt, signupClosesAt), and without an explicit close it closes at the
 * start: nobody signs up for an event already under way. Held seats count as taken (a hold may
 * still be released, which frees them again), so soldOut can flip back to false.
 */
export function availabilityOf(event: AvailabilityInput, now: Date): Availability {
  const left = spotsLeft(event);
  const closesAt = event.signupClosesAt ?? event.startsAt;
  const signupState: SignupState =
    event.signupOpensAt && now.getTime() < event.signupOpensAt.getTime()
      ? 'not-open-yet'
      : now.getTime() >= closesAt.getTime()
        ? 'closed'
        : 'open';
  const soldOut = left === 0;
  return {
    spotsLeft: left,
    soldOut,
    waitlistOpen: soldOut && event.waitlistEnabled && signupState === 'open',
    signupState,
    signupOpensAt: event.signupOpensAt?.toISOString() ?? null,
  };
}
