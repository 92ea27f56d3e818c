import { defineEntity, p } from '@mikro-orm/core';
import { platforms } from '../events/event-data.js';
import { LiveEvent } from '../events/event.entity.js';
import { TicketType } from '../events/ticket-type.entity.js';
import { activeSignupStatuses, signupStatuses } from './status.js';

export const cancelledByValues = ['participant', 'organizer'] as const;
export const guardianDecisions = ['approved', 'denied'] as const;

/** One participant's request for seats at one event, and where it stands. */
export const SignupSchema = defineEntity({
  name: 'Signup',
  tableName: 'signup',
  indexes: [
    { properties: ['event', 'status'] },
    { properties: ['userId', 'createdAt'] },
    // The waitlist in order: the head is the earliest waitlisted signup of the event.
    { name: 'signup_waitlist_order_idx', properties: ['event', 'waitlistedAt', 'id'], where: `status = 'waitlisted'` },
    // Holds by deadline: a claim that finds no room releases the event's expired ones (seats.ts).
    { name: 'signup_hold_deadline_idx', properties: ['event', 'holdExpiresAt'], where: `status = 'held'` },
  ],
  uniques: [
    // The same Idempotency-Key from the same user always means the same signup.
    { name: 'signup_user_idempotency_key_unique', properties: ['userId', 'idempotencyKey'] },
    // One active signup per user and event, decided by the database even under concurrent requests.
    {
      name: 'signup_one_active_per_user_and_event',
      properties: ['event', 'userId'],
      where: `status in (${activeSignupStatuses.map((status) => `'${status}'`).join(', ')})`,
    },
  ],
  checks: [{ name: 'signup_seats_positive', expression: 'seats > 0' }],
  // Every status change is announced on the `signup_status` channel (LISTEN/NOTIFY), which feeds the
  // server-sent events of GET /v1/signups/{id}/events: pushed by the change itself, nobody polls.
  triggers: [
    {
      name: 'signup_status_notify',
      timing: 'after',
      events: ['insert', 'update'],
      forEach: 'row',
      body: `if tg_op = 'INSERT' or old.status is distinct from new.status then perform pg_notify('signup_status', json_build_object('signupId', new.id, 'status', new.status)::text); end if; return null;`,
    },
    {
      // Outbound webhooks' outbox (src/webhooks/): in the transaction of the change, whoever makes it.
      name: 'signup_integration_event',
      timing: 'after',
      events: ['insert', 'update'],
      forEach: 'row',
      body: `if (tg_op = 'INSERT' or old.status is distinct from new.status) and new.status in ('confirmed', 'cancelled', 'waitlisted') then insert into integration_event (id, type, event_id, signup_id, market, category, payload, occurred_at) select gen_random_uuid(), 'signup.' || new.status, new.event_id, new.id, e.market, e.category, jsonb_build_object('signupId', new.id, 'eventId', new.event_id, 'status', new.status, 'seats', new.seats, 'platform', new.platform), clock_timestamp() from event e where e.id = new.event_id; end if; return null;`,
    },
  ],
  properties: {
    id: p.uuid().primary(),
    event: () => p.manyToOne(LiveEvent),
    /** The identity provider's subject; contact details live in user_contact, not here. */
    userId: p.string().length(200),
    /** The client's Idempotency-Key header, when it sent one. */
    idempotencyKey: p.string().length(200).nullable(),
    seats: p.integer(),
    ticketType: () => p.manyToOne(TicketType).nullable(),
    platform: p.enum(platforms).default('web'),
    /** The language the participant's e-mails are written in. */
    locale: p.string().length(16).default('en'),
    promoCode: p.string().length(64).nullable(),
    /** What the signup costs, in the currency's minor unit; 0 when free. */
    amountMinor: p.integer().default(0),
    currency: p.string().length(3).nullable(),
    status: p.enum(signupStatuses).default('requested'),
    holdExpiresAt: p.datetime().nullable(),
    /** Set while on the waitlist: the queue order. */
    waitlistedAt: p.datetime().nullable(),
    /** Set when freed seats were offered to this signup from the waitlist. */
    offeredAt: p.datetime().nullable(),
    confirmedAt: p.datetime().nullable(),
    releasedAt: p.datetime().nullable(),
    rejectionReason: p.string().length(64).nullable(),
    guardianDecision: p.enum(guardianDecisions).nullable(),
    guardianDecidedAt: p.datetime().nullable(),
    paymentIntentId: p.string().length(255).nullable(),
    /** Handed to the app while the signup awaits payment (Stripe's client-side confirmation). */
    paymentClientSecret: p.string().length(255).nullable(),
    paidAt: p.datetime().nullable(),
    refundedMinor: p.integer().default(0),
    cancelledAt: p.datetime().nullable(),
    cancelledBy: p.enum(cancelledByValues).nullable(),
    cancellationReason: p.string().length(500).nullable(),
    checkedInAt: p.datetime().nullable(),
    checkedInBy: p.string().length(200).nullable(),
    workflowId: p.string().length(200),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export class Signup extends SignupSchema.class {}
SignupSchema.setClass(Signup);
