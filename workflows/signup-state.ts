import { ApplicationFailure, condition, upsertSearchAttributes } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import {
  searchAttributes,
  type CancelRequest,
  type PaymentEvent,
  type SignupProgress,
  type SignupWorkflowInput,
  type SignupWorkflowResult,
} from '../src/temporal/contract.js';
import { isFinalSignupStatus, nextSignupStatus, type SignupStatus } from '../src/signups/status.js';
import { OperatorRetry } from './operator-retry.js';

/**
 * Thrown by a wait that a cancel request ended: the process stops where it waits, and
 * signupWorkflow's one catch cancels the signup. Never a Temporal failure, so `untilDone` and the
 * mail steps let it through, and it never leaves the workflow.
 */
export class CancelRequested extends Error {
  constructor(readonly request: CancelRequest) {
    super('cancel requested');
    this.name = 'CancelRequested';
  }
}

/**
 * What one signup's workflow knows, and its message handlers (a few lines each), after
 * temporalio/samples-typescript message-passing/safe-message-handlers: the handlers only record
 * what arrived; the process in workflows/signup.ts acts on it. Handlers run no activities, so they
 * never interleave with a step of the process.
 */
export class SignupFlow {
  readonly progress: SignupProgress;
  guardianDecision: 'approved' | 'denied' | undefined;
  offer: { holdExpiresAt: string } | undefined;
  offerAccepted = false;
  waitlistClosed = false;
  eventFinished = false;
  paymentSucceeded = false;
  private cancelRequest: CancelRequest | undefined;
  private readonly seenStripeEvents = new Set<string>();
  private readonly operator: OperatorRetry;

  constructor(readonly input: SignupWorkflowInput) {
    this.progress = { status: 'requested', paymentState: input.paid ? 'awaiting' : 'not-needed', seenPaymentEvents: 0 };
    this.operator = new OperatorRetry(this.progress, { message: 'signup step needs an operator', ids: { signupId: input.signupId } });
  }

  get signupId(): string {
    return this.input.signupId;
  }

  result(): SignupWorkflowResult {
    return { signupId: this.signupId, status: this.progress.status };
  }

  /** The status the process reached, mirrored in the `SignupStatus` search attribute. */
  moveTo(next: SignupStatus): void {
    if (next === this.progress.status) return;
    this.progress.status = next;
    upsertSearchAttributes([{ key: searchAttributes.signupStatus, value: next }]);
  }

  // Message handlers.

  guardianDecided(decision: 'approved' | 'denied'): void {
    this.guardianDecision ??= decision;
  }

  offered(offer: { holdExpiresAt: string }): void {
    this.offer ??= offer;
  }

  /** Stripe delivers at least once; a delivery seen before changes nothing. */
  paymentEvent(event: PaymentEvent): void {
    if (this.seenStripeEvents.has(event.stripeEventId)) return;
    this.seenStripeEvents.add(event.stripeEventId);
    this.progress.seenPaymentEvents = this.seenStripeEvents.size;
    if (event.kind === 'succeeded') this.paymentSucceeded = true;
    else if (!this.paymentSucceeded) {
      this.progress.paymentState = 'failed';
      this.progress.lastPaymentError = event.kind === 'failed' ? 'payment failed; it may be retried while the hold lasts' : 'payment canceled';
    }
  }

  /** confirmSignup's validator: only a free signup's offer (here, or about to arrive) can be taken. */
  mayTakeOffer(): void {
    const offerHere = this.progress.status === 'held' && this.offer !== undefined;
    if (this.input.paid || (!offerHere && !this.beforeOffer())) {
      throw ApplicationFailure.create({
        type: 'SignupNotHeld',
        message: this.input.paid ? 'paid signups are confirmed by their payment' : `signup is ${this.progress.status}, with no offer to take`,
      });
    }
  }

  /** confirmSignup: takes the offer, and answers the status the process reaches with it. */
  async takeOffer(): Promise<SignupStatus> {
    if (this.beforeOffer()) {
      // The API saw the offer in the database (the freeing transaction writes it before its
      // workflow signals us, and this workflow may still be starting): wait for it rather than
      // refuse an offer the user can see.
      await condition(() => this.offer !== undefined || !this.beforeOffer(), '1 minute');
      if (!this.offer) {
        throw ApplicationFailure.create({ type: 'SignupNotHeld', message: `signup is ${this.progress.status}, with no offer to take` });
      }
    }
    this.offerAccepted = true;
    await condition(() => this.progress.status !== 'held' && this.progress.status !== 'waitlisted');
    return this.progress.status;
  }

  /** cancelSignup's validator: who asks, and whether the status can still be cancelled. */
  mayCancel(request: CancelRequest): void {
    if (request.by !== 'participant' && request.by !== 'organizer') {
      throw ApplicationFailure.create({ type: 'BadCancelRequest', message: 'by must be participant or organizer' });
    }
    if (!nextSignupStatus(this.progress.status, 'cancel')) {
      throw ApplicationFailure.create({ type: 'SignupNotActive', message: `signup is ${this.progress.status}` });
    }
  }

  /** cancelSignup: the first request counts; answers the final status the process reaches. */
  async requestCancel(request: CancelRequest): Promise<SignupStatus> {
    this.cancelRequest ??= request;
    await condition(() => isFinalSignupStatus(this.progress.status));
    return this.progress.status;
  }

  retryStep(): void {
    this.operator.retryStep();
  }

  // What the process waits with.

  /** Waits for `done` (or the timeout); a cancel request ends the wait and then the process. */
  async until(done: () => boolean, timeout?: Duration): Promise<boolean> {
    const reached = await this.waitOrCancel(done, timeout);
    this.stopIfCancelled();
    return reached;
  }

  /**
   * Waits for `done`, a cancel request or the timeout, and says whether the timeout did not end it.
   * For the waits that look at something more before the cancel is honoured (`stopIfCancelled`).
   */
  async waitOrCancel(done: () => boolean, timeout?: Duration): Promise<boolean> {
    const doneOrCancelled = () => done() || this.cancelRequest !== undefined;
    return timeout === undefined ? condition(doneOrCancelled).then(() => true) : condition(doneOrCancelled, timeout);
  }

  /** Whether the moment `at` (an ISO time) has passed, in workflow task time (see waitOrCancelUntil). */
  hasPassed(at: string): boolean {
    // eslint-disable-next-line no-restricted-properties -- workflow task time, deterministic on replay
    return Date.parse(at) <= Date.now();
  }

  /**
   * The same until the moment `at` (ISO). The SDK's Date inside a workflow is deterministic (the time
   * of the current workflow task, replayed from history), and this is its one use: turning a
   * deadline stored in the database into a timer's duration.
   */
  async waitOrCancelUntil(done: () => boolean, at: string): Promise<boolean> {
    // eslint-disable-next-line no-restricted-properties -- workflow task time, deterministic on replay (see above)
    const remainingMs = Date.parse(at) - Date.now();
    return remainingMs > 0 ? this.waitOrCancel(done, remainingMs) : done() || this.cancelRequest !== undefined;
  }

  /** The one place a cancel request stops the process: signupWorkflow catches it and cancels. */
  stopIfCancelled(): void {
    if (this.cancelRequest) throw new CancelRequested(this.cancelRequest);
  }

  /** Runs one step (an activity call), waiting for an operator's `retryStep` past its retry policy (OperatorRetry). */
  untilDone<T>(step: string, run: () => Promise<T>): Promise<T> {
    return this.operator.untilDone(step, run);
  }

  private beforeOffer(): boolean {
    return this.progress.status === 'requested' || this.progress.status === 'waitlisted';
  }
}
