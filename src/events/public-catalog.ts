import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Problem } from '../http/problem.js';
import { availabilityOf, type Availability } from './availability.js';
import type { AgeRules, Platform, Price, RefundPolicy, Venue } from './event-data.js';
import { searchConfigFor } from './event-data.js';
import type { EventTranslation } from './event-translation.entity.js';
import type { LiveEvent } from './event.entity.js';
import { spotsLeft } from './rules.js';

/**
 * What apps read: published, announced events, localized, with their availability; ended ones
 * (completed) only within an explicit date window, and by id. Drafts and not-yet-announced events
 * do not exist here, not even by id (cancelled ones only by id), and internal fields
 * (notes, notification texts, counters, versions, authors) are never selected.
 *
 * The reads are hand-written SQL shaped for the partial indexes on event (starts_at, id) where
 * status = 'published' (and market/category variants), the covering index of event_search and the
 * GIN indexes of the translations' search vectors (the words; the words tagged with the start
 * week): one statement per page without a keyword; with one, a walk in start order and, for rarer
 * words, GIN lookups over stretches of time (see keywordPageIds; figures from bench/search.ts and
 * docs/architecture.md).
 */

/** The view the admin side still builds from entities (admin-service.ts); kept as it was. */
export interface PublicEventView {
  id: string;
  locale: string;
  title: string;
  summary: string | null;
  description: string;
  category: string;
  market: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  spotsLeft: number;
}

/** Picks the requested locale, else the event's default. */
export function pickTranslation(translations: readonly EventTranslation[], locale: string | undefined, fallback: string) {
  return (
    translations.find((t) => t.locale === locale) ??
    translations.find((t) => t.locale === fallback) ??
    translations[0]
  );
}

export function toPublicView(event: LiveEvent, translations: readonly EventTranslation[], locale?: string): PublicEventView {
  const text = pickTranslation(translations, locale, event.defaultLocale);
  return {
    id: event.id,
    locale: text?.locale ?? event.defaultLocale,
    title: text?.title ?? '',
    summary: text?.summary ?? null,
    description: text?.description ?? '',
    category: event.category,
    market: event.market,
    timezone: event.timezone,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    capacity: event.capacity,
    spotsLeft: spotsLeft(event),
  };
}

/** Free, or the range of prices in the market's currency (minor units). */
export type PriceSummary =
  | { free: true }
  | { free: false; currency: string; minAmountMinor: number; maxAmountMinor: number };

/** One catalog entry. Availability fields sit at the top level, next to the existing `spotsLeft`. */
export interface PublicEventSummary extends Availability {
  id: string;
  locale: string;
  title: string;
  summary: string | null;
  category: string;
  tags: string[];
  market: string;
  timezone: string;
  venue: { name: string; city: string } | null;
  startsAt: string;
  endsAt: string;
  ageRules: AgeRules;
  platforms: Platform[];
  price: PriceSummary;
}

export interface PublicEventDetail extends PublicEventSummary {
  description: string;
  venue: (Venue & { city: string }) | null;
  capacity: number;
  signupClosesAt: string | null;
  cancellationDeadline: string | null;
  maxAttendeesPerSignup: number;
  refundPolicy: RefundPolicy;
  ticketTypes: { code: string; name: string; prices: Price[] }[];
  /** Set when the organizer cancelled the event: its page stays readable (the cancellation mail links to it). */
  cancellation: { cancelledAt: string; reason: string | null } | null;
}

export interface CatalogQuery {
  /** Free text, websearch syntax ("quoted phrases", -exclusions, or). */
  q?: string;
  /** Start time range: from <= startsAt < to. */
  from?: Date;
  to?: Date;
  category?: string;
  market?: string;
  platform?: Platform;
  /** Only events an attendee of this age may join. */
  age?: number;
  free?: boolean;
  /** Only events carrying this tag. */
  tag?: string;
  /** Latest start first (keyset walked backwards). Keyword searches are in start order only. */
  descending?: boolean;
  limit: number;
  after?: CatalogCursor;
}

/** Keyset position: the last item's start (PostgreSQL's own text, so microseconds survive) and id. */
export interface CatalogCursor {
  startsAt: string;
  id: string;
}

export interface CatalogPage {
  items: PublicEventSummary[];
  nextCursor: string | null;
}

