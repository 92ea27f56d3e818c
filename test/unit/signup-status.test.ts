import { describe, expect, it } from '@jest/globals';
import {
  isFinalSignupStatus,
  nextSignupStatus,
  seatsOccupied,
  signupStatuses,
  type SignupStatus,
  type SignupTransition,
} from '../../src/signups/status.js';

describe('signup status transitions', () => {
  const allowed: [SignupStatus, SignupTransition, SignupStatus][] = [
    ['requested', 'hold', 'held'],
    ['requested', 'reject', 'rejected'],
    ['held', 'confirm', 'confirmed'],
    ['held', 'release', 'released'],
  ];

  it.each(allowed)('%s --%s--> %s', (from, transition, to) => {
    expect(nextSignupStatus(from, transition)).toBe(to);
  });

  const allMoves = signupStatuses.flatMap((from) =>
    (['hold', 'reject', 'confirm', 'release'] as const).map((move) => [from, move] as const),
  );
  const refused = allMoves.filter(([from, move]) => !allowed.some(([f, m]) => f === from && m === move));

  it.each(refused)('refuses %s --%s-->', (from, transition) => {
    expect(nextSignupStatus(from, transition)).toBeUndefined();
  });

  it('treats confirmed, released and rejected as final', () => {
    expect(signupStatuses.filter(isFinalSignupStatus)).toEqual(['confirmed', 'released', 'rejected']);
  });

  it('counts held and confirmed seats in the right counter only', () => {
    expect(seatsOccupied('held', 3)).toEqual({ held: 3, confirmed: 0 });
    expect(seatsOccupied('confirmed', 3)).toEqual({ held: 0, confirmed: 3 });
    for (const status of ['requested', 'released', 'rejected'] as const) {
      expect(seatsOccupied(status, 3)).toEqual({ held: 0, confirmed: 0 });
    }
  });
});
