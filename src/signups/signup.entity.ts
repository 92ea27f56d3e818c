import { defineEntity, p } from '@mikro-orm/core';
import { LiveEvent } from '../events/event.entity.js';
import { TicketType } from '../events/ticket-type.entity.js';
import { activeSignupStatuses, signupStatuses } from './status.js';

/** One participant's request for seats at one event, and where it stands. */
export const SignupSchema = defineEntity({
  name: 'Signup',
  tableName: 'signup',
  indexes: [{ properties: ['event', 'status'] }, { properties: ['userId'] }],
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
  properties: {
    id: p.uuid().primary(),
    event: () => p.manyToOne(LiveEvent),
    /** The identity provider's subject; we keep no other personal data here. */
    userId: p.string().length(200),
    /** The client's Idempotency-Key header, when it sent one. */
    idempotencyKey: p.string().length(200).nullable(),
    seats: p.integer(),
    ticketType: () => p.manyToOne(TicketType).nullable(),
    /** What the signup costs, in the currency's minor unit; null while free or not yet priced. */
    amountMinor: p.integer().nullable(),
    currency: p.string().length(3).nullable(),
    checkedInAt: p.datetime().nullable(),
    checkedInBy: p.string().length(200).nullable(),
    status: p.enum(signupStatuses).default('requested'),
    holdExpiresAt: p.datetime().nullable(),
    confirmedAt: p.datetime().nullable(),
    releasedAt: p.datetime().nullable(),
    rejectionReason: p.string().length(64).nullable(),
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