/** Opaque to clients: base64url of a small JSON array. */
export function encodeCursor(cursor: CatalogCursor): string {
  return Buffer.from(JSON.stringify([cursor.startsAt, cursor.id])).toString('base64url');
}

/** timestamptz as PostgreSQL prints it, e.g. `2027-03-01 10:00:00.123456+00`. */
const PG_TIMESTAMPTZ = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:\d{2}){0,2}|Z)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The cursor decoded, or undefined when it was not one of ours (the route answers 400). */
export function decodeCursor(text: string): CatalogCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [startsAt, id] = value as unknown[];
    if (typeof startsAt !== 'string' || typeof id !== 'string' || !UUID.test(id)) return undefined;
    if (!PG_TIMESTAMPTZ.test(startsAt)) return undefined;
    return { startsAt, id };
  } catch {
    return undefined;
  }
}

/** Every text-search configuration a translation can carry (searchConfigFor's answers). */
const searchConfigs = [...new Set(['simple', ...['da', 'de', 'en', 'es', 'fi', 'fr', 'it', 'nb', 'nl', 'pt', 'sv'].map(searchConfigFor)])];

interface EventRow {
  id: string;
  default_locale: string;
  category: string;
  tags: string[];
  market: string;
  timezone: string;
  venue: Venue | null;
  /** timestamptz columns arrive as PostgreSQL's text (the driver is told not to parse them). */
  starts_at: string;
  ends_at: string;
  signup_opens_at: string | null;
  signup_closes_at: string | null;
  cancellation_deadline: string | null;
  capacity: number;
  held_count: number;
  confirmed_count: number;
  waitlist_enabled: boolean;
  max_attendees_per_signup: number;
  min_age: number | null;
  max_age: number | null;
  guardian_consent_below_age: number | null;
  platforms: Platform[];
  refund_policy: RefundPolicy;
  locale: string;
  title: string;
  summary: string | null;
  description?: string;
  price_currency: string | null;
  price_min: number | null;
  price_max: number | null;
  cancelled_at?: string | null;
  cancellation_reason?: string | null;
}

/** The columns apps may see; `internal`, `notification_texts`, `created_by`, `version` are not here. */
const publicColumns = `e.id, e.default_locale, e.category, e.tags, e.market, e.timezone,
  e.venue, e.starts_at, e.ends_at, e.signup_opens_at, e.signup_closes_at, e.cancellation_deadline, e.capacity,
  e.held_count, e.confirmed_count, e.waitlist_enabled, e.max_attendees_per_signup, e.min_age, e.max_age,
  e.guardian_consent_below_age, e.platforms, e.refund_policy`;

/** Published and announced: the one visibility rule of the public side (interests use it too). */
export const visible = `e.status = 'published' and (e.announce_at is null or e.announce_at <= ?)`;

/**
 * Whether a listing shows completed events too: only with an explicit date window (the default
 * list leaves ended events out) that reaches before `now`. An event completes at its end, so it
 * started before now: a window in the future cannot hold one, and stays on the partial indexes of
 * published events (which completed events leave).
 */
function listsCompleted(query: CatalogQuery, now: Date): boolean {
  if (query.from === undefined) return query.to !== undefined;
  return query.from < now;
}

/**
 * Which announced events a listing shows, on the event table (`e`) or on event_search (`s`, which
 * carries the columns it needs). The default list (no dates): published events that have not ended;
 * one that ended but whose lifecycle has not marked it completed yet is gone too. With an explicit
 * date window: published and completed events (ended or not) starting in it.
 */
function listingVisibility(alias: 'e' | 's', query: CatalogQuery, now: Date): { sql: string; params: unknown[] } {
  const announced = `(${alias}.announce_at is null or ${alias}.announce_at <= ?)`;
  if (query.from === undefined && query.to === undefined) {
    return { sql: `${alias}.status = 'published' and ${announced} and ${alias}.ends_at > ?`, params: [now, now] };
  }
  const statuses = listsCompleted(query, now) ? `${alias}.status in ('published', 'completed')` : `${alias}.status = 'published'`;
  return { sql: `${statuses} and ${announced}`, params: [now] };
}

