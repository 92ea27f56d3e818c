import { defineEntity, p } from '@mikro-orm/core';

export const needsNoteReadFormats = ['json', 'csv'] as const;

/**
 * One row per read of participants' needs notes (allergies, accessibility: health data, GDPR art. 9)
 * through the admin participants list or its CSV export: who read them (the organizer's or admin's
 * token subject), when, for which event, how many notes, in which format. It names no participant,
 * only counts. A read that returned no note is not a read of notes and is not logged. The event's
 * retention purge clears `readBy` along with the notes themselves (activities/lifecycle.ts).
 */
export const NeedsNoteReadSchema = defineEntity({
  name: 'NeedsNoteRead',
  tableName: 'needs_note_read',
  indexes: [{ properties: ['eventId', 'readAt'] }],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    eventId: p.uuid(),
    /** The reader's token subject; null once the event's personal data is purged. */
    readBy: p.string().length(200).nullable(),
    readAt: p.datetime().onCreate(() => new Date()),
    notes: p.integer(),
    format: p.enum(needsNoteReadFormats),
  },
});

export class NeedsNoteRead extends NeedsNoteReadSchema.class {}
NeedsNoteReadSchema.setClass(NeedsNoteRead);
