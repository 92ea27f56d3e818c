import { describe, expect, it } from '@jest/globals';
import {
  activeSignupStatuses,
  isFinalSignupStatus,
  nextSignupStatus,
  seatsOccupied,
  signupStatuses,
  type SignupStatus,
  type SignupTransition,
} from '../../src/signups/status.js';

describe('signup status transitions', () => {
  const allowed: [SignupStatus, SignupTransition, SignupStatus][] = [
    ['requested', 'ask-consent', 'awaiting_consent'],
    ['requested', 'hold', 'held'],
    ['awaiting_consent', 'hold', 'held'],
    ['requested', 'waitlist', 'waitlisted'],
    ['awaiting_consent', 'waitlist', 'waitlisted'],
    ['waitlisted', 'offer', 'held'],
    ['requested', 'reject', 'rejected'],
    ['awaiting_consent', 'reject', 'rejected'],
    ['waitlisted', 'reject', 'rejected'],
    ['held', 'confirm', 'confirmed'],
    ['held', 'release', 'released'],
    ['released', 'reinstate', 'held'],
    ['requested', 'cancel', 'cancelled'],
    ['awaiting_consent', 'cancel', 'cancelled'],
    ['held', 'cancel', 'cancelled'],
    ['waitlisted', 'cancel', 'cancelled'],
    ['confirmed', 'cancel', 'cancelled'],
  ];
  const moves: SignupTransition[] = ['ask-consent', 'hold', 'waitlist', 'offer', 'reject', 'confirm', 'release', 'reinstate', 'cancel'];

  it.each(allowed)('%s --%s--> %s', (from, transition, to) => {
    expect(nextSignupStatus(from, transition)).toBe(to);
  });

  const allMoves = signupStatuses.flatMap((from) => moves.map((move) => [from, move] as const));
  const refused = allMoves.filter(([from, move]) => !allowed.some(([f, m]) => f === from && m === move));

  it.each(refused)('refuses %s --%s-->', (from, transition) => {
    expect(nextSignupStatus(from, transition)).toBeUndefined();
  });

  it('treats released, rejected and cancelled as final; a confirmed signup can still be cancelled', () => {
    expect(signupStatuses.filter(isFinalSignupStatus)).toEqual(['released', 'rejected', 'cancelled']);
  });

  it('counts every status that is not final as active (one per user and event)', () => {
    expect([...activeSignupStatuses].sort()).toEqual(signupStatuses.filter((status) => !isFinalSignupStatus(status)).sort());
  });

  it('counts held and confirmed seats in the right counter only', () => {
    expect(seatsOccupied('held', 3)).toEqual({ held: 3, confirmed: 0 });
    expect(seatsOccupied('confirmed', 3)).toEqual({ held: 0, confirmed: 3 });
    for (const status of signupStatuses.filter((s) => s !== 'held' && s !== 'confirmed')) {
      expect(seatsOccupied(status, 3)).toEqual({ held: 0, confirmed: 0 });
    }
  });
});