/** The text in the requested locale, else the default locale's; and the price range over all ticket types. */
function localizedSelect(textColumns: readonly string[], pageColumns = ''): string {
  return `select ${publicColumns}, ${pageColumns} tr.*, pr.currency as price_currency, pr.min_amount as price_min, pr.max_amount as price_max
  from page e
  join lateral (
    select t.locale, ${textColumns.map((column) => `t.${column}`).join(', ')} from event_translation t
     where t.event_id = e.id and (t.locale = ? or t.locale = e.default_locale)
     order by t.locale = ? desc limit 1) tr on true
  left join lateral (
    select min(p.value->>'currency') as currency, min((p.value->>'amountMinor')::int) as min_amount,
           max((p.value->>'amountMinor')::int) as max_amount
      from ticket_type tt cross join lateral jsonb_array_elements(tt.prices) p
     where tt.event_id = e.id) pr on true`;
}

const dateOrNull = (text: string | null) => (text === null ? null : new Date(text));

function toSummary(row: EventRow, now: Date): PublicEventSummary {
  const ageRules: AgeRules = {};
  if (row.min_age !== null) ageRules.minAge = row.min_age;
  if (row.max_age !== null) ageRules.maxAge = row.max_age;
  if (row.guardian_consent_below_age !== null) ageRules.guardianConsentBelowAge = row.guardian_consent_below_age;
  const price: PriceSummary =
    row.price_currency === null || row.price_min === null || row.price_max === null
      ? { free: true }
      : { free: false, currency: row.price_currency, minAmountMinor: row.price_min, maxAmountMinor: row.price_max };
  return {
    id: row.id,
    locale: row.locale,
    title: row.title,
    summary: row.summary,
    category: row.category,
    tags: row.tags,
    market: row.market,
    timezone: row.timezone,
    venue: row.venue ? { name: row.venue.name, city: row.venue.address.city } : null,
    startsAt: new Date(row.starts_at).toISOString(),
    endsAt: new Date(row.ends_at).toISOString(),
    ageRules,
    platforms: row.platforms,
    price,
    ...availabilityOf(
      {
        capacity: row.capacity,
        heldCount: row.held_count,
        confirmedCount: row.confirmed_count,
        waitlistEnabled: row.waitlist_enabled,
        startsAt: new Date(row.starts_at),
        signupOpensAt: dateOrNull(row.signup_opens_at),
        signupClosesAt: dateOrNull(row.signup_closes_at),
      },
      now,
    ),
  };
}

/**
 * How many events, in start order, a keyword search checks one by one before it asks the GIN
 * index instead. Checking is cheap per event and finds a common word's page at once; a rare word
 * would make it walk the whole catalog, and there the index, whose cost grows with the number
 * of hits, is the fast way. See bench/search.ts.
 */
export const KEYWORD_WALK_BUDGET = 150;

/** At most this many walks per page before the index takes over (each is a round trip). */
const MAX_WALKS = 4;

/** After the keyset position, and within from/to: on the event table or on event_search, by its columns. */
function keysetAndDates(
  startsAt: string,
  id: string,
  query: CatalogQuery,
  after: CatalogCursor | undefined,
): { conditions: string[]; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (after) {
    conditions.push(`(${startsAt}, ${id}) ${query.descending ? '<' : '>'} (?::timestamptz, ?::uuid)`);
    params.push(after.startsAt, after.id);
  }
  if (query.from) {
    conditions.push(`${startsAt} >= ?`);
    params.push(query.from);
  }
  if (query.to) {
    conditions.push(`${startsAt} < ?`);
    params.push(query.to);
  }
  return { conditions, params };
}

/** The WHERE clause shared by every catalog statement: visibility, keyset and filters. */
function filterSql(query: CatalogQuery, now: Date, after = query.after): { where: string; params: unknown[] } {
  const range = keysetAndDates('e.starts_at', 'e.id', query, after);
  const visibility = listingVisibility('e', query, now);
  const conditions = [visibility.sql, ...range.conditions];
  const params: unknown[] = [...visibility.params, ...range.params];
  if (query.category !== undefined) {
    conditions.push('e.category = ?');
    params.push(query.category);
  }
  if (query.market !== undefined) {
    conditions.push('e.market = ?');
    params.push(query.market);
  }
  if (query.platform !== undefined) {
    conditions.push('e.platforms @> array[?]::text[]');
    params.push(query.platform);
  }
  if (query.age !== undefined) {
    conditions.push('(e.min_age is null or e.min_age <= ?) and (e.max_age is null or e.max_age >= ?)');
    params.push(query.age, query.age);
  }
  if (query.tag !== undefined) {
    conditions.push('e.tags @> array[?]::text[]');
    params.push(query.tag);
  }
  if (query.free !== undefined) {
    // Free means no ticket type carries a price (an event without ticket types is free too).
    conditions.push(
      `${query.free ? 'not ' : ''}exists (select 1 from ticket_type tt where tt.event_id = e.id and tt.prices <> '[]'::jsonb)`,
    );
  }
  return { where: conditions.join(' and '), params };
}

