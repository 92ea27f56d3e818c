import { defineEntity, p } from '@mikro-orm/core';
import { eventStatuses, LiveEvent } from './event.entity.js';

/**
 * What the keyword walk of the public catalog (public-catalog.ts) reads, one row per translation,
 * copied by database triggers (declared on LiveEvent and EventTranslation); the code never writes it.
 * Its partial index holds the rows in start order with everything the walk checks beside the key,
 * so a walk over the next events reads a few consecutive index pages (an index-only scan) instead
 * of one event row and one or two translation rows, each on a page of its own, per event: the
 * difference between about 1 and 5 to 25 ms per 150 events when those pages are not cached.
 */
export const EventSearchSchema = defineEntity({
  name: 'EventSearch',
  tableName: 'event_search',
  indexes: [
    {
      name: 'event_search_walk_idx',
      properties: ['startsAt', 'event', 'locale'],
      include: ['endsAt', 'announceAt', 'isDefault', 'walkVector'],
      where: `status = 'published'`,
    },
  ],
  properties: {
    event: () => p.manyToOne(LiveEvent).primary().deleteRule('cascade'),
    locale: p.string().length(16).primary(),
    /** The event's, as they are now. */
    startsAt: p.datetime(),
    /** The default catalog leaves out events that have ended. */
    endsAt: p.datetime(),
    status: p.enum(eventStatuses),
    announceAt: p.datetime().nullable(),
    /** Whether this is the event's default locale (the text shown where the requested one is missing). */
    isDefault: p.boolean(),
    /**
     * The translation's search vector, or null where it is too large for an index entry (a btree
     * entry holds at most about 2.7 kB); the walk then reads the translation's own.
     */
    walkVector: p.type('unknown').columnType('tsvector').nullable().lazy().hidden(),
  },
});

export class EventSearch extends EventSearchSchema.class {}
EventSearchSchema.setClass(EventSearch);
