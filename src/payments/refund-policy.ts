/**
 * How much of a payment goes back when a signup is cancelled. Pure; amounts in minor units, and a
 * refund never exceeds what was paid (percentages round down).
 */
import type { RefundPolicy } from '../events/event-data.js';

export interface RefundQuestion {
  policy: RefundPolicy;
  paidMinor: number;
  cancelledAt: Date;
  startsAt: Date;
  cancellationDeadline?: Date | null;
  /** The organizer cancelling (the event, or removing a participant) always refunds in full. */
  cancelledBy: 'participant' | 'organizer';
}

export interface RefundAnswer {
  refundMinor: number;
  percent: number;
  reason: 'organizer-cancelled' | 'no-refund-policy' | 'before-deadline' | 'after-deadline' | 'tier' | 'no-tier' | 'nothing-paid';
}

const HOUR_MS = 3_600_000;

export function refundDue(question: RefundQuestion): RefundAnswer {
  const { policy, paidMinor } = question;
  if (paidMinor <= 0) return { refundMinor: 0, percent: 0, reason: 'nothing-paid' };
  if (question.cancelledBy === 'organizer') return full('organizer-cancelled');

  switch (policy.kind) {
    case 'none':
      return { refundMinor: 0, percent: 0, reason: 'no-refund-policy' };
    case 'full-before-deadline': {
      const deadline = question.cancellationDeadline ?? question.startsAt;
      return question.cancelledAt <= deadline ? full('before-deadline') : { refundMinor: 0, percent: 0, reason: 'after-deadline' };
    }
    case 'tiered': {
      const hoursBefore = (question.startsAt.getTime() - question.cancelledAt.getTime()) / HOUR_MS;
      // The tier with the longest notice period that the cancellation still gives.
      const tier = [...policy.tiers]
        .sort((a, b) => b.hoursBeforeStart - a.hoursBeforeStart)
        .find((candidate) => hoursBefore >= candidate.hoursBeforeStart);
      if (!tier) return { refundMinor: 0, percent: 0, reason: 'no-tier' };
      return { refundMinor: Math.floor((paidMinor * tier.percent) / 100), percent: tier.percent, reason: 'tier' };
    }
  }

  function full(reason: RefundAnswer['reason']): RefundAnswer {
    return { refundMinor: paidMinor, percent: 100, reason };
  }
}
