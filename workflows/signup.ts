import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
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
  searchAttributes,
  signupProgressQuery,
  signupStatusQuery,
  waitlistClosedSignal,
  waitlistOfferSignal,
  type CancelRequest,
  type SignupProgress,
  type SignupWorkflowInput,
  type SignupWorkflowResult,
} from '../src/temporal/contract.js';
import type { SeatMove, WaitlistOffer } from '../src/signups/seats.js';
import { isFinalSignupStatus, nextSignupStatus, type SignupStatus } from '../src/signups/status.js';

// Seat moves are short database transactions; retry transient failures (database restarts,
// connection loss) with backoff. Business outcomes are return values, never errors. An attempt
// that outlives its StartToClose may still commit: its retry answers the recorded outcome.
const seatActivitiesWithin = (seconds = 30) =>
  proxyActivities<Activities>({
    startToCloseTimeout: `${seconds} seconds`,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
  });

// Stripe calls carry idempotency keys, so retrying them is safe; Stripe refusing a request
// (invalid, card declined) is non-retryable and raised by the activity as such.
const paymentActivities = proxyActivities<Activities>({
  startToCloseTimeout: '45 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 15 },
});

// A message is sent at most once per key (the notification log), so retries never send twice.
// Mail trouble must not stop a signup: after the last attempt the flow logs it and goes on.
const mail = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/**
 * Released change: a succeeded payment this flow cannot honour (cancelled while paying, a late
 * payment with no seat left) is handed to its refund flow instead of being refunded here.
 */
const unhonouredPaymentsPatch = 'unhonoured-payments-handed-over';

// The same, run inside the workflow task (a local activity): for the one step of a free signup the
// API confirmed, so the server handles no activity task for it (a burst of free signups is the
// heaviest load the workflow engine sees: bench/signup-burst.ts). Longer retries than a minute
// become timers, so a mail server that stays down still does not hold the task.
const mailInTask = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/**
 * One signup, from request to the end of the event: guardian consent (if the requester is a minor),
 * seats held or a place on the waitlist, payment while the hold lasts, confirmation with ticket
 * codes, and cancellation with a refund at any point until the event is over.
 */
