import {
  ActivityFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { NotificationKind } from '../src/events/event-data.js';
import {
  cancelSignupUpdate,
  confirmSignupUpdate,
  eventFinishedSignal,
  guardianDecisionSignal,
  paymentEventSignal,
  retryStepSignal,
  seatTaskQueueOf,
  signupProgressQuery,
  signupStatusQuery,
  waitlistClosedSignal,
  waitlistOfferSignal,
  type CancelledAtDoor,
  type CancelRequest,
  type SignupWorkflowInput,
  type SignupWorkflowResult,
} from '../src/temporal/contract.js';
import type { SeatMove, WaitlistOffer } from '../src/signups/seats.js';
import { CancelRequested, SignupFlow } from './signup-state.js';

// Seat moves are short database transactions; retry transient failures (database restarts,
// connection loss) with backoff. Business outcomes are return values, never errors. An attempt
// that outlives its StartToClose may still commit: its retry answers the recorded outcome.
const seatMoveOptions = (seconds = 30) =>
  ({
    startToCloseTimeout: `${seconds} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  }) as const;

const seatActivitiesWithin = (seconds?: number, taskQueue?: string) =>
  proxyActivities<Activities>({ ...seatMoveOptions(seconds), ...(taskQueue ? { taskQueue } : {}) });

// The same moves run inside the workflow task (local activities): for a cancel, whose update waits for
// its seat move, so the answer takes one workflow task instead of a task, an activity and a task.
const seatMovesInTaskWithin = (seconds?: number) => proxyLocalActivities<Activities>(seatMoveOptions(seconds));

// Stripe calls carry idempotency keys, so retrying them is safe; Stripe refusing a request
// (invalid, card declined) is non-retryable and raised by the activity as such.
const payments = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 15 },
});

// A message is sent at most once per key (the notification log), so retries never send twice.
// Mail trouble must not stop a signup: after the last attempt the flow logs it and goes on.
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

// The same, run inside the workflow task (a local activity): for the one step of a free signup the
// API confirmed, so the server handles no activity task for it (a burst of free signups is the
// heaviest load the workflow engine sees: bench/signup-burst.ts). Longer retries than a minute
// become timers, so a mail server that stays down still does not hold the task.
const mailInTask = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/**
 * Released change: a succeeded payment this flow cannot honour (cancelled while paying, a late
 * payment with no seat left) is handed to its refund flow instead of being refunded here.
 */
const unhonouredPaymentsPatch = 'unhonoured-payments-handed-over';

/** Released change: an unpaid hold ends in one activity (cancel the intent, release the seats). */
const unpaidHoldEndsInOneStepPatch = 'unpaid-hold-ends-in-one-step';

/** Released change: seat moves run on the seat task queue (seatTaskQueueOf), not behind the mails. */
const seatMovesOnOwnQueuePatch = 'seat-moves-on-own-queue';

/** Released change: a cancel's seat move runs inside the workflow task that got the cancel. */
const cancelInTaskPatch = 'cancel-seat-move-in-task';

/**
 * Released change: step 5 (the seats confirmed, then the receipt and the confirmation mailed) runs
 * inside the one workflow task that saw the payment or the offer taken, as local activities: under
 * a burst each task and activity of a paid confirmation was Temporal work the machine lacked.
 */
const confirmationInOneTaskPatch = 'confirmation-in-one-task';

/**
 * Released change: a paid confirmation's receipt and confirmation go out in one activity (one
 * contact read, one step in the workflow task) instead of one each.
 */
const confirmationMailsTogetherPatch = 'confirmation-mails-together';

/** Waits while the seats are held: until `done`, a cancel, or the end of the hold (or offer). */
type WhileHeld = (done: () => boolean) => Promise<boolean>;

/**
 * One signup, from request to the end of the event: guardian consent (if the requester is a minor),
 * seats held or a place on the waitlist, payment while the hold lasts, confirmation with ticket
 * codes, and cancellation with a refund at any point until the event is over.
 *
 * State and message handlers live in SignupFlow (workflows/signup-state.ts); this function is the
 * process. Every wait goes through the flow, so a cancel request stops the process wherever it waits
 * and is handled once, in the catch below. Each seat move and Stripe call runs through
 * `flow.untilDone`: past its retry policy it waits for an operator's `retryStep`.
 */
export async function signupWorkflow(input: SignupWorkflowInput): Promise<SignupWorkflowResult> {
  const { signupId } = input;
  const flow = new SignupFlow(input);
  setHandler(signupStatusQuery, () => flow.progress.status);
  setHandler(signupProgressQuery, () => flow.progress);
  setHandler(guardianDecisionSignal, (decision) => flow.guardianDecided(decision));
  setHandler(waitlistOfferSignal, (offer) => flow.offered(offer));
  setHandler(waitlistClosedSignal, () => void (flow.waitlistClosed = true));
  setHandler(eventFinishedSignal, () => void (flow.eventFinished = true));
  setHandler(paymentEventSignal, (event) => flow.paymentEvent(event));
  setHandler(retryStepSignal, () => flow.retryStep());
  setHandler(confirmSignupUpdate, () => flow.takeOffer(), { validator: () => flow.mayTakeOffer() });
  setHandler(cancelSignupUpdate, (request) => flow.requestCancel(request), {
    validator: (request: CancelRequest) => flow.mayCancel(request),
  });

  let seatMoves: ReturnType<typeof seatActivitiesWithin> | undefined;
  // Released change, behind a patch decided at the flow's first seat move (so a signup the API
  // confirmed at the door carries no marker until something moves its seats): histories recorded
  // before it, and flows that moved seats before it, keep their seat moves on the workflow's queue.
  const seats = () =>
    (seatMoves ??= seatActivitiesWithin(
      input.seatMoveTimeoutSeconds,
      patched(seatMovesOnOwnQueuePatch) ? seatTaskQueueOf(workflowInfo().taskQueue) : undefined,
    ));
  /** The release an unpaid hold's end made together with the intent's cancel (step 4), for step 5. */
  let releasedAtDeadline: SeatMove | undefined;

  if (input.cancelledAtDoor) {
    // 7 (at the door). The API cancelled a free signup it had confirmed at the door before anything
    // needed this workflow: the seats are back, so only those offered and the participant are told.
    await cancelledAtDoor(input.cancelledAtDoor);
    return flow.result();
  }

  try {
    // 1. Eligibility (age, ticket type, promo code, price) was decided by the API before anything
    //    was written; a refusal never starts this workflow.
    // 2. A minor's guardian decides first; no seats are held meanwhile (see docs/architecture.md).
    if (input.needsGuardianConsent && !(await guardianApproves())) return flow.result();

    if (input.confirmedByApi) {
      // 3-5. A free signup the API took and confirmed at the door: only the confirmation is left.
      flow.progress.status = 'confirmed'; // as the start's search attributes say: nothing to upsert
      await notify('confirmation', 'confirmation', {}, mailInTask);
    } else {
      // 3. Seats held, or a place on the waiting list until freed seats are offered.
      const hold = await seatsOrWaitingList();
      if (!hold) return flow.result();
      // 4. Paid for, or the offer taken, while the seats are held (a plain free hold needs neither).
      const whileHeld = holdWindow(hold);
      const kept = input.paid ? await paidWhileHeld(whileHeld, holdDeadline(hold)) : flow.offer ? await offerTakenWhileHeld(whileHeld) : true;
      // 5. Confirmed, with ticket codes. Or the hold ran out: its seats go back (to the next in
      //    line), and a payment that still comes follows the late-payment rule.
      if (!kept || !(await confirmSeats())) {
        await expire();
        if (!input.paid || !(await latePaymentConfirmed())) return flow.result();
      }
    }

    // 6. Confirmed until the event is over.
    await flow.until(() => flow.eventFinished);
  } catch (error) {
    if (!(error instanceof CancelRequested)) throw error;
    // 7. Cancelled, at whichever wait the request found the process.
    await cancel(error.request);
  }
  return flow.result();

  /** Step 2: true when the guardian approved; otherwise the signup is rejected. */
  async function guardianApproves(): Promise<boolean> {
    flow.moveTo((await flow.untilDone('awaitConsent', () => seats().awaitConsent({ signupId }))).status);
    await notify('consent-request', 'consent-request');
    const answered = await flow.waitOrCancel(() => flow.guardianDecision !== undefined, `${input.consentTimeoutSeconds} seconds`);
    // A decision recorded in the database whose signal got lost still counts.
    if (!answered) {
      flow.guardianDecision = (await flow.untilDone('readGuardianDecision', () => seats().readGuardianDecision({ signupId }))) ?? undefined;
    }
    flow.stopIfCancelled();
    // Released change, behind a patch: the guardian gets a receipt of the answer (histories recorded
    // before it replay without the mail).
    if (flow.guardianDecision !== undefined && patched('consent-receipt')) await notify('consent-receipt', 'consent-receipt');
    if (flow.guardianDecision === 'approved') return true;
    const reason = flow.guardianDecision === 'denied' ? 'guardian_declined' : 'guardian_did_not_answer';
    flow.moveTo((await flow.untilDone('rejectSignup', () => seats().rejectSignup({ signupId, reason }))).status);
    await notify('rejection', 'rejection', { reason });
    return false;
  }

  /** Step 3: the held seats (taken now, by the API, or offered from the waiting list); undefined when the signup ended. */
  async function seatsOrWaitingList(): Promise<SeatMove | undefined> {
    // Released change, behind a patch: histories recorded before it still replay the hold step.
    // Seats the API already holds need no hold step (one activity less per signup: measured by
    // bench/signup-burst.ts). Only this workflow moves a held signup before its deadline, so it is
    // still held (after the deadline a seat claim may have released it: see confirmSeats below).
    const hold: SeatMove =
      input.heldByApi && patched('seats-held-by-api')
        ? { status: 'held', offers: [], ...(input.holdExpiresAt ? { holdExpiresAt: input.holdExpiresAt } : {}) }
        : await flow.untilDone('holdSeats', () =>
            seats().holdSeats({ signupId, holdSeconds: input.holdTimeoutSeconds, allowWaitlist: true, offerSeconds: input.offerTimeoutSeconds }),
          );
    // The API may have put the signup on the waiting list and freed seats been offered to it before
    // this workflow got going: that is an offer to take, not a plain hold.
    const offeredBeforeStart = hold.status === 'held' && hold.offeredAt !== undefined;
    if (offeredBeforeStart) flow.offered({ holdExpiresAt: hold.holdExpiresAt ?? hold.offeredAt ?? '' });
    flow.moveTo(offeredBeforeStart ? 'waitlisted' : hold.status);
    if (hold.status === 'rejected') {
      await notify('rejection', 'rejection', { reason: hold.reason ?? 'sold_out' });
      return undefined;
    }
    await notify('signup-received', 'signup-received', { waitlisted: hold.status === 'waitlisted' || offeredBeforeStart });
    if (hold.status !== 'waitlisted' && !offeredBeforeStart) return hold;

    // Offers arrive as signals from whoever freed the seats. Should one be lost (an API process dying
    // between its commit and its signal), the database still says `held`: look now and then.
    while (!(await flow.waitOrCancel(() => flow.offer !== undefined || flow.waitlistClosed, '1 hour'))) {
      const row = await flow.untilDone('readSeatState', () => seats().readSeatState({ signupId }));
      if (row.status === 'held' && row.holdExpiresAt) flow.offer = { holdExpiresAt: row.holdExpiresAt };
    }
    flow.stopIfCancelled();
    if (!flow.offer) {
      flow.moveTo((await flow.untilDone('rejectSignup', () => seats().rejectSignup({ signupId, reason: 'waitlist_closed' }))).status);
      await notify('rejection', 'rejection', { reason: 'waitlist_closed' });
      return undefined;
    }
    flow.moveTo('held');
    await notify('waitlist-offer', 'waitlist-offer', { expiresAt: flow.offer.holdExpiresAt });
    return hold;
  }

  /** The deadline stored with the seats (or the offer): the holdExpiresAt the app was shown. */
  function holdDeadline(hold: SeatMove): string | undefined {
    const deadline = flow.offer ? flow.offer.holdExpiresAt : hold.holdExpiresAt;
    return deadline === '' ? undefined : deadline;
  }

  /**
   * How long step 4 may wait. Released change, behind a patch: the window ends at the deadline
   * stored with the seats (the holdExpiresAt the app was shown), not a full window after this
   * workflow got going or after the intent was created. Histories recorded before it still wait the
   * whole window. Decided (and the patch marked) for every hold, a free one too, before any step 4.
   */
  function holdWindow(hold: SeatMove): WhileHeld {
    const windowSeconds = flow.offer ? input.offerTimeoutSeconds : input.holdTimeoutSeconds;
    const deadline = holdDeadline(hold);
    const exactDeadline = deadline !== undefined && patched('hold-until-stored-deadline') ? deadline : undefined;
    return (done) => (exactDeadline ? flow.waitOrCancelUntil(done, exactDeadline) : flow.waitOrCancel(done, `${windowSeconds} seconds`));
  }

  /** Step 4 of a paid signup: true when the payment succeeded before the hold ran out. */
  async function paidWhileHeld(whileHeld: WhileHeld, deadline: string | undefined): Promise<boolean> {
    // Released change, behind a patch: no intent for a hold whose deadline passed before this
    // workflow got going (queued behind a backlog), and an unpaid hold ends in one step (cancel the
    // intent, and unless it was paid after all, release) instead of three. Histories recorded
    // before it still ask Stripe, cancel, then release.
    const endsInOneStep = patched(unpaidHoldEndsInOneStepPatch);
    const deadlinePassed = deadline !== undefined && flow.hasPassed(deadline);
    if (!endsInOneStep || !deadlinePassed) {
      await flow.untilDone('createPaymentIntent', () => payments.createPaymentIntent({ signupId }));
    }
    await whileHeld(() => flow.paymentSucceeded);
    // A payment seen beats a cancel that came with it: the signup is confirmed, and step 6 then
    // cancels it under the refund policy.
    if (!flow.paymentSucceeded) flow.stopIfCancelled();
    if (endsInOneStep) {
      // Only ever set to true: a webhook may land while Stripe is being asked, and must not be forgotten.
      if (!flow.paymentSucceeded) {
        // A seat move with a Stripe call before it: the seat moves' timeout and retries.
        const ended = await flow.untilDone('endUnpaidHold', () => seats().endUnpaidHold({ signupId, offerSeconds: input.offerTimeoutSeconds }));
        if (ended.payment === 'succeeded') flow.paymentSucceeded = true;
        else releasedAtDeadline = ended.released;
      }
    } else {
      // No webhook by the end of the hold: ask Stripe before deciding (webhooks get lost).
      if (!flow.paymentSucceeded && (await flow.untilDone('checkPaymentIntent', () => payments.checkPaymentIntent({ signupId }))) === 'succeeded') {
        flow.paymentSucceeded = true;
      }
      // Once cancelled at Stripe the intent can no longer be paid; if it was paid meanwhile, it counts.
      if (!flow.paymentSucceeded && (await flow.untilDone('cancelPaymentIntent', () => payments.cancelPaymentIntent({ signupId }))) === 'succeeded') {
        flow.paymentSucceeded = true;
      }
    }
    if (flow.paymentSucceeded) flow.progress.paymentState = 'succeeded';
    return flow.paymentSucceeded;
  }

  /** Step 4 of a free signup offered seats from the waiting list: true when the offer was taken in time. */
  async function offerTakenWhileHeld(whileHeld: WhileHeld): Promise<boolean> {
    const taken = await whileHeld(() => flow.offerAccepted);
    flow.stopIfCancelled();
    return taken;
  }

  /** Step 5: false when the deadline passed and a seat claim released the hold first. */
  async function confirmSeats(): Promise<boolean> {
    // Released change, behind a patch: histories recorded before it confirm and mail through activity tasks.
    const inTask = patched(confirmationInOneTaskPatch);
    const confirmMove = inTask ? seatMovesInTaskWithin(input.seatMoveTimeoutSeconds) : seats();
    const confirmed = await flow.untilDone('confirmSeats', () => confirmMove.confirmSeats({ signupId, paid: input.paid }));
    flow.moveTo(confirmed.status);
    // The ledger treats an expired hold as free: the hold ran out, and a payment that came is a late one.
    if (confirmed.status === 'released') return false;
    const via = inTask ? mailInTask : mail;
    if (input.paid && inTask && patched(confirmationMailsTogetherPatch)) {
      await notifyTogether([
        { kind: 'payment-receipt', step: 'payment-receipt', details: {} },
        { kind: 'confirmation', step: 'confirmation', details: {} },
      ]);
      return true;
    }
    if (input.paid) await notify('payment-receipt', 'payment-receipt', {}, via);
    await notify('confirmation', 'confirmation', {}, via);
    return true;
  }

  /** The hold (or offer) ran out: the seats go back, to the next in line if someone waits. */
  async function expire(): Promise<void> {
    const result =
      releasedAtDeadline ?? (await flow.untilDone('releaseHold', () => seats().releaseHold({ signupId, offerSeconds: input.offerTimeoutSeconds })));
    flow.moveTo(result.status);
    await tellOffered(result.offers);
    await notify('rejection', 'hold-expired', { reason: flow.offer ? 'offer_expired' : 'payment_not_received' });
  }

  /**
   * The documented late-payment rule: a payment that lands after the hold ran out is never kept
   * without a ticket. If seats are free the signup is confirmed after all (true: from here on like
   * any confirmed signup); otherwise it is refunded in full (by the payment's refund flow), and the
   * participant is told either way.
   */
  async function latePaymentConfirmed(): Promise<boolean> {
    // Not a wait a cancel ends: a released signup cannot be cancelled.
    const paidLate = await condition(() => flow.paymentSucceeded, `${input.latePaymentGraceSeconds} seconds`);
    if (!paidLate) return false;
    const reinstated = await flow.untilDone('reinstateAfterLatePayment', () =>
      seats().reinstateAfterLatePayment({ signupId, offerSeconds: input.offerTimeoutSeconds }),
    );
    if (reinstated.status === 'held') {
      flow.moveTo((await flow.untilDone('confirmSeats', () => seats().confirmSeats({ signupId, paid: true }))).status);
      flow.progress.paymentState = 'succeeded';
      await notify('payment-receipt', 'payment-receipt');
      await notify('confirmation', 'confirmation');
      return true;
    }
    if (patched(unhonouredPaymentsPatch)) {
      // No seat for it: handed to the payment's refund flow, which refunds it in full and tells the participant.
      await flow.untilDone('handOverPayment', () => payments.handOverPayment({ signupId, reason: 'paid_after_hold_expired' }));
      flow.progress.paymentState = 'refunded';
      return false;
    }
    const refund = await flow.untilDone('refundSignup', () => payments.refundSignup({ signupId, purpose: 'late-payment', full: true }));
    flow.progress.paymentState = 'refunded';
    await notify('rejection', 'late-payment-refunded', { reason: 'paid_after_hold_expired', refundMinor: refund.refundMinor });
    return false;
  }

  /** Step 7, the one place a cancel is carried out: seats back (and offered on), money back by the policy, a receipt. */
  async function cancel(request: CancelRequest): Promise<void> {
    // Released change, behind a patch: histories recorded before it cancel through an activity task.
    const cancelMove = patched(cancelInTaskPatch) ? seatMovesInTaskWithin(input.seatMoveTimeoutSeconds) : seats();
    const result = await flow.untilDone('cancelSignup', () =>
      cancelMove.cancelSignup({ signupId, by: request.by, reason: request.reason, offerSeconds: input.offerTimeoutSeconds }),
    );
    flow.moveTo(result.status);
    await tellOffered(result.offers);
    if (result.status !== 'cancelled') return;
    let refundMinor = 0;
    if (input.paid && result.previousStatus === 'held' && patched(unhonouredPaymentsPatch)) {
      // Cancelled while paying: stop the intent. A payment that got through anyway (or was seen
      // before the cancel) never became a ticket: the payment's refund flow refunds all of it and
      // says so, the one refund path for such payments (workflows/payment-refund.ts).
      const state = await flow.untilDone('cancelPaymentIntent', () => payments.cancelPaymentIntent({ signupId }));
      if (state === 'succeeded' || flow.paymentSucceeded) {
        const reason = request.eventCancelled ? 'event_cancelled' : 'signup_cancelled';
        await flow.untilDone('handOverPayment', () => payments.handOverPayment({ signupId, reason }));
        flow.progress.paymentState = 'refunded';
      }
    } else if (input.paid && (flow.paymentSucceeded || result.previousStatus === 'confirmed')) {
      refundMinor = (await flow.untilDone('refundSignup', () => payments.refundSignup({ signupId, purpose: 'cancellation' }))).refundMinor;
      if (refundMinor > 0) flow.progress.paymentState = 'refunded';
    } else if (input.paid && result.previousStatus === 'held') {
      // Cancelled while paying: stop the intent. A payment that slipped through is refunded in full.
      if ((await flow.untilDone('cancelPaymentIntent', () => payments.cancelPaymentIntent({ signupId }))) === 'succeeded') {
        const refund = await flow.untilDone('refundSignup', () => payments.refundSignup({ signupId, purpose: 'cancelled-while-paying', full: true }));
        refundMinor = refund.refundMinor;
      }
    }
    const kind = request.eventCancelled ? 'event-cancelled' : 'cancellation-receipt';
    await notify(kind, 'cancellation-receipt', { refundMinor, by: request.by, reason: request.reason });
  }

  /** A cancel the API made (SignupWorkflowInput.cancelledAtDoor): free, so nothing to refund. */
  async function cancelledAtDoor(cancelled: CancelledAtDoor): Promise<void> {
    flow.progress.status = 'cancelled'; // as the start's search attributes say: nothing to upsert
    await tellOffered(cancelled.offers);
    await notify('cancellation-receipt', 'cancellation-receipt', { refundMinor: 0, by: cancelled.by, reason: cancelled.reason }, mailInTask);
  }

  async function tellOffered(offers: WaitlistOffer[]): Promise<void> {
    for (const offered of offers) {
      try {
        await getExternalWorkflowHandle(offered.workflowId).signal(waitlistOfferSignal, {
          holdExpiresAt: offered.holdExpiresAt,
        });
      } catch (error) {
        // Its workflow is not running yet (the API writes the row, then starts it) or any more: the
        // offer is in its row, where a starting workflow finds it (holdSeats answers `offeredAt`).
        log.warn('waitlist offer not signalled', { offered: offered.signupId, error: String(error) });
      }
    }
  }

  /** Several messages in one activity, in order (as `notify`: trouble is logged, the flow goes on). */
  async function notifyTogether(messages: Parameters<Activities['sendSignupNotifications']>[0]['messages']): Promise<void> {
    try {
      await mailInTask.sendSignupNotifications({ signupId, messages });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      log.error('notifications not all sent', { signupId, kinds: messages.map((message) => message.kind), error: error.message });
    }
  }

  async function notify(kind: NotificationKind, step: string, details: Record<string, unknown> = {}, via = mail): Promise<void> {
    try {
      await via.sendSignupNotification({ signupId, kind, step, details });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      log.error('notification not sent', { signupId, kind, step, error: error.message });
    }
  }
}
