/**
 * The states a signup moves through, and which moves are allowed.
 * Pure: the workflow, the activities and the API all consult this one table.
 */

export const signupStatuses = ['requested', 'held', 'confirmed', 'released', 'rejected'] as const;
export type SignupStatus = (typeof signupStatuses)[number];

export type SignupTransition = 'hold' | 'reject' | 'confirm' | 'release';

const transitions: Record<SignupTransition, { from: readonly SignupStatus[]; to: SignupStatus }> = {
  hold: { from: ['requested'], to: 'held' },
  reject: { from: ['requested'], to: 'rejected' },
  confirm: { from: ['held'], to: 'confirmed' },
  release: { from: ['held'], to: 'released' },
};

/** The status a transition leads to, or undefined when it is not allowed from `current`. */
export function nextSignupStatus(current: SignupStatus, transition: SignupTransition): SignupStatus | undefined {
  const rule = transitions[transition];
  return rule.from.includes(current) ? rule.to : undefined;
}

/** A user may have one signup in these statuses per event (a partial unique index enforces it). */
export const activeSignupStatuses: readonly SignupStatus[] = ['requested', 'held', 'confirmed'];

/** Statuses after which nothing more happens to the signup's seats. */
export function isFinalSignupStatus(status: SignupStatus): boolean {
  return status === 'confirmed' || status === 'released' || status === 'rejected';
}

/** Seats a signup in this status occupies, per counter. */
export function seatsOccupied(status: SignupStatus, seats: number): { held: number; confirmed: number } {
  if (status === 'held') return { held: seats, confirmed: 0 };
  if (status === 'confirmed') return { held: 0, confirmed: seats };
  return { held: 0, confirmed: 0 };
}
