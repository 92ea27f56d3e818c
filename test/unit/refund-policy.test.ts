import { describe, expect, it } from '@jest/globals';
import { refundDue, type RefundQuestion } from '../../src/payments/refund-policy.js';

const startsAt = new Date('2027-06-10T10:00:00Z');
const hoursBefore = (hours: number) => new Date(startsAt.getTime() - hours * 3_600_000);
const base: RefundQuestion = {
  policy: { kind: 'full-before-deadline' },
  paidMinor: 10_000,
  cancelledAt: hoursBefore(72),
  startsAt,
  cancellationDeadline: hoursBefore(48),
  cancelledBy: 'participant',
};
const tiered = {
  kind: 'tiered' as const,
  tiers: [
    { hoursBeforeStart: 24, percent: 50 },
    { hoursBeforeStart: 168, percent: 100 },
    { hoursBeforeStart: 72, percent: 75 },
  ],
};

describe('refund policy', () => {
  it.each([
    ['full before the deadline', {}, 10_000, 'before-deadline'],
    ['full at the deadline instant', { cancelledAt: hoursBefore(48) }, 10_000, 'before-deadline'],
    ['nothing after the deadline', { cancelledAt: hoursBefore(47) }, 0, 'after-deadline'],
    ['no refund policy', { policy: { kind: 'none' as const } }, 0, 'no-refund-policy'],
    ['organizer cancels under a no-refund policy', { policy: { kind: 'none' as const }, cancelledBy: 'organizer' as const }, 10_000, 'organizer-cancelled'],
    ['nothing paid', { paidMinor: 0 }, 0, 'nothing-paid'],
    ['tiered, a week ahead', { policy: tiered, cancelledAt: hoursBefore(200) }, 10_000, 'tier'],
    ['tiered, four days ahead', { policy: tiered, cancelledAt: hoursBefore(96) }, 7_500, 'tier'],
    ['tiered, a day ahead exactly', { policy: tiered, cancelledAt: hoursBefore(24) }, 5_000, 'tier'],
    ['tiered, an hour ahead', { policy: tiered, cancelledAt: hoursBefore(1) }, 0, 'no-tier'],
    ['tiered rounds down', { policy: tiered, paidMinor: 9_999, cancelledAt: hoursBefore(30) }, 4_999, 'tier'],
  ])('%s', (_name, change, refund, reason) => {
    expect(refundDue({ ...base, ...change })).toMatchObject({ refundMinor: refund, reason });
  });
});
