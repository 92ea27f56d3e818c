/**
 * Names shared by the API, the worker and the workflows: workflow ids, updates, queries and
 * search attributes are defined here once. Workflows import this file, so it must stay free of
 * Node built-ins and I/O (define* helpers are pure).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { NotificationKind } from '../events/event-data.js';
import type { SignupStatus } from '../signups/status.js';
import type { WaitlistOffer } from '../signups/seats.js';

/** Workflow type names, as exported from workflows/index.ts. */
export const workflowTypes = {
  signup: 'signupWorkflow',
  eventLifecycle: 'eventLifecycleWorkflow',
  eventRetention: 'eventRetentionWorkflow',
  notificationRetry: 'notificationRetryWorkflow',
  paymentRefund: 'paymentRefundWorkflow',
  erasure: 'erasureWorkflow',
  doorConfirmations: 'doorConfirmationsWorkflow',
} as const;

export const workflowIds = {
  signup: (signupId: string) => `signup-${signupId}`,
  eventLifecycle: (eventId: string) => `event-${eventId}`,
  /** A cancelled event's retention purge, waiting out the retention period after its lifecycle ended. */
  eventRetention: (eventId: string) => `event-retention-${eventId}`,
  /** One per notification (its once-only key) that a fan-out could not deliver on some channel. */
  notificationRetry: (notificationKey: string) => `notification-${notificationKey}`,
  /** One per PaymentIntent: whoever hands the same payment over reaches the same flow. */
  paymentRefund: (paymentIntentId: string) => `payment-${paymentIntentId}`,
  /** By the erasure request's id, never the user's: no personal data in Temporal. */
  erasure: (erasureId: string) => `erasure-${erasureId}`,
  /** One per group of free signups confirmed at the door together, named by its first signup. */
  doorConfirmations: (firstSignupId: string) => `door-confirmations-${firstSignupId}`,
} as const;

/**
 * The task queue of a signup's seat moves, next to the one its workflow runs on (the worker process
 * polls both: src/temporal/worker.ts). A seat move never waits behind a backlog of mails and other
 * activities: a cancel, a confirmation or the end of a hold answers while a burst's mails queue.
 */
export const seatTaskQueueOf = (taskQueue: string) => `${taskQueue}${seatQueueSuffix}`;
const seatQueueSuffix = '-seats';

/**
 * The workflows' task queue beside the queue an activity runs on (its own, or the seat queue next
 * to it): where a workflow an activity starts (a payment's refund flow, a notification retry) must
 * go, so the workers that run this flow run it. TEMPORAL_TASK_QUEUE never ends in the suffix
 * (src/config.ts refuses it).
 */
export const workflowTaskQueueOf = (activityTaskQueue: string) =>
  activityTaskQueue.endsWith(seatQueueSuffix) ? activityTaskQueue.slice(0, -seatQueueSuffix.length) : activityTaskQueue;

/** A task queue name the worker may use for its workflows (the seat queue's name is derived from it). */
export const isWorkflowTaskQueueName = (taskQueue: string) => !taskQueue.endsWith(seatQueueSuffix);

export const searchAttributes = {
  eventId: defineSearchAttributeKey('EventId', SearchAttributeType.KEYWORD),
  signupId: defineSearchAttributeKey('SignupId', SearchAttributeType.KEYWORD),
  signupStatus: defineSearchAttributeKey('SignupStatus', SearchAttributeType.KEYWORD),
  market: defineSearchAttributeKey('Market', SearchAttributeType.KEYWORD),
  flowKind: defineSearchAttributeKey('FlowKind', SearchAttributeType.KEYWORD),
  /** Where an event's lifecycle is: scheduled, announced, open, closed, completed, purged, cancelled. */
  eventPhase: defineSearchAttributeKey('EventPhase', SearchAttributeType.KEYWORD),
  /** Set while a flow waits for an operator: the step it could not get through (e.g. `refund`). */
  attention: defineSearchAttributeKey('Attention', SearchAttributeType.KEYWORD),
  /** The signups a door-confirmations flow stands for (each until it gets a workflow of its own). */
  signupIds: defineSearchAttributeKey('SignupIds', SearchAttributeType.KEYWORD_LIST),
} as const;

/** Every custom search attribute, for registering them on a server. */
export const allSearchAttributeKeys = Object.values(searchAttributes);

export const flowKinds = {
  signup: 'signup',
  eventLifecycle: 'event-lifecycle',
  eventRetention: 'event-retention',
  notificationRetry: 'notification-retry',
  paymentRefund: 'payment-refund',
  erasure: 'erasure',
  doorConfirmations: 'door-confirmations',
} as const;

/** The erasure workflow's input: only the request's id (the user id is read from its row while it runs). */
export interface ErasureWorkflowInput {
  erasureId: string;
}

