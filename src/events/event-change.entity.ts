import { defineEntity, p } from '@mikro-orm/core';

export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** One entry of an event's edit history: who did what, when, field by field. Never updated. */
export const EventChangeSchema = defineEntity({
  name: 'EventChange',
  tableName: 'event_change',
  indexes: [{ properties: ['eventId', 'changedAt'] }],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    /** Not a foreign key: the history of a deleted draft stays readable for audits. */
    eventId: p.uuid(),
    action: p.string().length(32),
    changedBy: p.string().length(200),
    changedAt: p.datetime().onCreate(() => new Date()),
    changes: p.json<FieldChange[]>().defaultRaw(`'[]'`),
  },
});

export class EventChange extends EventChangeSchema.class {}
EventChangeSchema.setClass(EventChange);
