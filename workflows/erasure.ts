import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { ErasureCounts } from '../src/privacy/erasure.entity.js';
import type { ErasureWorkflowInput } from '../src/temporal/contract.js';

// Cancelling waits for each signup's workflow to end (refund, mail): minutes at worst. Both steps
// are idempotent, so retrying them until they get through is safe; a database or Temporal outage
// only delays the erasure.
const steps = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});

/**
 * DELETE /v1/me, durably: the person's active signups are cancelled through their own workflows,
 * then everything personal is deleted or anonymized in one transaction (activities/erasure.ts).
 * Its id is the erasure request's, and its input carries no personal data.
 */
export async function erasureWorkflow(input: ErasureWorkflowInput): Promise<ErasureCounts> {
  const { cancelled } = await steps.cancelSignupsOfErasedUser({ erasureId: input.erasureId });
  return steps.anonymizeErasedUser({ erasureId: input.erasureId, signupsCancelled: cancelled });
}