export interface SignupWorkflowInput {
  signupId: string;
  eventId: string;
  /** How long seats stay held while a paid signup is being paid for. */
  holdTimeoutSeconds: number;
  /** How long seats offered from the waitlist stay held for the offer to be taken. */
  offerTimeoutSeconds: number;
  /** How long a guardian has to answer before the signup is rejected. */
  consentTimeoutSeconds: number;
  /** After a hold ran out, how long a late payment is still matched to this signup. */
  latePaymentGraceSeconds: number;
  /** StartToClose of one seat move attempt (SIGNUP_SEAT_MOVE_TIMEOUT_SECONDS); absent in older starts: 30 s. */
  seatMoveTimeoutSeconds?: number;
  /** Decided by the API from the requester's age and the event's consent age. */
  needsGuardianConsent: boolean;
  /** Whether money is due (amount > 0): free signups confirm as soon as seats are held. */
  paid: boolean;
  /** The API already holds the seats (taken in the request's transaction): no hold step needed. */
  heldByApi?: boolean;
  /** With heldByApi: the hold's deadline as stored (ISO), which the flow's hold timer counts down to. */
  holdExpiresAt?: string;
  /**
   * The API confirmed the seats (a free signup, taken and confirmed in the request's transaction,
   * ticket codes given): the flow only sends the confirmation and waits for the event or a cancel.
   * Workers without this field see a confirmed signup, and their hold and confirm steps change nothing.
   */
  confirmedByApi?: boolean;
  /**
   * The API cancelled the signup before it needed a workflow of its own (a free signup confirmed at
   * the door, that a door-confirmations flow stood for: src/signups/workflow-starts.ts, cancelAtDoor):
   * its seats are back and the offers they made are in their rows. The flow tells those offered and
   * the participant, and ends. Workers without this field never see it (no such start existed).
   */
  cancelledAtDoor?: CancelledAtDoor;
}

/** What the API's cancel at the door left for the signup's workflow to do (see SignupWorkflowInput). */
export interface CancelledAtDoor {
  by: CancelRequest['by'];
  reason?: string;
  /** Waitlisted signups the freed seats were offered to, to be told. */
  offers: WaitlistOffer[];
}

export interface SignupWorkflowResult {
  signupId: string;
  status: SignupStatus;
}

/** What the workflow knows, for the query (the database row is the public view). */
export interface SignupProgress {
  status: SignupStatus;
  paymentState: 'not-needed' | 'awaiting' | 'failed' | 'succeeded' | 'refunded';
  lastPaymentError?: string;
  seenPaymentEvents: number;
  /** The step waiting for an operator, and why. */
  attention?: { step: string; error: string };
}

export interface PaymentEvent {
  /** Stripe's event id: the same delivery twice is recognised and ignored. */
  stripeEventId: string;
  kind: 'succeeded' | 'failed' | 'canceled';
  paymentIntentId: string;
}

export interface CancelRequest {
  by: 'participant' | 'organizer';
  reason?: string;
  /** The whole event was cancelled: the participant is told that, not that they cancelled. */
  eventCancelled?: boolean;
}

/** Takes seats offered from the waitlist (free signups; paid ones take them by paying). */
export const confirmSignupUpdate = defineUpdate<SignupStatus>('confirmSignup');
/** Cancels the signup; answers the status reached (`cancelled`). Refunds follow the refund policy. */
export const cancelSignupUpdate = defineUpdate<SignupStatus, [CancelRequest]>('cancelSignup');
export const paymentEventSignal = defineSignal<[PaymentEvent]>('paymentEvent');
export const guardianDecisionSignal = defineSignal<['approved' | 'denied']>('guardianDecision');
/** Freed seats were given to this waitlisted signup (by the transaction that freed them). */
export const waitlistOfferSignal = defineSignal<[{ holdExpiresAt: string }]>('waitlistOffer');
/** The event's signups closed: a signup still on the waitlist ends. */
export const waitlistClosedSignal = defineSignal('waitlistClosed');
/** The event is over: a confirmed signup's workflow completes. */
export const eventFinishedSignal = defineSignal('eventFinished');
/** A signup of a door-confirmations flow got a workflow of its own (a cancel, an erasure): the flow no longer stands for it. */
export const doorSignupLeftSignal = defineSignal<[string]>('doorSignupLeft');

/**
 * Free signups the API confirmed at the door together, whose signup workflows are started only when
 * something needs one (docs/architecture.md, "Door confirmations"). Few enough that their ids fit one
 * search attribute value (DOOR_CONFIRMATIONS_PER_FLOW).
 */
export interface DoorConfirmationsInput {
  eventId: string;
  signupIds: string[];
}

/**
 * Most signups one door-confirmations flow stands for: their ids are its SignupIds search attribute,
 * and the server refuses a value over 2 KB (limit.searchAttributesSizeOfValueBytes), about 50 ids.
 */