/**
 * A websearch query split into what to find and what to exclude: `dinosaurs -concert -"rock show"`
 * gives `dinosaurs` and `concert or "rock show"`. Exclusions apply to the whole query (websearch
 * would bind `a -b or c` as (a and not b) or c; readers mean "never b").
 */
export function splitExclusions(q: string): { include: string; exclude: string } {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const [token] of q.matchAll(/-?"[^"]*"?|\S+/g)) {
    if (token.startsWith('-') && token.length > 1) exclude.push(token.slice(1));
    else include.push(token);
  }
  return { include: include.join(' '), exclude: exclude.join(' or ') };
}

/**
 * The query as tsqueries: `inLocale` stemmed by the requested locale's configuration (for text in
 * that locale, stemmed the same way); `anyConfig` stemmed by every configuration and OR-ed, for
 * fallback text, which is in another language than the query was typed in (so a name, or a word
 * both languages share such as "robot", still matches). `anyConfig` also matches everything
 * `inLocale` does, which makes it the one GIN probe for both. Its exclusions are taken out of the
 * OR and stemmed by every configuration too, then AND-NOT-ed: OR-ing whole queries let a branch
 * whose stemmer spelled the excluded word differently from the text's ("concert" as 'conc') pass
 * the text that has it, so `dinosaurs -concert` found "Concert with dinosaurs" in any other locale.
 * Computed once, deduplicated, and passed back as literals so the planner sees real lexemes (twelve
 * copies of one lexeme made it guess twelve times the rows).
 */
async function keywordQueries(em: EntityManager, q: string, requested: string) {
  const { include, exclude } = splitExclusions(q);
  const configs = searchConfigs.map(() => '?').join(', ');
  const [row] = await em.getConnection('read').execute<{ in_locale: string; any_config: string[]; excluded: string[] }[]>(
    `select websearch_to_tsquery(?::regconfig, ?)::text as in_locale,
            array(select distinct websearch_to_tsquery(c::regconfig, ?)::text from unnest(array[${configs}]) c) as any_config,
            array(select distinct websearch_to_tsquery(c::regconfig, ?)::text from unnest(array[${configs}]) c) as excluded`,
    [searchConfigFor(requested || 'simple'), q, include, ...searchConfigs, exclude, ...searchConfigs],
  );
  const included = (row?.any_config ?? []).filter((text) => text !== '').map((text) => `(${text})`);
  const excluded = (row?.excluded ?? []).filter((text) => text !== '').map((text) => `(${text})`);
  const not = excluded.length ? `!(${excluded.join(' | ')})` : '';
  return {
    inLocale: row?.in_locale ?? '',
    anyConfig: included.length && not ? `(${included.join(' | ')}) & ${not}` : included.length ? included.join(' | ') : not,
  };
}

/** The translation apps are shown for event `e`: the requested locale's, else the default locale's. */
const displayTextOf = `join lateral (
    select t.locale, t.search_vector from event_translation t
     where t.event_id = e.id and (t.locale = ? or t.locale = e.default_locale)
     order by t.locale = ? desc limit 1) d on true`;

interface KeyRow {
  id: string;
  starts_at: string;
  hit: boolean;
  position: string;
}

/**
 * The ids of the next page of a keyword search, in order (limit + 1 of them when another page follows).
 * First it walks the next `walkBudget` events in start order and checks each one's text; if that
 * does not fill the page, it collects the remaining hits from the GIN index (after the last event
 * walked) and sorts those. Both steps apply the same match, so the page is the same whichever step
 * finds an event.
 */
