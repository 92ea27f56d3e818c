import { defineEntity, p } from '@mikro-orm/core';

export const eventStatuses = ['draft', 'published', 'cancelled'] as const;
export type EventStatus = (typeof eventStatuses)[number];

/**
 * A live event and its seat counters. heldCount and confirmedCount are written only by
 * src/signups/seats.ts, with conditional updates; the check constraint is the database's own
 * guarantee of the central invariant, should any other code path ever try.
 */
export const LiveEventSchema = defineEntity({
  name: 'LiveEvent',
  tableName: 'event',
  checks: [
    { name: 'event_seats_within_capacity', expression: 'held_count + confirmed_count <= capacity' },
    { name: 'event_counters_not_negative', expression: 'capacity >= 0 and held_count >= 0 and confirmed_count >= 0' },
    { name: 'event_ends_after_start', expression: 'ends_at > starts_at' },
  ],
  properties: {
    id: p.uuid().primary(),
    title: p.string().length(200),
    market: p.string().length(8),
    timezone: p.string().length(64),
    status: p.enum(eventStatuses).default('draft'),
    startsAt: p.datetime(),
    endsAt: p.datetime(),
    capacity: p.integer(),
    heldCount: p.integer().default(0),
    confirmedCount: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export class LiveEvent extends LiveEventSchema.class {}
LiveEventSchema.setClass(LiveEvent);