export const DOOR_CONFIRMATIONS_PER_FLOW = 40;

/** An operator has fixed what a flow was stuck on (see `Attention`): try the step again. */
export const retryStepSignal = defineSignal('retryStep');
export const signupStatusQuery = defineQuery<SignupStatus>('signupStatus');
export const signupProgressQuery = defineQuery<SignupProgress>('signupProgress');

/** A fan-out's notification that failed on some channel, tried again on its own schedule. */
export interface NotificationRetryInput {
  /** Its once-only key (notification_log): channels already sent answer already-sent. */
  key: string;
  notification:
    | { to: 'signup'; signupId: string; kind: NotificationKind; step: string; details: Record<string, unknown> }
    | { to: 'user'; userId: string; eventId: string; kind: NotificationKind; step: string };
  /** Tries before it is recorded as failed; the first waits initialIntervalSeconds, each next twice as long. */
  maximumAttempts: number;
  initialIntervalSeconds: number;
}

export interface EventLifecycleInput {
  eventId: string;
  /** Reminders to confirmed participants, seconds before the start. */
  reminderOffsetsSeconds: number[];
  /** Attendees' personal data is purged this long after the end. */
  retentionSeconds: number;
  /** Carried over by continue-as-new: the steps already done. */
  done?: string[];
}

export interface EventLifecycleState {
  phase: string;
  /** The next step and when it is due (ISO), if any. */
  next: { key: string; at: string } | null;
  done: string[];
  /** Versions of the event whose change participants were told about. */
  changesAnnounced: number[];
}

/** The event's dates or venue changed (admin PATCH): recompute the timers, tell participants once. */
export const eventChangedSignal = defineSignal<[{ version: number }]>('eventChanged');
/** The organizer cancelled the event: cancel every active signup through its own workflow. */
export const cancelEventSignal = defineSignal<[{ reason: string }]>('cancelEvent');
/** The event went back to draft before its announcement: nothing more to do. */
export const eventWithdrawnSignal = defineSignal('eventWithdrawn');
export const eventLifecycleQuery = defineQuery<EventLifecycleState>('eventLifecycle');

/**
 * Why a succeeded payment cannot become a ticket (the participant's mail says it in words:
 * src/notifications/reasons.ts).
 */
export const unhonouredPaymentReasons = [
  /** Paid after the hold ran out, and no seat was free any more. */
  'paid_after_hold_expired',
  /** The signup was cancelled (by the participant or an organizer) before or while it was paid. */
  'signup_cancelled',
  /** The event was cancelled. */
  'event_cancelled',
  /** The signup had ended (released past the late-payment grace, rejected): its flow is gone. */
  'signup_ended',
  /** The intent names a signup of ours that does not exist, or whose payment is another intent. */
  'signup_unknown',
  /** Stripe took another amount or currency than the signup was quoted. */
  'payment_not_as_quoted',
] as const;
export type UnhonouredPaymentReason = (typeof unhonouredPaymentReasons)[number];

export interface PaymentRefundInput {
  paymentIntentId: string;
}

/** A succeeded payment handed over to be refunded: by the webhook, or by the signup's workflow. */
export interface UnhonouredPayment {
  reason: UnhonouredPaymentReason;
  /** The signup the intent was made for, when known (its participant is told). */
  signupId: string | null;
  from: 'webhook' | 'signup-workflow';
  stripeEventId?: string;
}

export interface PaymentRefundResult {
  paymentIntentId: string;
  outcome: 'refunded' | 'already-refunded' | 'nothing-paid';
  refundMinor: number;
}

export interface PaymentRefundProgress {
  reason?: UnhonouredPaymentReason;
  state: 'waiting' | 'refunding' | 'refunded' | 'already-refunded' | 'nothing-paid';
  /** Hand-overs received: the first decides, the others (redeliveries, both paths at once) change nothing. */
  handedOver: number;
  attention?: { step: string; error: string };
}

/** Starts (signal-with-start) or reaches the payment's refund flow; only the first one counts. */
export const unhonouredPaymentSignal = defineSignal<[UnhonouredPayment]>('unhonouredPayment');
export const paymentRefundProgressQuery = defineQuery<PaymentRefundProgress>('paymentRefundProgress');
/** Outbound webhooks (src/webhooks/): one workflow per delivery (endpoint and message) and round. */
export const webhookDeliveryWorkflowType = 'webhookDeliveryWorkflow';
export const webhookDeliveryWorkflowId = (deliveryId: string, round: number) => `webhook-delivery-${deliveryId}-${round}`;

export interface WebhookDeliveryInput {
  deliveryId: string;
  /** Retry policy of the HTTP attempts (Temporal's backoff): first wait, and attempts in all. */
  retryInitialSeconds: number;
  maxAttempts: number;
  /** Messages in a row that failed every attempt before the endpoint is disabled (and its owner told). */
  disableAfterFailures: number;
}