async function keywordPageIds(
  em: EntityManager,
  query: CatalogQuery & { q: string },
  requested: string,
  now: Date,
  walkBudget: number,
): Promise<string[]> {
  const wanted = query.limit + 1;
  const tsq = await keywordQueries(em, query.q, requested);
  if (!tsq.anyConfig) return []; // only stop words, or only operators: nothing to look for
  const hits: string[] = [];
  let after = query.after;
  let budget = walkBudget;
  let walkedFrom: number | undefined;
  let walkedCount = 0;
  // The walk over event_search costs about 1 ms per 150 events even uncached, the other one 5 to 25.
  const reach = datesOnly(query) ? 8 : 3;
  for (let round = 0; round < MAX_WALKS; round++) {
    const walked = await walk(em, { query, tsq, requested, now, after, budget });
    hits.push(...walked.hits);
    if (hits.length >= wanted || !walked.last || walked.count < budget) return hits.slice(0, wanted);
    walkedFrom ??= walked.first ? Date.parse(walked.first.startsAt) : undefined;
    walkedCount += walked.count;
    after = walked.last;
    // A word seen in the walk so far will likely fill the page within a few more budgets; walk on
    // while the hit rate says at most `reach` budgets (plus a margin), else the index is cheaper.
    // A walk that falls a hit or two short walks again: for a common word the index would bring
    // back every posting of the word in a whole week, and check each (about 10 ms).
    const projected = hits.length === 0 ? Infinity : Math.ceil(((wanted - hits.length) * walkedCount) / hits.length * 1.3);
    if (projected > reach * walkBudget) break;
    budget = Math.max(projected, 50);
  }
  if (!after) return hits;
  // The rest of the page from the index, after the last event walked, a stretch of time at a
  // time: all postings of a word at once would be many for a common word, or for two words each
  // common on its own. First the stretch the hit rate so far says holds the rest of the page (two
  // weeks when the walk saw none), then four times wider ones, then the remainder.
  const end = query.to?.getTime();
  let from = Date.parse(after.startsAt);
  let span =
    hits.length === 0 || walkedFrom === undefined
      ? 2 * WEEK_MS
      : Math.max(((from - walkedFrom) * (wanted - hits.length) * 2) / hits.length, 60_000);
  for (let round = 0; hits.length < wanted; round++) {
    const until = round >= 3 || !Number.isFinite(span) ? undefined : from + span;
    const bounded = until !== undefined && (end === undefined || until < end);
    const since = round === 0 ? after.startsAt : new Date(from);
    const found = await indexedPageIds(em, query, tsq, requested, now, after, since, bounded ? new Date(until) : undefined, wanted - hits.length);
    hits.push(...found);
    if (!bounded) break;
    from = until;
    span *= 4;
  }
  return hits;
}

const WEEK_MS = 604_800_000;

/** The week an instant falls in, as the triggers copy it onto event_translation (whole weeks since 1970-01-01, UTC). */
export function startWeekOf(ms: number): number {
  return Math.floor(ms / WEEK_MS);
}

/** Past this many weeks a window asks the index for the words alone (the lookup grows with the weeks). */
const MAX_INDEXED_WEEKS = 12;

/**
 * A tsquery for the week-term index (event-translation.entity.ts): `tsq` with every lexeme tagged
 * with each week in turn, OR-ed over the weeks ('concert' & 'live' in weeks 1 and 2 becomes
 * ('concert@1' & 'live@1') | ('concert@2' & 'live@2')). Lexemes are quoted in a tsquery's text,
 * with quotes inside doubled; the tag goes inside the quotes. (A query of exclusions only, "-robot",
 * makes GIN read the whole index; its pages come from the walk, which finds nearly every event.)
 */
export function weekTermsQuery(tsq: string, weeks: readonly number[]): string {
  return weeks.map((week) => `(${tsq.replace(/'((?:[^']|'')*)'/g, (_, lexeme: string) => `'${lexeme}@${week}'`)})`).join(' | ');
}

/**
 * The next ids from the GIN indexes: the translations they find of events starting from `since`
 * (and before `before`, else `to`), then only their events after `after`, sorted. Over a few weeks
 * the week-term index finds the words of those weeks only; it knows no positions, so each
 * translation found is matched again on its search vector (phrases), and exact bounds are checked
 * on the event. Past that, the plain index of the words. A candidate counts if it is the text apps
 * are shown: the requested locale's (matched as such), or the default locale's of an event without
 * one. (Asking the index first, with a cap on candidates, was tried and dropped: PostgreSQL builds
 * the whole bitmap before any LIMIT applies, so a common word paid for all its postings.)
 */
