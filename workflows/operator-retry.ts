import { ActivityFailure, condition, log, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributes } from '../src/temporal/contract.js';

/**
 * A step (an activity call) that still fails after its retry policy (Stripe refusing a refund, a
 * database that stays down) does not end the flow: the flow waits, marked `Attention` with the step
 * (search attribute, and `attention` in its progress query), until an operator has fixed the cause
 * and sent `retryStep` (npm run ops -- retry <workflowId>), then runs the step again. Shared by the
 * signup and payment-refund flows, so ops repair both the same way.
 */
export class OperatorRetry {
  private requested = false;
  /** How many times an operator has had a step run again. */
  retries = 0;

  constructor(
    private readonly progress: { attention?: { step: string; error: string } },
    /** What the log line says, e.g. `signup step needs an operator`, and the ids it carries. */
    private readonly logAs: { message: string; ids: Record<string, string> },
  ) {}

  /** The `retryStep` signal's handler. */
  retryStep(): void {
    this.requested = true;
  }

  async untilDone<T>(step: string, run: (operatorRetries: number) => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await run(this.retries);
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        const cause = error.cause instanceof Error ? error.cause.message : error.message;
        this.progress.attention = { step, error: cause };
        upsertSearchAttributes([{ key: searchAttributes.attention, value: step }]);
        log.error(this.logAs.message, { ...this.logAs.ids, step, error: cause });
        this.requested = false;
        await condition(() => this.requested);
        this.retries++;
        this.progress.attention = undefined;
        upsertSearchAttributes([{ key: searchAttributes.attention, value: null }]);
      }
    }
  }
}
