import { ApplicationFailure, condition, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  confirmSignupUpdate,
  searchAttributes,
  signupStatusQuery,
  type SignupWorkflowInput,
  type SignupWorkflowResult,
} from '../src/temporal/contract.js';
import { isFinalSignupStatus, type SignupStatus } from '../src/signups/status.js';

// Seat moves are short database transactions; retry transient failures (database restarts,
// connection loss) with backoff, and let an operator see a flow that keeps failing.
const seats = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/**
 * One signup: hold the seats, wait for confirmation until the hold times out, then confirm or release.
 */
export async function signupWorkflow(input: SignupWorkflowInput): Promise<SignupWorkflowResult> {
  let status: SignupStatus = 'requested';
  let confirmationRequested = false;

  const moveTo = (next: SignupStatus) => {
    status = next;
    upsertSearchAttributes([{ key: searchAttributes.signupStatus, value: next }]);
  };

  setHandler(signupStatusQuery, () => status);
  setHandler(
    confirmSignupUpdate,
    async () => {
      confirmationRequested = true;
      await condition(() => isFinalSignupStatus(status));
      return status;
    },
    {
      // A confirmation may arrive while the hold is still being placed; it then applies as soon
      // as the seats are held (or answers `rejected` if they never are).
      validator: () => {
        if (isFinalSignupStatus(status)) {
          throw ApplicationFailure.create({ type: 'SignupNotHeld', message: `signup is ${status}, not held` });
        }
      },
    },
  );

  const hold = await seats.holdSeats({ signupId: input.signupId, holdSeconds: input.holdTimeoutSeconds });
  moveTo(hold.status);
  if (hold.status !== 'held') return { signupId: input.signupId, status };

  const confirmedInTime = await condition(() => confirmationRequested, `${input.holdTimeoutSeconds} seconds`);
  moveTo(
    confirmedInTime
      ? await seats.confirmSeats({ signupId: input.signupId })
      : await seats.releaseHold({ signupId: input.signupId }),
  );
  return { signupId: input.signupId, status };
}
