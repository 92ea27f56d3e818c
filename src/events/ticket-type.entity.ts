import { defineEntity, p } from '@mikro-orm/core';
import type { Price } from './event-data.js';
import { LiveEvent } from './event.entity.js';

/**
 * A kind of ticket for an event: free (no prices) or priced per currency, optionally with a
 * capacity of its own inside the event's. Its counters follow the same rules as the event's.
 */
export const TicketTypeSchema = defineEntity({
  name: 'TicketType',
  tableName: 'ticket_type',
  uniques: [{ properties: ['event', 'code'] }],
  checks: [
    {
      name: 'ticket_type_seats_within_capacity',
      expression: 'capacity is null or held_count + confirmed_count <= capacity',
    },
    { name: 'ticket_type_counters_not_negative', expression: 'held_count >= 0 and confirmed_count >= 0' },
  ],
  properties: {
    id: p.uuid().primary(),
    event: () => p.manyToOne(LiveEvent).deleteRule('cascade'),
    /** Stable short name used by apps, e.g. `child`, `adult`, `family`. */
    code: p.string().length(64),
    /** Display name per locale. */
    names: p.json<Record<string, string>>(),
    prices: p.json<Price[]>().defaultRaw(`'[]'`),
    capacity: p.integer().nullable(),
    heldCount: p.integer().default(0),
    confirmedCount: p.integer().default(0),
    sortOrder: p.integer().default(0),
  },
});

export class TicketType extends TicketTypeSchema.class {}
TicketTypeSchema.setClass(TicketType);
