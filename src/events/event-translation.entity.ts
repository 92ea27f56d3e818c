import { defineEntity, p } from '@mikro-orm/core';
import { LiveEvent } from './event.entity.js';

/**
 * An event's texts in one locale. The search vector is a generated column, weighted title over
 * summary over description and stemmed with the locale's text-search configuration. Its GIN index
 * (btree_gin) also covers the week the event starts in, copied here by triggers, so a keyword search
 * bounded in time asks the index for the words in those weeks only. (A week number, not the start
 * itself: GIN scans `>=` and `<` as two open-ended ranges, each over every start in the catalog.)
 */
export const EventTranslationSchema = defineEntity({
  name: 'EventTranslation',
  tableName: 'event_translation',
  // Every insert or update of a translation takes the start from its event; the code never writes it.
  triggers: [
    {
      name: 'copy_event_starts_at',
      timing: 'before',
      events: ['insert', 'update'],
      body: 'select floor(extract(epoch from e.starts_at) / 604800)::int into new.event_start_week from event e where e.id = new.event_id; return new;',
    },
  ],
  indexes: [{ name: 'event_translation_search_starts_idx', properties: ['searchVector', 'eventStartWeek'], type: 'gin' }],
  properties: {
    event: () => p.manyToOne(LiveEvent).primary().deleteRule('cascade'),
    locale: p.string().length(16).primary(),
    title: p.string().length(200),
    summary: p.string().length(500).nullable(),
    description: p.text().default(''),
    /** regconfig name (english, norwegian, simple, ...), chosen from the locale on write. */
    searchConfig: p.string().columnType('regconfig'),
    searchVector: p
      .type('unknown')
      .columnType('tsvector')
      .generated(
        `(setweight(to_tsvector(search_config, coalesce(title, '')), 'A') || setweight(to_tsvector(search_config, coalesce(summary, '')), 'B') || setweight(to_tsvector(search_config, coalesce(description, '')), 'C')) stored`,
      )
      .lazy()
      .hidden()
      .nullable(),
    /**
     * The week the event starts in (whole weeks since 1970-01-01, UTC; startWeekOf), kept by database
     * triggers (on every insert and update of a translation, and when the event's start moves); the
     * code never writes it.
     */
    eventStartWeek: p.integer().lazy().hidden().nullable(),
  },
});

export class EventTranslation extends EventTranslationSchema.class {}
EventTranslationSchema.setClass(EventTranslation);
