import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  flowKinds,
  searchAttributes,
  unhonouredPaymentSignal,
  workflowIds,
  workflowTypes,
  type UnhonouredPayment,
} from '../temporal/contract.js';
import type { paymentRefundWorkflow } from '../../workflows/payment-refund.js';

/**
 * Hands a succeeded payment that cannot become a ticket to its refund flow (workflows/payment-refund.ts),
 * with signal-with-start on the id `payment-<intent id>`: it starts the flow, or reaches the one
 * already running, whatever state the signup's own flow is in. The webhook and the signup workflow
 * (through an activity) both come here, so there is one refund path, and one refund per intent.
 *
 * The flow's id is never reused (REJECT_DUPLICATE): a hand-over after it has finished (a webhook
 * redelivered) is refused by Temporal, which means it was handled: answered `already-handled`.
 * After the namespace's retention a new flow may start: it finds the payment's row and refunds nothing.
 */
export async function handOverUnhonouredPayment(
  temporal: Client,
  taskQueue: string,
  paymentIntentId: string,
  payment: UnhonouredPayment,
): Promise<'handed-over' | 'already-handled'> {
  try {
    await temporal.workflow.signalWithStart<typeof paymentRefundWorkflow, [UnhonouredPayment]>(workflowTypes.paymentRefund, {
      workflowId: workflowIds.paymentRefund(paymentIntentId),
      taskQueue,
      args: [{ paymentIntentId }],
      signal: unhonouredPaymentSignal,
      signalArgs: [payment],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: searchAttributes.flowKind, value: flowKinds.paymentRefund },
        ...(payment.signupId ? [{ key: searchAttributes.signupId, value: payment.signupId }] : []),
      ],
      memo: { summary: `refund of ${paymentIntentId}: ${payment.reason}` },
    });
    return 'handed-over';
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-handled';
    throw error;
  }
}
