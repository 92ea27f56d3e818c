import { defineEntity, p } from '@mikro-orm/core';
import { LiveEvent } from './event.entity.js';

/**
 * An event's texts in one locale. The search vector is a generated column, weighted title over
 * summary over description and stemmed with the locale's text-search configuration, behind a GIN index.
 */
export const EventTranslationSchema = defineEntity({
  name: 'EventTranslation',
  tableName: 'event_translation',
  indexes: [{ name: 'event_translation_search_idx', properties: ['searchVector'], type: 'gin' }],
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
  },
});

export class EventTranslation extends EventTranslationSchema.class {}
EventTranslationSchema.setClass(EventTranslation);