async function indexedPageIds(
  em: EntityManager,
  query: CatalogQuery,
  tsq: { inLocale: string; anyConfig: string },
  requested: string,
  now: Date,
  after: CatalogCursor,
  since: string | Date,
  before: Date | undefined,
  wanted: number,
): Promise<string[]> {
  const rest = filterSql(query, now, after);
  const upper = before ?? query.to;
  const firstWeek = startWeekOf(typeof since === 'string' ? Date.parse(since) : since.getTime());
  const lastWeek = upper ? startWeekOf(upper.getTime() - 1) : Infinity;
  const weeks =
    lastWeek - firstWeek < MAX_INDEXED_WEEKS ? Array.from({ length: lastWeek - firstWeek + 1 }, (_, i) => firstWeek + i) : undefined;
  // The match in the select list, not in the where clause, so the planner cannot add the plain
  // index of the words (a bitmap of every posting of a common word) to the week-term lookup.
  const lookup = weeks
    ? { where: 'event_week_terms(s.search_vector, s.event_start_week) @@ ?::tsquery', param: weekTermsQuery(tsq.anyConfig, weeks) }
    : { where: 's.search_vector @@ ?::tsquery', param: tsq.anyConfig };
  const rows = await em.getConnection('read').execute<{ id: string }[]>(
    `with candidates as materialized (
       select s.event_id, s.locale, s.search_vector @@ ?::tsquery as in_locale_match, s.search_vector @@ ?::tsquery as any_match
         from event_translation s where ${lookup.where})
     select e.id from candidates c
       -- One primary-key probe per candidate ("offset 0" keeps the subquery from being flattened):
       -- the candidates are few here, while the events in a date range may be tens of thousands.
       cross join lateral (select e.* from event e where e.id = c.event_id and ${rest.where} offset 0) e
      where c.any_match
        and ((c.locale = ? and c.in_locale_match)
         or (c.locale = e.default_locale and c.locale <> ?
             and not exists (select 1 from event_translation r where r.event_id = e.id and r.locale = ?)))
        and e.starts_at >= ?::timestamptz ${before ? 'and e.starts_at < ?' : ''}
      order by e.starts_at, e.id limit ?`,
    [
      tsq.inLocale,
      tsq.anyConfig,
      lookup.param,
      ...rest.params,
      requested,
      requested,
      requested,
      since,
      ...(before ? [before] : []),
      wanted,
    ],
  );
  return rows.map((row) => row.id);
}

interface Walked {
  hits: string[];
  count: number;
  first?: CatalogCursor;
  last?: CatalogCursor;
}

function walkedFrom(rows: KeyRow[]): Walked {
  const first = rows[0];
  const last = rows.at(-1);
  return {
    hits: rows.filter((row) => row.hit).map((row) => row.id),
    count: last ? Number(last.position) : 0,
    first: first ? { startsAt: first.starts_at, id: first.id } : undefined,
    last: last ? { startsAt: last.starts_at, id: last.id } : undefined,
  };
}

/** One walk: the next `budget` events in start order after `after`, checked against the keyword. */
interface WalkStep {
  query: CatalogQuery;
  tsq: { inLocale: string; anyConfig: string };
  requested: string;
  now: Date;
  after: CatalogCursor | undefined;
  budget: number;
}

/** Whether the query filters by dates only (besides visibility): what event_search can walk alone. */
function datesOnly(query: CatalogQuery): boolean {
  return query.category === undefined && query.market === undefined && query.platform === undefined && query.age === undefined && query.free === undefined && query.tag === undefined;
}