export async function signupWorkflow(input: SignupWorkflowInput): Promise<SignupWorkflowResult> {
  const { signupId } = input;
  const progress: SignupProgress = {
    status: 'requested',
    paymentState: input.paid ? 'awaiting' : 'not-needed',
    seenPaymentEvents: 0,
  };
  let guardianDecision: 'approved' | 'denied' | undefined;
  let offer: { holdExpiresAt: string } | undefined;
  let offerAccepted = false;
  let cancelRequest: CancelRequest | undefined;
  let waitlistClosed = false;
  let eventFinished = false;
  let paymentSucceeded = false;
  const seenStripeEvents = new Set<string>();

  // Seat moves and Stripe calls that still fail after their retry policy (a refund Stripe keeps
  // refusing, a database that stays down) do not end the flow: it waits, marked `Attention`, until
  // an operator has fixed the cause and sends `retryStep` (npm run ops -- retry <workflowId>).
  let retryRequested = false;
  setHandler(retryStepSignal, () => {
    retryRequested = true;
  });
  const untilDone = async <T>(step: string, run: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof ActivityFailure)) throw error;
        const cause = error.cause instanceof Error ? error.cause.message : error.message;
        progress.attention = { step, error: cause };
        upsertSearchAttributes([{ key: searchAttributes.attention, value: step }]);
        log.error('signup step needs an operator', { signupId, step, error: cause });
        retryRequested = false;
        await condition(() => retryRequested);
        progress.attention = undefined;
        upsertSearchAttributes([{ key: searchAttributes.attention, value: null }]);
      }
    }
  };
  const seats = attended(seatActivitiesWithin(input.seatMoveTimeoutSeconds), untilDone);
  const payments = attended(paymentActivities, untilDone);

  const moveTo = (next: SignupStatus) => {
    if (next === progress.status) return;
    progress.status = next;
    upsertSearchAttributes([{ key: searchAttributes.signupStatus, value: next }]);
  };

  setHandler(signupStatusQuery, () => progress.status);
  setHandler(signupProgressQuery, () => progress);
  setHandler(guardianDecisionSignal, (decision) => {
    guardianDecision ??= decision;
  });
  setHandler(waitlistOfferSignal, (offered) => {
    offer ??= offered;
  });
  setHandler(waitlistClosedSignal, () => {
    waitlistClosed = true;
  });
  setHandler(eventFinishedSignal, () => {
    eventFinished = true;
  });
  setHandler(paymentEventSignal, (event) => {
    // Stripe delivers at least once; a delivery seen before changes nothing.
    if (seenStripeEvents.has(event.stripeEventId)) return;
    seenStripeEvents.add(event.stripeEventId);
    progress.seenPaymentEvents = seenStripeEvents.size;
    if (event.kind === 'succeeded') paymentSucceeded = true;
    else if (!paymentSucceeded) {
      progress.paymentState = 'failed';
      progress.lastPaymentError = event.kind === 'failed' ? 'payment failed; it may be retried while the hold lasts' : 'payment canceled';
    }
  });
  setHandler(
    confirmSignupUpdate,
    async () => {
      const beforeOffer = () => progress.status === 'requested' || progress.status === 'waitlisted';
      if (beforeOffer()) {
        // The API saw the offer in the database (the freeing transaction writes it before its
        // workflow signals us, and this workflow may still be starting): wait for it rather than
        // refuse an offer the user can see.
        await condition(() => offer !== undefined || !beforeOffer(), '1 minute');
        if (!offer) {
          throw ApplicationFailure.create({ type: 'SignupNotHeld', message: `signup is ${progress.status}, with no offer to take` });
        }
      }
      offerAccepted = true;
      await condition(() => progress.status !== 'held' && progress.status !== 'waitlisted');
      return progress.status;
    },
    {
      validator: () => {
        const offerHere = progress.status === 'held' && offer !== undefined;
        const offerComing = progress.status === 'requested' || progress.status === 'waitlisted';
        if (input.paid || (!offerHere && !offerComing)) {
          throw ApplicationFailure.create({
            type: 'SignupNotHeld',
            message: input.paid ? 'paid signups are confirmed by their payment' : `signup is ${progress.status}, with no offer to take`,
          });
        }
      },
    },
  );
  setHandler(
    cancelSignupUpdate,
    async (request) => {
      cancelRequest ??= request;
      await condition(() => isFinalSignupStatus(progress.status));
      return progress.status;
    },
    {
      validator: (request: CancelRequest) => {
        if (request.by !== 'participant' && request.by !== 'organizer') {
          throw ApplicationFailure.create({ type: 'BadCancelRequest', message: 'by must be participant or organizer' });
        }
        if (!nextSignupStatus(progress.status, 'cancel')) {
          throw ApplicationFailure.create({ type: 'SignupNotActive', message: `signup is ${progress.status}` });
        }
      },
    },
  );

  const finish = (): SignupWorkflowResult => ({ signupId, status: progress.status });

  // 1. A minor's guardian decides first; no seats are held meanwhile (see docs/architecture.md).
  if (input.needsGuardianConsent) {
    moveTo((await seats.awaitConsent({ signupId })).status);
    await notify('consent-request', 'consent-request');
    const answered = await condition(
      () => guardianDecision !== undefined || cancelRequest !== undefined,
      `${input.consentTimeoutSeconds} seconds`,
    );
    // A decision recorded in the database whose signal got lost still counts.
    if (!answered) guardianDecision = (await seats.readGuardianDecision({ signupId })) ?? undefined;
    if (cancelRequest) {
      await cancel(cancelRequest);
      return finish();
    }
    // Released change, behind a patch: the guardian gets a receipt of the answer (histories recorded
    // before it replay without the mail).
    if (guardianDecision !== undefined && patched('consent-receipt')) await notify('consent-receipt', 'consent-receipt');
    if (guardianDecision !== 'approved') {
      const reason = guardianDecision === 'denied' ? 'guardian_declined' : 'guardian_did_not_answer';
      moveTo((await seats.rejectSignup({ signupId, reason })).status);
      await notify('rejection', 'rejection', { reason });
      return finish();
    }
  }

  // 2 and 3. Seats, then their confirmation; a free signup arrives confirmed by the API already.
  if (input.confirmedByApi) {
    progress.status = 'confirmed'; // as the start's search attributes say: nothing to upsert
    await notify('confirmation', 'confirmation', {}, mailInTask);
  } else if ((await holdThenConfirm()) === 'ended') {
    return finish();
  }

  // 4. Confirmed until the event is over, or until someone cancels.
  await condition(() => cancelRequest !== undefined || eventFinished);
  if (cancelRequest) {
    await cancel(cancelRequest);
    return finish();
  }
  return finish();

  /** Steps 2 and 3: seats held (or a waitlist place, then an offer), then confirmed; or the flow ends. */
  async function holdThenConfirm(): Promise<'confirmed' | 'ended'> {
    // 2. Seats, or a place on the waitlist.
    // Released change, behind a patch: histories recorded before it still replay the hold step.
    // Seats the API already holds need no hold step (one activity less per signup: measured by
    // bench/signup-burst.ts). Only this workflow moves a held signup before its deadline, so it is
    // still held (after the deadline a seat claim may have released it: see confirmSeats below).
    const hold: SeatMove =
      input.heldByApi && patched('seats-held-by-api')
        ? { status: 'held', offers: [], ...(input.holdExpiresAt ? { holdExpiresAt: input.holdExpiresAt } : {}) }
        : await seats.holdSeats({ signupId, holdSeconds: input.holdTimeoutSeconds, allowWaitlist: true, offerSeconds: input.offerTimeoutSeconds });
    // The API may have put the signup on the waiting list and freed seats been offered to it before
    // this workflow got going: that is an offer to take, not a plain hold.
    const offeredBeforeStart = hold.status === 'held' && hold.offeredAt !== undefined;
    if (offeredBeforeStart) offer ??= { holdExpiresAt: hold.holdExpiresAt ?? hold.offeredAt ?? '' };
    moveTo(offeredBeforeStart ? 'waitlisted' : hold.status);
    if (hold.status === 'rejected') {
      await notify('rejection', 'rejection', { reason: hold.reason ?? 'sold_out' });
      return 'ended';
    }
    await notify('signup-received', 'signup-received', { waitlisted: hold.status === 'waitlisted' || offeredBeforeStart });

    if (hold.status === 'waitlisted' || offeredBeforeStart) {
      // Offers arrive as signals from whoever freed the seats. Should one be lost (an API process dying
      // between its commit and its signal), the database still says `held`: look now and then.
      while (!(await condition(() => offer !== undefined || cancelRequest !== undefined || waitlistClosed, '1 hour'))) {
        const row = await seats.readSeatState({ signupId });
        if (row.status === 'held' && row.holdExpiresAt) offer = { holdExpiresAt: row.holdExpiresAt };
      }
      if (cancelRequest) {
        await cancel(cancelRequest);
        return 'ended';
      }
      if (!offer) {
        moveTo((await seats.rejectSignup({ signupId, reason: 'waitlist_closed' })).status);
        await notify('rejection', 'rejection', { reason: 'waitlist_closed' });
        return 'ended';
      }
      moveTo('held');
      await notify('waitlist-offer', 'waitlist-offer', { expiresAt: offer.holdExpiresAt });
    }

    // 3. Held seats become confirmed: at once when free, when the offer is taken, or when paid.
    // Released change, behind a patch: the window ends at the deadline stored with the seats (the
    // holdExpiresAt the app was shown), not a full window after this workflow got going or after the
    // intent was created. Histories recorded before it still wait the whole window.
    const windowSeconds = offer ? input.offerTimeoutSeconds : input.holdTimeoutSeconds;
    const deadline = offer ? offer.holdExpiresAt : hold.holdExpiresAt;
    const exactDeadline = deadline !== undefined && deadline !== '' && patched('hold-until-stored-deadline') ? deadline : undefined;
    const whileHeld = (done: () => boolean): Promise<boolean> =>
      exactDeadline ? untilTime(done, exactDeadline) : condition(done, `${windowSeconds} seconds`);
    if (input.paid) {
      await payments.createPaymentIntent({ signupId });
      await whileHeld(() => paymentSucceeded || cancelRequest !== undefined);
      if (cancelRequest && !paymentSucceeded) {
        await cancel(cancelRequest);
        return 'ended';
      }
      // No webhook by the end of the hold: ask Stripe before deciding (webhooks get lost).
      // Only ever set to true: a webhook may land while Stripe is being asked, and must not be forgotten.
      if (!paymentSucceeded && (await payments.checkPaymentIntent({ signupId })) === 'succeeded') paymentSucceeded = true;
      if (!paymentSucceeded) {
        // Once cancelled at Stripe the intent can no longer be paid; if it was paid meanwhile, it counts.
        if ((await payments.cancelPaymentIntent({ signupId })) === 'succeeded') paymentSucceeded = true;
      }
      if (!paymentSucceeded) {
        await expire();
        await settleLatePayment();
        return 'ended';
      }
      progress.paymentState = 'succeeded';
    } else if (offer) {
      const taken = await whileHeld(() => offerAccepted || cancelRequest !== undefined);
      if (cancelRequest) {
        await cancel(cancelRequest);
        return 'ended';
      }
      if (!taken) {
        await expire();
        return 'ended';
      }
    }
    const confirmed = await seats.confirmSeats({ signupId, paid: input.paid });
    moveTo(confirmed.status);
    if (confirmed.status === 'released') {
      // The deadline passed and a seat claim released the hold before this step (the ledger treats
      // an expired hold as free): the hold ran out, and a payment that came is a late one.
      await expire();
      if (input.paid) await settleLatePayment();
      return 'ended';
    }
    if (input.paid) await notify('payment-receipt', 'payment-receipt');
    await notify('confirmation', 'confirmation');
    return 'confirmed';
  }

  async function cancel(request: CancelRequest): Promise<void> {
    const result = await seats.cancelSignup({ signupId, by: request.by, reason: request.reason, offerSeconds: input.offerTimeoutSeconds });
    moveTo(result.status);
    await tellOffered(result.offers);
    if (result.status !== 'cancelled') return;
    let refundMinor = 0;
    if (input.paid && result.previousStatus === 'held' && patched(unhonouredPaymentsPatch)) {
      // Cancelled while paying: stop the intent. A payment that got through anyway (or was seen
      // before the cancel) never became a ticket: the payment's refund flow refunds all of it and
      // says so, the one refund path for such payments (workflows/payment-refund.ts).
      const state = await payments.cancelPaymentIntent({ signupId });
      if (state === 'succeeded' || paymentSucceeded) {
        await payments.handOverPayment({ signupId, reason: request.eventCancelled ? 'event_cancelled' : 'signup_cancelled' });
        progress.paymentState = 'refunded';
      }
    } else if (input.paid && (paymentSucceeded || result.previousStatus === 'confirmed')) {
      refundMinor = (await payments.refundSignup({ signupId, purpose: 'cancellation' })).refundMinor;
      if (refundMinor > 0) progress.paymentState = 'refunded';
    } else if (input.paid && result.previousStatus === 'held') {
      // Cancelled while paying: stop the intent. A payment that slipped through is refunded in full.
      if ((await payments.cancelPaymentIntent({ signupId })) === 'succeeded') {
        refundMinor = (await payments.refundSignup({ signupId, purpose: 'cancelled-while-paying', full: true })).refundMinor;
      }
    }
    const kind = request.eventCancelled ? 'event-cancelled' : 'cancellation-receipt';
    await notify(kind, 'cancellation-receipt', { refundMinor, by: request.by, reason: request.reason });
  }

  /** The hold (or offer) ran out: the seats go back, to the next in line if someone waits. */
  async function expire(): Promise<void> {
    const result = await seats.releaseHold({ signupId, offerSeconds: input.offerTimeoutSeconds });
    moveTo(result.status);
    await tellOffered(result.offers);
    await notify('rejection', 'hold-expired', { reason: offer ? 'offer_expired' : 'payment_not_received' });
  }

  /**
   * The documented late-payment rule: a payment that lands after the hold ran out is never kept
   * without a ticket. If seats are free the signup is confirmed after all; otherwise it is refunded
   * in full (by the payment's refund flow), and the participant is told either way.
   */
  async function settleLatePayment(): Promise<void> {
    const paidLate = await condition(() => paymentSucceeded, `${input.latePaymentGraceSeconds} seconds`);
    if (!paidLate) return;
    const reinstated = await seats.reinstateAfterLatePayment({ signupId, offerSeconds: input.offerTimeoutSeconds });
    if (reinstated.status === 'held') {
      moveTo((await seats.confirmSeats({ signupId, paid: true })).status);
      progress.paymentState = 'succeeded';
      await notify('payment-receipt', 'payment-receipt');
      await notify('confirmation', 'confirmation');
      // Confirmed after all: from here on like any confirmed signup.
      await condition(() => cancelRequest !== undefined || eventFinished);
      if (cancelRequest) await cancel(cancelRequest);
      return;
    }
    if (patched(unhonouredPaymentsPatch)) {
      // No seat for it: handed to the payment's refund flow, which refunds it in full and tells the participant.
      await payments.handOverPayment({ signupId, reason: 'paid_after_hold_expired' });
      progress.paymentState = 'refunded';
      return;
    }
    const refund = await payments.refundSignup({ signupId, purpose: 'late-payment', full: true });
    progress.paymentState = 'refunded';
    await notify('rejection', 'late-payment-refunded', { reason: 'paid_after_hold_expired', refundMinor: refund.refundMinor });
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

  async function notify(kind: NotificationKind, step: string, details: Record<string, unknown> = {}, via = mail): Promise<void> {
    try {
      await via.sendSignupNotification({ signupId, kind, step, details });
    } catch (error) {
      if (!(error instanceof ActivityFailure)) throw error;
      log.error('notification not sent', { signupId, kind, step, error: error.message });
    }
  }
}

/**
 * Waits until `done` or the moment `at` (ISO), whichever comes first; true if `done`. The SDK's Date
 * inside a workflow is deterministic (the time of the current workflow task, replayed from history),
 * and this is its one use: turning a deadline stored in the database into a timer's duration.
 */
async function untilTime(done: () => boolean, at: string): Promise<boolean> {
  // eslint-disable-next-line no-restricted-properties -- workflow task time, deterministic on replay (see above)
  const remainingMs = Date.parse(at) - Date.now();
  return remainingMs > 0 ? condition(done, remainingMs) : done();
}

/** The activities, each call run through `untilDone` under the activity's own name as the step. */
function attended<A extends object>(activities: A, untilDone: <T>(step: string, run: () => Promise<T>) => Promise<T>): A {
  return new Proxy(activities, {
    get(target, name) {
      const activity = Reflect.get(target, name) as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) => untilDone(String(name), () => activity(...args));
    },
  });
}
