import { ActivityFailure, condition, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  paymentRefundProgressQuery,
  retryStepSignal,
  unhonouredPaymentSignal,
  type PaymentRefundInput,
  type PaymentRefundProgress,
  type PaymentRefundResult,
  type UnhonouredPayment,
} from '../src/temporal/contract.js';
import { OperatorRetry } from './operator-retry.js';

// Stripe calls carry an idempotency key per intent, so retrying them is safe; Stripe refusing
// (non-retryable, raised by the activity) waits for an operator below.
const payments = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 15 },
});

// Sent at most once per key (the notification log); mail trouble only logs.
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/**
 * A succeeded payment that cannot become a ticket (id `payment-<intent id>`), started by
 * signal-with-start from the webhook or from the signup's workflow: it records the payment for
 * operators, refunds all of it, and tells the participant once. The first hand-over decides; later
 * ones (a redelivered webhook, both paths at once) are counted and change nothing.
 */
export async function paymentRefundWorkflow(input: PaymentRefundInput): Promise<PaymentRefundResult> {
  const { paymentIntentId } = input;
  let handedOver: UnhonouredPayment | undefined;
  const progress: PaymentRefundProgress = { state: 'waiting', handedOver: 0 };
  setHandler(unhonouredPaymentSignal, (payment) => {
    handedOver ??= payment;
    progress.reason ??= payment.reason;
    progress.handedOver++;
  });
  setHandler(paymentRefundProgressQuery, () => progress);

  // A step that still fails after its retries (Stripe refusing the refund) waits, marked `Attention`,
  // for an operator's `retryStep` (npm run ops -- retry payment-<intent id>), as the signup flow does.
  const operator = new OperatorRetry(progress, { message: 'payment refund step needs an operator', ids: { paymentIntentId } });
  setHandler(retryStepSignal, () => operator.retryStep());
  const untilDone = <T>(step: string, run: (operatorRetries: number) => Promise<T>) => operator.untilDone(step, run);

  // Signal-with-start delivers the hand-over with the first task.
  await condition(() => handedOver !== undefined);
  const payment = handedOver;
  if (!payment) throw new Error('unreachable: the condition waited for the hand-over');

  const recorded = await untilDone('recordUnhonouredPayment', () =>
    payments.recordUnhonouredPayment({ paymentIntentId, signupId: payment.signupId, reason: payment.reason }),
  );
  if (recorded.action !== 'refund') {
    progress.state = recorded.action;
    return { paymentIntentId, outcome: recorded.action, refundMinor: recorded.action === 'already-refunded' ? recorded.amountMinor : 0 };
  }

  progress.state = 'refunding';
  const { refundMinor } = await untilDone('refundUnhonouredPayment', (retries) =>
    payments.refundUnhonouredPayment({ paymentIntentId, operatorRetries: retries }),
  );
  progress.state = 'refunded';

  if (recorded.signupId) {
    try {
      await mail.sendSignupNotification({
        signupId: recorded.signupId,
        kind: 'payment-refunded',
        step: `payment-refunded:${paymentIntentId}`,
        details: { refundMinor, reason: payment.reason, paymentReference: paymentIntentId },
      });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      log.error('refund notification not sent', { paymentIntentId, signupId: recorded.signupId, error: error.message });
    }
  }
  return { paymentIntentId, outcome: 'refunded', refundMinor };
}