/** Checks the next `budget` events in start order (after `after`): the hits, how many were walked, and the last one. */
async function walk(em: EntityManager, step: WalkStep): Promise<Walked> {
  const { query, tsq, requested, now, after, budget } = step;
  // event_search's index holds published rows only; a window with completed events walks the events.
  if (datesOnly(query) && !listsCompleted(query, now)) return walkSearchRows(em, step);
  const walkFilter = filterSql(query, now, after);
  const walked = await em.getConnection('read').execute<KeyRow[]>(
    `with walk as materialized (
       select e.id, e.starts_at, e.default_locale, row_number() over (order by e.starts_at, e.id) as position
         from event e where ${walkFilter.where} order by e.starts_at, e.id limit ?)
     select * from (
       select e.id, e.starts_at, e.position,
              case when d.locale = ? then d.search_vector @@ ?::tsquery else d.search_vector @@ ?::tsquery end as hit
         from walk e ${displayTextOf}) checked
      where hit or position = 1 or position = (select count(*) from walk)
      order by position`,
    [...walkFilter.params, budget, requested, tsq.inLocale, tsq.anyConfig, requested, requested],
  );
  return walkedFrom(walked);
}

/**
 * The walk of a query filtered by dates only (visibility, from, to, the cursor), over event_search
 * (event-search.entity.ts): an index-only scan of its rows in start order, which carry the event's
 * start, visibility and the translation's search vector. The same events and the same match as
 * walk(): per event the requested locale's row, else the default locale's. An event has at most
 * two such rows, so the first 2 * budget rows hold the first `budget` events whole (a plain LIMIT,
 * which the planner costs right), and dense_rank numbers the events among them.
 */
async function walkSearchRows(em: EntityManager, { query, tsq, requested, now, after, budget }: WalkStep): Promise<Walked> {
  const range = keysetAndDates('s.starts_at', 's.event_id', query, after);
  const visibility = listingVisibility('s', query, now);
  const conditions = [visibility.sql, '(s.locale = ? or s.is_default)', ...range.conditions];
  const params: unknown[] = [...visibility.params, requested, ...range.params];
  // A vector too large for the index entry is null there: then the translation's own.
  const vector = `coalesce(s.walk_vector, (select t.search_vector from event_translation t where t.event_id = s.event_id and t.locale = s.locale))`;
  const walked = await em.getConnection('read').execute<KeyRow[]>(
    `with rows as materialized (
       select s.event_id as id, s.starts_at, s.locale,
              case when s.locale = ? then ${vector} @@ ?::tsquery else ${vector} @@ ?::tsquery end as hit
         from event_search s where ${conditions.join(' and ')}
        order by s.starts_at, s.event_id, s.locale limit ?),
     events as (
       select id, starts_at, coalesce(bool_or(hit) filter (where locale = ?), bool_or(hit)) as hit,
              dense_rank() over (order by starts_at, id) as position
         from rows group by starts_at, id),
     walked as (select * from events where position <= ?)
     select id, starts_at, position, hit from walked
      where hit or position = 1 or position = (select max(position) from walked)
      order by position`,
    [requested, tsq.inLocale, tsq.anyConfig, ...params, 2 * budget, requested, budget],
  );
  return walkedFrom(walked);
}

/**
 * One page of the catalog, sorted by (startsAt, id). `now` decides announcement and availability,
 * so tests and benches can pin it. Used by the API and by bench/search.ts alike.
 */
export async function listPublicEvents(
  em: EntityManager,
  query: CatalogQuery,
  locale: string | undefined,
  now: Date = new Date(),
  options: { walkBudget?: number } = {},
): Promise<CatalogPage> {
  const requested = locale ?? '';
  let rows: EventRow[];
  if (query.q === undefined) {
    const { sql, params } = catalogPageSql(query, locale, now);
    rows = await em.getConnection('read').execute<EventRow[]>(sql, params);
  } else {
    const ids = await keywordPageIds(em, { ...query, q: query.q }, requested, now, options.walkBudget ?? KEYWORD_WALK_BUDGET);
    rows = ids.length
      ? await em.getConnection('read').execute<EventRow[]>(
          `with page as (select ${publicColumns} from event e where e.id in (${ids.map(() => '?').join(', ')}))
           ${localizedSelect(['title', 'summary'])}
           order by e.starts_at, e.id`,
          [...ids, requested, requested],
        )
      : [];
  }
  const more = rows.length > query.limit;
  const pageRows = more ? rows.slice(0, query.limit) : rows;
  const last = pageRows.at(-1);
  return {
    items: pageRows.map((row) => toSummary(row, now)),
    nextCursor: more && last ? encodeCursor({ startsAt: last.starts_at, id: last.id }) : null,
  };
}

