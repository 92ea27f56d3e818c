import { defineEntity, p } from '@mikro-orm/core';
import { unhonouredPaymentReasons } from '../temporal/contract.js';

export const unhonouredPaymentStates = ['refunding', 'refunded', 'nothing-paid'] as const;

/**
 * A succeeded payment the system could not turn into a ticket, and its full refund: written by the
 * payment's refund flow (workflows/payment-refund.ts), for operators and the books. One row per
 * PaymentIntent, so a second hand-over of the same payment (a webhook redelivered after the flow's
 * history is gone) finds it refunded and refunds nothing. Not a foreign key to signup: the intent
 * may name a signup we do not have.
 */
export const UnhonouredPaymentSchema = defineEntity({
  name: 'UnhonouredPayment',
  tableName: 'unhonoured_payment',
  indexes: [{ properties: ['signupId'] }, { properties: ['state', 'createdAt'] }],
  properties: {
    paymentIntentId: p.string().length(255).primary(),
    signupId: p.uuid().nullable(),
    reason: p.enum(unhonouredPaymentReasons),
    /** `refunding` until Stripe has made the refund (a row left so names a flow waiting with Attention). */
    state: p.enum(unhonouredPaymentStates),
    /** What Stripe took, as it says (not the quote). */
    amountMinor: p.integer(),
    currency: p.string().length(3),
    stripeRefundId: p.string().length(255).nullable(),
    /** Stripe's refusal of the last refund attempt, for the operator. */
    lastError: p.text().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    refundedAt: p.datetime().nullable(),
  },
});

export class UnhonouredPayment extends UnhonouredPaymentSchema.class {}
UnhonouredPaymentSchema.setClass(UnhonouredPayment);
