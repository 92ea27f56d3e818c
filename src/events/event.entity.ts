import { defineEntity, p } from '@mikro-orm/core';
import type { AgeRules, InternalNotes, NotificationTexts, Platform, RefundPolicy, Venue } from './event-data.js';

/**
 * draft -> published -> completed (the lifecycle's complete step, at its end) or cancelled (an
 * organizer, before its end). Only a published event takes signups; completed and cancelled are final.
 */
export const eventStatuses = ['draft', 'published', 'completed', 'cancelled'] as const;
export type EventStatus = (typeof eventStatuses)[number];

/**
 * A live event and its seat counters. heldCount and confirmedCount are written only by
 * src/signups/seats.ts, with conditional updates; the check constraints are the database's own
 * guarantee of the central invariant, should any other code path ever try.
 */
export const LiveEventSchema = defineEntity({
  name: 'LiveEvent',
  tableName: 'event',
  // A moved event pushes its new start week to its translations' copy (event-translation.entity.ts).
  triggers: [
    {
      name: 'push_starts_at',
      timing: 'after',
      events: ['update'],
      // Written as PostgreSQL prints it back, so the schema diff sees no change; seat updates skip the trigger.
      when: '(old.starts_at IS DISTINCT FROM new.starts_at)',
      body: 'update event_translation set event_start_week = floor(extract(epoch from new.starts_at) / 604800)::int where event_id = new.id; return null;',
    },
    // And what the catalog's keyword walk checks to its copy (event-search.entity.ts).
    {
      name: 'push_search_fields',
      timing: 'after',
      events: ['update'],
      when: '((old.starts_at IS DISTINCT FROM new.starts_at) OR (old.ends_at IS DISTINCT FROM new.ends_at) OR (old.status IS DISTINCT FROM new.status) OR (old.announce_at IS DISTINCT FROM new.announce_at) OR ((old.default_locale)::text IS DISTINCT FROM (new.default_locale)::text))',
      body: 'update event_search set starts_at = new.starts_at, ends_at = new.ends_at, status = new.status, announce_at = new.announce_at, is_default = (locale = new.default_locale) where event_id = new.id; return null;',
    },
    // Outbound webhooks' outbox (src/webhooks/), in the transaction of the change: published,
    // cancelled, and changed (an admin write bumps the version; seat moves do not, and skip it).
    // Completion (published -> completed, by the lifecycle) is none of these: it writes nothing.
    {
      name: 'event_integration_event_insert',
      timing: 'after',
      events: ['insert'],
      forEach: 'row',
      body: `if new.status = 'published' then insert into integration_event (id, type, event_id, signup_id, market, category, payload, occurred_at) select gen_random_uuid(), k.type, new.id, null, new.market, new.category, jsonb_build_object('eventId', new.id, 'status', new.status, 'version', new.version, 'startsAt', new.starts_at, 'endsAt', new.ends_at), clock_timestamp() from (select 'event.published'::text as type) k; end if; return null;`,
    },
    {
      name: 'event_integration_event_update',
      timing: 'after',
      events: ['update'],
      forEach: 'row',
      when: '((old.status IS DISTINCT FROM new.status) OR (old.version IS DISTINCT FROM new.version))',
      body: `insert into integration_event (id, type, event_id, signup_id, market, category, payload, occurred_at) select gen_random_uuid(), k.type, new.id, null, new.market, new.category, jsonb_build_object('eventId', new.id, 'status', new.status, 'version', new.version, 'startsAt', new.starts_at, 'endsAt', new.ends_at), clock_timestamp() from (select case when new.status = 'published' and old.status <> 'published' then 'event.published' when new.status = 'cancelled' and old.status <> 'cancelled' then 'event.cancelled' when new.status = 'published' and old.status = 'published' then 'event.changed' end as type) k where k.type is not null; return null;`,
    },
  ],
  indexes: [
    { name: 'event_public_listing_idx', properties: ['status', 'startsAt'] },
    { name: 'event_market_starts_idx', properties: ['market', 'startsAt'] },
    // The public catalog (src/events/public-catalog.ts) pages by (startsAt, id) over published events
    // only; partial indexes keep drafts out of them and give the keyset order directly.
    { name: 'event_published_starts_idx', properties: ['startsAt', 'id'], where: `status = 'published'` },
    { name: 'event_published_market_starts_idx', properties: ['market', 'startsAt', 'id'], where: `status = 'published'` },
    { name: 'event_published_category_starts_idx', properties: ['category', 'startsAt', 'id'], where: `status = 'published'` },
    // Market and category together, with announceAt beside the key: a combination whose upcoming
    // events are all still unannounced is answered from the index alone (an index-only scan; the
    // category index with the market as a filter read every event of the category from the heap).
    {
      name: 'event_published_market_category_starts_idx',
      properties: ['market', 'category', 'startsAt', 'id'],
      include: ['announceAt'],
      where: `status = 'published'`,
    },
  ],
  checks: [
    { name: 'event_seats_within_capacity', expression: 'held_count + confirmed_count <= capacity' },
    { name: 'event_counters_not_negative', expression: 'capacity >= 0 and held_count >= 0 and confirmed_count >= 0' },
    { name: 'event_ends_after_start', expression: 'ends_at > starts_at' },
  ],
  properties: {
    id: p.uuid().primary(),
    status: p.enum(eventStatuses).default('draft'),
    /** Where the event runs (ISO 3166-1 alpha-2); organizers are scoped by market. */
    market: p.string().length(8),
    timezone: p.string().length(64),
    defaultLocale: p.string().length(16),
    category: p.string().length(64),
    tags: p.array().default([]),
    venue: p.json<Venue>().nullable(),
    startsAt: p.datetime(),
    endsAt: p.datetime(),
    announceAt: p.datetime().nullable(),
    signupOpensAt: p.datetime().nullable(),
    signupClosesAt: p.datetime().nullable(),
    cancellationDeadline: p.datetime().nullable(),
    capacity: p.integer(),
    heldCount: p.integer().default(0),
    confirmedCount: p.integer().default(0),
    maxAttendeesPerSignup: p.integer().default(10),
    /** Kept as columns (not JSON) so the public listing can filter by an attendee's age in SQL. */
    minAge: p.integer().nullable(),
    maxAge: p.integer().nullable(),
    guardianConsentBelowAge: p.integer().nullable(),
    platforms: p.array<Platform>().default(['web', 'ios', 'android', 'unity']),
    waitlistEnabled: p.boolean().default(false),
    // JSON defaults as SQL (defaultRaw): a JS-side default would be encoded a second time on insert.
    refundPolicy: p.json<RefundPolicy>().defaultRaw(`'{"kind":"full-before-deadline"}'`),
    internal: p.json<InternalNotes>().defaultRaw(`'{}'`),
    notificationTexts: p.json<NotificationTexts>().defaultRaw(`'{}'`),
    publishedAt: p.datetime().nullable(),
    cancelledAt: p.datetime().nullable(),
    /** Set by the lifecycle workflow when the event is over. */
    completedAt: p.datetime().nullable(),
    /** Set by the lifecycle workflow when attendees' personal data was anonymized (retention). */
    personalDataPurgedAt: p.datetime().nullable(),
    cancellationReason: p.string().length(500).nullable(),
    createdBy: p.string().length(200),
    /** Bumped on every write; the admin API's ETag, so a stale If-Match is refused. */
    version: p.integer().version(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
});

export class LiveEvent extends LiveEventSchema.class {}
LiveEventSchema.setClass(LiveEvent);

export type AgeRulesOf = Pick<LiveEvent, 'minAge' | 'maxAge' | 'guardianConsentBelowAge'> & AgeRules;