/** The statement behind one page without keyword (one row more than the limit, to know whether another page follows). */
export function catalogPageSql(query: CatalogQuery, locale: string | undefined, now: Date): { sql: string; params: unknown[] } {
  const requested = locale ?? '';
  const { where, params } = filterSql(query, now);
  const order = query.descending ? 'e.starts_at desc, e.id desc' : 'e.starts_at, e.id';
  return {
    // The page's keys first, then its rows: a filter the partial indexes cover (announce_at beside
    // market + category) is then checked in the index alone, without reading the events it skips.
    sql: `with keys as materialized (
       select e.id from event e where ${where} order by ${order} limit ?),
     page as materialized (select ${publicColumns} from event e where e.id in (select id from keys))
     ${localizedSelect(['title', 'summary'])}
     order by ${order}`,
    params: [...params, query.limit + 1, requested, requested],
  };
}

/**
 * By id the public also sees an event that was published and then completed or cancelled (both
 * only come from published, and never before its announcement): its page stays readable (a
 * cancelled one says so) instead of vanishing.
 */
const visibleById = `(e.status in ('published', 'completed', 'cancelled') and (e.announce_at is null or e.announce_at <= ?))`;

/** One public event by id, or undefined for anything the public may not see. */
export async function findPublicEvent(
  em: EntityManager,
  eventId: string,
  locale: string | undefined,
  now: Date = new Date(),
): Promise<PublicEventDetail | undefined> {
  const requested = locale ?? '';
  const [row] = await em.getConnection('read').execute<EventRow[]>(
    `with page as (
       select ${publicColumns}, case when e.status = 'cancelled' then coalesce(e.cancelled_at, e.updated_at) end as cancelled_at,
              e.cancellation_reason
         from event e where e.id = ? and ${visibleById})
     ${localizedSelect(['title', 'summary', 'description'], 'e.cancelled_at, e.cancellation_reason,')}`,
    [eventId, now, requested, requested],
  );
  if (!row) return undefined;
  const tickets = await em.getConnection('read').execute<{ code: string; names: Record<string, string>; prices: Price[] }[]>(
    `select code, names, prices from ticket_type where event_id = ? order by sort_order, code`,
    [eventId],
  );
  const summary = toSummary(row, now);
  const cancelledAt = dateOrNull(row.cancelled_at ?? null);
  return {
    ...summary,
    // Nothing to sign up for any more, whatever the dates say.
    ...(cancelledAt ? { signupState: 'closed' as const, soldOut: false, waitlistOpen: false } : {}),
    description: row.description ?? '',
    venue: row.venue ? { ...row.venue, city: row.venue.address.city } : null,
    capacity: row.capacity,
    signupClosesAt: dateOrNull(row.signup_closes_at)?.toISOString() ?? null,
    cancellationDeadline: dateOrNull(row.cancellation_deadline)?.toISOString() ?? null,
    maxAttendeesPerSignup: row.max_attendees_per_signup,
    refundPolicy: row.refund_policy,
    ticketTypes: tickets.map((ticket) => ({
      code: ticket.code,
      name: ticket.names[summary.locale] ?? ticket.names[row.default_locale] ?? Object.values(ticket.names)[0] ?? ticket.code,
      prices: ticket.prices,
    })),
    cancellation: cancelledAt ? { cancelledAt: cancelledAt.toISOString(), reason: row.cancellation_reason ?? null } : null,
  };
}

// Every catalog read asks for a read connection: a replica when DATABASE_READ_REPLICA_URLS names
// any (its replication lag adds to the documented staleness bound), else the primary.
export function createPublicCatalog(deps: { orm: MikroORM }) {
  return {
    listEvents(query: CatalogQuery, locale?: string): Promise<CatalogPage> {
      return listPublicEvents(deps.orm.em.fork(), query, locale);
    },

    /** Drafts and unannounced events answer 404 exactly like ids that do not exist; cancelled ones say so. */
    async getPublicEvent(eventId: string, locale?: string): Promise<PublicEventDetail> {
      const event = await findPublicEvent(deps.orm.em.fork(), eventId, locale);
      if (!event) throw new Problem('not-found', 'no published event with this id');
      return event;
    },
  };
}

export type PublicCatalog = ReturnType<typeof createPublicCatalog>;
