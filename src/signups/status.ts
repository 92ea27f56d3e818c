/**
 * The states a signup moves through, and which moves are allowed.
 * Pure: the workflow, the seat transactions and the API all consult this one table.
 */

export const signupStatuses = [
  'requested',
  'awaiting_consent',
  'held',
  'waitlisted',
  'confirmed',
  'released',
  'rejected',
  'cancelled',
] as const;
export type SignupStatus = (typeof signupStatuses)[number];

export type SignupTransition =
  | 'ask-consent'
  | 'hold'
  | 'waitlist'
  | 'offer'
  | 'reject'
  | 'confirm'
  | 'release'
  | 'reinstate'
  | 'cancel';

const transitions: Record<SignupTransition, { from: readonly SignupStatus[]; to: SignupStatus }> = {
  // No seat is held while a guardian decides (see docs/architecture.md: consent can take a day).
  'ask-consent': { from: ['requested'], to: 'awaiting_consent' },
  hold: { from: ['requested', 'awaiting_consent'], to: 'held' },
  waitlist: { from: ['requested', 'awaiting_consent'], to: 'waitlisted' },
  // A waitlisted signup is offered freed seats: they are held for it until the offer expires.
  offer: { from: ['waitlisted'], to: 'held' },
  reject: { from: ['requested', 'awaiting_consent', 'waitlisted'], to: 'rejected' },
  confirm: { from: ['held'], to: 'confirmed' },
  // A hold (or a waitlist offer) that ran out.
  release: { from: ['held'], to: 'released' },
  // A payment that arrived after its hold ran out, while seats are free again (the late-payment rule).
  reinstate: { from: ['released'], to: 'held' },
  cancel: { from: ['requested', 'awaiting_consent', 'held', 'waitlisted', 'confirmed'], to: 'cancelled' },
};

/** The status a transition leads to, or undefined when it is not allowed from `current`. */
export function nextSignupStatus(current: SignupStatus, transition: SignupTransition): SignupStatus | undefined {
  const rule = transitions[transition];
  return rule.from.includes(current) ? rule.to : undefined;
}

/** A user may have one signup in these statuses per event (a partial unique index enforces it). */
export const activeSignupStatuses: readonly SignupStatus[] = [
  'requested',
  'awaiting_consent',
  'held',
  'waitlisted',
  'confirmed',
];

/** Statuses nothing leads out of. */
export const finalSignupStatuses: readonly SignupStatus[] = ['released', 'rejected', 'cancelled'];

export function isFinalSignupStatus(status: SignupStatus): boolean {
  return finalSignupStatuses.includes(status);
}

/** Seats a signup in this status occupies, per counter. */
export function seatsOccupied(status: SignupStatus, seats: number): { held: number; confirmed: number } {
  if (status === 'held') return { held: seats, confirmed: 0 };
  if (status === 'confirmed') return { held: 0, confirmed: seats };
  return { held: 0, confirmed: 0 };
}
