import { defineEntity, p, Routine } from '@mikro-orm/core';
import { LiveEvent } from './event.entity.js';

/**
 * An event's texts in one locale. The search vector is a generated column, weighted title over
 * summary over description and stemmed with the locale's text-search configuration, behind a GIN
 * index. A second GIN index holds the same words tagged with the week the event starts in (copied
 * here by triggers): `event_week_terms(search_vector, event_start_week)`, a function the migration
 * creates, turns 'concert' into 'concert@2974'. A keyword search bounded in time asks it for the
 * words of those weeks only, and reads only their short posting lists. (The words and the week as
 * two keys of one btree_gin index, as before, made every lookup decode the whole posting lists of
 * common words and of the weeks, once per week: 5 to 10 ms per week, where this takes well under 1.)
 */
/**
 * The lexemes of a search vector tagged with a week: 'concert' becomes 'concert@2974'. Without
 * positions or weights (phrases and weights are matched on search_vector itself). Only built-in
 * functions inside, so it is immutable and may stand in an index expression; no week, no entries.
 * Registered with the ORM (src/db/orm.ts) so the schema diff knows it.
 */
export const eventWeekTerms = new Routine({
  name: 'event_week_terms',
  type: 'function',
  language: 'sql',
  deterministic: true,
  params: { v: { type: 'tsvector' }, week: { type: 'integer' } },
  returns: { runtimeType: 'string', columnType: 'tsvector' },
  body: `select array_to_tsvector(array(select lexeme || '@' || week::text from unnest(tsvector_to_array(v)) lexeme where week is not null))`,
});

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
    // The translation's row in event_search (event-search.entity.ts), written again on every change.
    {
      name: 'sync_search_row',
      timing: 'after',
      events: ['insert', 'update', 'delete'],
      body: `if tg_op <> 'INSERT' then delete from event_search where event_id = old.event_id and locale = old.locale; end if; if tg_op <> 'DELETE' then insert into event_search (event_id, locale, starts_at, ends_at, status, announce_at, is_default, walk_vector) select e.id, new.locale, e.starts_at, e.ends_at, e.status, e.announce_at, e.default_locale = new.locale, case when pg_column_size(new.search_vector) <= 1500 then new.search_vector end from event e where e.id = new.event_id; end if; return null;`,
    },
  ],
  indexes: [
    { name: 'event_translation_search_idx', properties: ['searchVector'], type: 'gin' },
    // An expression index: MikroORM compares it by name only, so a change to it needs a new name.
    {
      name: 'event_translation_week_terms_idx',
      expression:
        'create index "event_translation_week_terms_idx" on "event_translation" using gin (event_week_terms(search_vector, event_start_week))',
    },
  ],
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
