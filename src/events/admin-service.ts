import { randomUUID } from 'node:crypto';
import { CheckConstraintViolationException, ForeignKeyConstraintViolationException, raw } from '@mikro-orm/core';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal.js';
import { Problem } from '../http/problem.js';
import { searchConfigFor, type InternalNotes, type NotificationTexts, type Platform, type RefundPolicy, type Venue } from './event-data.js';
import type { NewEventInput } from './event-input.js';
import { checkUsage, mergePatch, unpublishRefusal, type EventPatch, type EventState, type EventUsage } from './event-patch.js';
import { EventChange } from './event-change.entity.js';
import { EventTranslation } from './event-translation.entity.js';
import { LiveEvent, type EventStatus } from './event.entity.js';
import { diffSnapshots, snapshotOf } from './history.js';
import { dropPendingLifecycleStart, recordLifecycleCommand, type LifecycleCommandInput, type LifecycleStartSettings } from './lifecycle-client.js';
import { createParticipantReports } from './participants-service.js';
import { PromoCode } from './promo-code.entity.js';
import { checkEvent, spotsLeft, type RuleViolation } from './rules.js';
import { TicketType } from './ticket-type.entity.js';
import { offerFreeSeatsIn, type WaitlistOffer } from '../signups/seats.js';

export interface AdminTicketTypeView {
  id: string;
  code: string;
  names: Record<string, string>;
  prices: { currency: string; amountMinor: number }[];
  capacity: number | null;
  heldCount: number;
  confirmedCount: number;
}

export interface AdminPromoCodeView {
  id: string;
  code: string;
  kind: 'percent' | 'fixed';
  value: number;
  currency: string | null;
  maxUses: number | null;
  usedCount: number;
  validFrom: string | null;
  validUntil: string | null;
}

/** What every admin event endpoint answers: everything an organizer edits or monitors. */
export interface AdminEventView {
  id: string;
  status: EventStatus;
  defaultLocale: string;
  translations: Record<string, { title: string; summary: string | null; description: string }>;
  category: string;
  market: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  spotsLeft: number;
  heldCount: number;
  confirmedCount: number;
  version: number;
  tags: string[];
  venue: Venue | null;
  announceAt: string | null;
  signupOpensAt: string | null;
  signupClosesAt: string | null;
  cancellationDeadline: string | null;
  maxAttendeesPerSignup: number;
  ageRules: { minAge: number | null; maxAge: number | null; guardianConsentBelowAge: number | null };
  platforms: Platform[];
  waitlistEnabled: boolean;
  refundPolicy: RefundPolicy;
  ticketTypes: AdminTicketTypeView[];
  promoCodes: AdminPromoCodeView[];
  internal: InternalNotes;
  notificationTexts: NotificationTexts;
  publishedAt: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface AdminEventSummary {
  id: string;
  status: EventStatus;
  title: string;
  market: string;
  category: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  heldCount: number;
  confirmedCount: number;
  version: number;
}

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  total: number;
}

/** An event with its child rows, as one unit. */
interface LoadedEvent {
  event: LiveEvent;
  translations: EventTranslation[];
  ticketTypes: TicketType[];
  promoCodes: PromoCode[];
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

function toAdminView({ event, translations, ticketTypes, promoCodes }: LoadedEvent): AdminEventView {
  return {
    id: event.id,
    category: event.category,
    market: event.market,
    timezone: event.timezone,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    capacity: event.capacity,
    spotsLeft: spotsLeft(event),
    status: event.status,
    defaultLocale: event.defaultLocale,
    translations: Object.fromEntries(
      translations.map((t) => [t.locale, { title: t.title, summary: t.summary ?? null, description: t.description }]),
    ),
    tags: event.tags,
    venue: event.venue ?? null,
    announceAt: iso(event.announceAt),
    signupOpensAt: iso(event.signupOpensAt),
    signupClosesAt: iso(event.signupClosesAt),
    cancellationDeadline: iso(event.cancellationDeadline),
    maxAttendeesPerSignup: event.maxAttendeesPerSignup,
    ageRules: {
      minAge: event.minAge ?? null,
      maxAge: event.maxAge ?? null,
      guardianConsentBelowAge: event.guardianConsentBelowAge ?? null,
    },
    platforms: event.platforms,
    waitlistEnabled: event.waitlistEnabled,
    refundPolicy: event.refundPolicy,
    ticketTypes: ticketTypes.map((t) => ({
      id: t.id,
      code: t.code,
      names: t.names,
      prices: t.prices,
      capacity: t.capacity ?? null,
      heldCount: t.heldCount,
      confirmedCount: t.confirmedCount,
    })),
    promoCodes: promoCodes.map((p) => ({
      id: p.id,
      code: p.code,
      kind: p.kind,
      value: p.value,
      currency: p.currency ?? null,
      maxUses: p.maxUses ?? null,
      usedCount: p.usedCount,
      validFrom: iso(p.validFrom),
      validUntil: iso(p.validUntil),
    })),
    internal: event.internal,
    notificationTexts: event.notificationTexts,
    heldCount: event.heldCount,
    confirmedCount: event.confirmedCount,
    publishedAt: iso(event.publishedAt),
    createdBy: event.createdBy,
    createdAt: event.createdAt.toISOString(),
    updatedAt: event.updatedAt.toISOString(),
    version: event.version,
  };
}

const undef = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/** The editable state of a stored event (what a PATCH is merged into). */
function stateOf({ event, translations, ticketTypes, promoCodes }: LoadedEvent): EventState {
  return {
    defaultLocale: event.defaultLocale,
    translations: Object.fromEntries(
      translations.map((t) => [t.locale, { title: t.title, summary: undef(t.summary), description: t.description }]),
    ),
    category: event.category,
    tags: event.tags,
    market: event.market,
    timezone: event.timezone,
    venue: event.venue ?? null,
    startsAt: event.startsAt,
    endsAt: event.endsAt,
    announceAt: event.announceAt ?? null,
    signupOpensAt: event.signupOpensAt ?? null,
    signupClosesAt: event.signupClosesAt ?? null,
    cancellationDeadline: event.cancellationDeadline ?? null,
    capacity: event.capacity,
    maxAttendeesPerSignup: event.maxAttendeesPerSignup,
    ageRules: { minAge: undef(event.minAge), maxAge: undef(event.maxAge), guardianConsentBelowAge: undef(event.guardianConsentBelowAge) },
    platforms: event.platforms,
    waitlistEnabled: event.waitlistEnabled,
    refundPolicy: event.refundPolicy,
    ticketTypes: ticketTypes.map((t) => ({ code: t.code, names: t.names, prices: t.prices, capacity: undef(t.capacity) })),
    promoCodes: promoCodes.map((p) => ({
      code: p.code,
      kind: p.kind,
      value: p.value,
      currency: undef(p.currency),
      maxUses: undef(p.maxUses),
      validFrom: undef(p.validFrom),
      validUntil: undef(p.validUntil),
    })),
    internal: event.internal,
    notificationTexts: event.notificationTexts,
  };
}

function stateOfInput({ publish: _publish, ...input }: NewEventInput): EventState {
  return {
    ...input,
    venue: input.venue ?? null,
    announceAt: input.announceAt ?? null,
    signupOpensAt: input.signupOpensAt ?? null,
    signupClosesAt: input.signupClosesAt ?? null,
    cancellationDeadline: input.cancellationDeadline ?? null,
  };
}

/** The event's own columns for a state. */
function columnsOf(state: EventState) {
  return {
    market: state.market,
    timezone: state.timezone,
    defaultLocale: state.defaultLocale,
    category: state.category,
    tags: state.tags,
    venue: state.venue,
    startsAt: state.startsAt,
    endsAt: state.endsAt,
    announceAt: state.announceAt,
    signupOpensAt: state.signupOpensAt,
    signupClosesAt: state.signupClosesAt,
    cancellationDeadline: state.cancellationDeadline,
    capacity: state.capacity,
    maxAttendeesPerSignup: state.maxAttendeesPerSignup,
    minAge: state.ageRules.minAge ?? null,
    maxAge: state.ageRules.maxAge ?? null,
    guardianConsentBelowAge: state.ageRules.guardianConsentBelowAge ?? null,
    platforms: state.platforms,
    waitlistEnabled: state.waitlistEnabled,
    refundPolicy: state.refundPolicy,
    internal: state.internal,
    notificationTexts: state.notificationTexts,
  };
}

/** An organizer works only in the markets (and, if the token says so, categories) it grants; admins everywhere. */
export function mayManageMarket(principal: Principal, market: string): boolean {
  return principal.roles.includes('admin') || principal.markets.includes(market);
}

export function mayManageEvent(principal: Principal, event: { market: string; category: string }): boolean {
  if (principal.roles.includes('admin')) return true;
  return principal.markets.includes(event.market) && (!principal.categories || principal.categories.includes(event.category));
}

export function ruleViolation(violations: RuleViolation[]): Problem {
  return new Problem('rule-violation', `${violations.length} rule(s) broken`, {
    errors: violations.map((violation) => ({ in: 'body', ...violation })),
  });
}

const notFound = () => new Problem('not-found', 'no event with this id');
const stale = () => new Problem('precondition-failed', 'the event has changed since you read it');

/** Makes the child rows match the state: kept codes/locales are updated in place (ids and counters stay). */
function writeChildren(em: EntityManager, event: LiveEvent, current: Omit<LoadedEvent, 'event'>, state: EventState): void {
  for (const translation of current.translations) {
    if (!Object.hasOwn(state.translations, translation.locale)) em.remove(translation);
  }
  for (const [locale, text] of Object.entries(state.translations)) {
    const existing = current.translations.find((t) => t.locale === locale);
    const values = { title: text.title, summary: text.summary ?? null, description: text.description };
    if (existing) em.assign(existing, values);
    else em.create(EventTranslation, { event, locale, searchConfig: searchConfigFor(locale), ...values });
  }

  for (const ticket of current.ticketTypes) {
    if (!state.ticketTypes.some((t) => t.code === ticket.code)) em.remove(ticket);
  }
  state.ticketTypes.forEach((ticket, index) => {
    const existing = current.ticketTypes.find((t) => t.code === ticket.code);
    const values = { names: ticket.names, prices: ticket.prices, capacity: ticket.capacity ?? null, sortOrder: index };
    if (existing) em.assign(existing, values);
    else em.create(TicketType, { id: randomUUID(), event, code: ticket.code, ...values });
  });

  for (const promo of current.promoCodes) {
    if (!state.promoCodes.some((p) => p.code === promo.code)) em.remove(promo);
  }
  for (const promo of state.promoCodes) {
    const existing = current.promoCodes.find((p) => p.code === promo.code);
    const values = {
      kind: promo.kind,
      value: promo.value,
      currency: promo.currency ?? null,
      maxUses: promo.maxUses ?? null,
      validFrom: promo.validFrom ?? null,
      validUntil: promo.validUntil ?? null,
    };
    if (existing) em.assign(existing, values);
    else em.create(PromoCode, { id: randomUUID(), event, code: promo.code, ...values });
  }
}

async function loadEvent(em: EntityManager, id: string): Promise<LoadedEvent | null> {
  const event = await em.findOne(LiveEvent, id);
  if (!event) return null;
  const translations = await em.find(EventTranslation, { event }, { orderBy: { locale: 'asc' } });
  const ticketTypes = await em.find(TicketType, { event }, { orderBy: { sortOrder: 'asc', code: 'asc' } });
  const promoCodes = await em.find(PromoCode, { event }, { orderBy: { code: 'asc' } });
  return { event, translations, ticketTypes, promoCodes };
}

/** Loads an event the caller may manage; anything else is "not found", so ids do not leak. */
async function loadScoped(em: EntityManager, principal: Principal, id: string): Promise<LoadedEvent> {
  const loaded = await loadEvent(em, id);
  if (!loaded || !mayManageEvent(principal, loaded.event)) throw notFound();
  return loaded;
}

async function usageOf(em: EntityManager, loaded: LoadedEvent): Promise<EventUsage> {
  const rows = await em
    .getConnection()
    .execute<{ ticket_type_id: string; signups: number }[]>(
      `select ticket_type_id, count(*)::int as signups from signup where event_id = ? and ticket_type_id is not null group by ticket_type_id`,
      [loaded.event.id],
    );
  return {
    ticketTypes: loaded.ticketTypes.map((t) => ({
      code: t.code,
      seatsTaken: t.heldCount + t.confirmedCount,
      signups: rows.find((row) => row.ticket_type_id === t.id)?.signups ?? 0,
    })),
    promoCodes: loaded.promoCodes.map((p) => ({ code: p.code, usedCount: p.usedCount })),
  };
}

function recordChange(em: EntityManager, eventId: string, action: string, principal: Principal, changes: EventChange['changes']) {
  em.create(EventChange, { eventId, action, changedBy: principal.userId, changes });
}

/** A check constraint refused the write: a hold raced the edit. Report it like the rule it is. */
function constraintProblem(error: unknown): never {
  if (error instanceof CheckConstraintViolationException) {
    throw ruleViolation([{ field: 'capacity', message: 'must not drop below the seats already held or confirmed' }]);
  }
  throw error;
}

export const adminEventSorts = ['startsAt', '-startsAt', 'title', '-title', 'createdAt', '-createdAt'] as const;
export type AdminEventSort = (typeof adminEventSorts)[number];

export interface ListEventsQuery {
  status?: EventStatus | undefined;
  market?: string | undefined;
  /** Part of a title, in any of the event's languages (case-insensitive). */
  q?: string | undefined;
  sort?: AdminEventSort | undefined;
  page: number;
  limit: number;
}

/** The event's title in its default locale, for sorting (a correlated subquery: one primary-key probe per row). */
const defaultTitle = (alias: string) =>
  `(select t.title from event_translation t where t.event_id = ${alias}.id and t.locale = ${alias}.default_locale)`;

/** ORDER BY of the admin list: the chosen key, then the id, so pages never overlap on ties. */
function adminListOrder(sort: AdminEventSort = 'startsAt'): Record<string | symbol, 'asc' | 'desc'>[] {
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  const key = sort.replace(/^-/, '');
  const first: Record<string | symbol, 'asc' | 'desc'> =
    key === 'title' ? { [raw((alias) => `lower(${defaultTitle(alias)})`)]: direction } : { [key]: direction };
  return [first, { id: direction }];
}

export interface WaitlistSettings {
  offerSeconds: number;
  /** Tells the signup workflows their waiting signups were given seats (after the commit). */
  tellOffered: (offers: WaitlistOffer[]) => Promise<void>;
}

/**
 * How the event's lifecycle workflow is told of a publish, a move, a withdrawal or a cancellation:
 * a row in the lifecycle outbox, written in the change's own transaction (src/events/lifecycle-client.ts),
 * then delivered by the relay right after the commit, or by a sweep if that fails.
 */
export interface LifecycleOutboxDeps {
  settings: LifecycleStartSettings;
  /** After the commit: deliver the event's rows now; absent, a sweep of any API process does. */
  deliverSoon?: (eventId: string) => void;
}

/** One line for the Temporal UI's memo: which event, when, how big. */
function summaryOf(view: Pick<AdminEventView, 'id' | 'defaultLocale' | 'market' | 'startsAt' | 'capacity'> & { translations: Record<string, { title: string }> }): string {
  const title = view.translations[view.defaultLocale]?.title ?? view.id;
  return `"${title}" (${view.market}), ${view.startsAt}, ${view.capacity} seats`;
}

/** Fields whose change moves the lifecycle's timers or matters to participants. */
const scheduleFields = ['announceAt', 'signupOpensAt', 'signupClosesAt', 'startsAt', 'endsAt', 'timezone', 'venue'];

export function createEventAdminService(deps: {
  orm: MikroORM;
  now?: () => Date;
  waitlist?: WaitlistSettings;
  lifecycle?: LifecycleOutboxDeps;
}) {
  const now = deps.now ?? (() => new Date());

  /** In the change's transaction: what the lifecycle workflow must hear of it. */
  function tellLifecycle(em: EntityManager, view: Parameters<typeof summaryOf>[0], command: LifecycleCommandInput): void {
    if (deps.lifecycle) recordLifecycleCommand(em, deps.lifecycle.settings, { id: view.id, market: view.market, summary: summaryOf(view) }, command, now());
  }

  async function getEvent(principal: Principal, id: string): Promise<AdminEventView> {
    return toAdminView(await loadScoped(deps.orm.em.fork(), principal, id));
  }

  /** Moves the status with one conditional statement, so a concurrent edit or hold cannot slip in between. */
  async function transition(
    principal: Principal,
    id: string,
    expectedVersion: number | undefined,
    action: 'published' | 'unpublished',
  ): Promise<AdminEventView> {
    await deps.orm.em.fork().transactional(async (em) => {
      const loaded = await loadScoped(em, principal, id);
      const { event } = loaded;
      if (expectedVersion !== undefined && event.version !== expectedVersion) throw stale();
      const at = now();
      let sql: string;
      let params: unknown[];
      if (action === 'published') {
        if (event.status !== 'draft') throw new Problem('event-state-conflict', `the event is ${event.status}, not a draft`);
        const seatsTaken = event.heldCount + event.confirmedCount;
        const violations = checkEvent(stateOf(loaded), seatsTaken);
        if (violations.length > 0) throw ruleViolation(violations);
        sql = `update "event" set status = 'published', published_at = ?, version = version + 1, updated_at = ?
                where id = ? and version = ? and status = 'draft'`;
        params = [at, at, id, event.version];
      } else {
        const [{ signups } = { signups: 0 }] = await em
          .getConnection()
          .execute<{ signups: number }[]>('select count(*)::int as signups from signup where event_id = ?', [id]);
        const refusal = unpublishRefusal(event, signups, at);
        if (refusal) throw new Problem('event-state-conflict', `cannot unpublish: ${refusal}`);
        // The same decision again inside the statement: a signup may arrive between the read and the write.
        sql = `update "event" set status = 'draft', published_at = null, version = version + 1, updated_at = ?
                where id = ? and version = ? and status = 'published' and held_count = 0 and confirmed_count = 0
                  and (announce_at > ? or (announce_at is null and not exists (select 1 from signup s where s.event_id = "event".id)))`;
        params = [at, id, event.version, at];
      }
      const result = await em.getConnection().execute<{ affectedRows: number }>(sql, params, 'run');
      if (result.affectedRows !== 1) {
        throw expectedVersion !== undefined ? stale() : new Problem('event-state-conflict', 'the event changed meanwhile; try again');
      }
      recordChange(em, id, action, principal, [{ field: 'status', before: event.status, after: action === 'published' ? 'published' : 'draft' }]);
      if (action === 'unpublished') await dropPendingLifecycleStart(em, id);
      tellLifecycle(em, toAdminView(loaded), { kind: action === 'published' ? 'start' : 'withdrawn' });
      await em.flush();
    });
    deps.lifecycle?.deliverSoon?.(id);
    return getEvent(principal, id);
  }

  return {
    async createEvent(principal: Principal, input: NewEventInput): Promise<AdminEventView> {
      if (!mayManageEvent(principal, input)) {
        throw new Problem('forbidden', `your token does not grant market ${input.market} (or category ${input.category})`);
      }
      const state = stateOfInput(input);
      const violations = checkEvent(state);
      if (violations.length > 0) throw ruleViolation(violations);

      const created = await deps.orm.em.fork().transactional(async (em) => {
        const event = em.create(LiveEvent, {
          id: randomUUID(),
          status: input.publish ? 'published' : 'draft',
          ...columnsOf(state),
          publishedAt: input.publish ? now() : null,
          createdBy: principal.userId,
        });
        writeChildren(em, event, { translations: [], ticketTypes: [], promoCodes: [] }, state);
        const changes = diffSnapshots({}, snapshotOf(state));
        if (input.publish) changes.push({ field: 'status', before: null, after: 'published' });
        recordChange(em, event.id, 'created', principal, changes);
        await em.flush();
        const view = toAdminView((await loadEvent(em, event.id)) as LoadedEvent);
        if (input.publish) {
          tellLifecycle(em, view, { kind: 'start' });
          await em.flush();
        }
        return view;
      });
      if (created.status === 'published') deps.lifecycle?.deliverSoon?.(created.id);
      return created;
    },

    getEvent,

    async listEvents(principal: Principal, query: ListEventsQuery): Promise<Page<AdminEventSummary>> {
      const em = deps.orm.em.fork();
      const where: Record<string, unknown> = {};
      if (query.status) where.status = query.status;
      if (!principal.roles.includes('admin')) {
        const markets = query.market ? principal.markets.filter((m) => m === query.market) : principal.markets;
        where.market = { $in: markets };
        if (principal.categories) where.category = { $in: principal.categories };
      } else if (query.market) {
        where.market = query.market;
      }
      if (query.q) {
        // Any language's title; the pattern is a bound value, its wildcards escaped.
        const pattern = `%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        Object.assign(where, {
          [raw((alias) => `exists (select 1 from event_translation t where t.event_id = ${alias}.id and t.title ilike ?)`, [pattern])]: [],
        });
      }
      const [events, total] = await em.findAndCount(LiveEvent, where, {
        orderBy: adminListOrder(query.sort),
        limit: query.limit,
        offset: (query.page - 1) * query.limit,
      });
      const translations = events.length ? await em.find(EventTranslation, { event: { $in: events.map((e) => e.id) } }) : [];
      return {
        items: events.map((event) => {
          const own = translations.filter((t) => t.event.id === event.id);
          const text = own.find((t) => t.locale === event.defaultLocale) ?? own[0];
          return {
            id: event.id,
            status: event.status,
            title: text?.title ?? '',
            market: event.market,
            category: event.category,
            startsAt: event.startsAt.toISOString(),
            endsAt: event.endsAt.toISOString(),
            capacity: event.capacity,
            heldCount: event.heldCount,
            confirmedCount: event.confirmedCount,
            version: event.version,
          };
        }),
        page: query.page,
        limit: query.limit,
        total,
      };
    },

    /**
     * Applies a patch if the event is still at `expectedVersion`. The version check is in the UPDATE
     * itself (`where version = ?`), the first write of the transaction: of two PATCHes sent with the
     * same ETag, the second waits for the first's row lock, then matches no row and gets 412.
     */
    async updateEvent(principal: Principal, id: string, expectedVersion: number, patch: EventPatch): Promise<AdminEventView> {
      let offers: WaitlistOffer[] = [];
      let rescheduled = false;
      await deps.orm.em
        .fork()
        .transactional(async (em) => {
          const loaded = await loadScoped(em, principal, id);
          if (loaded.event.version !== expectedVersion) throw stale();
          // Cancellation is its own flow (refunds, notices); a cancelled event is history, not a draft.
          if (loaded.event.status === 'cancelled') throw new Problem('event-state-conflict', 'a cancelled event cannot be edited');
          const before = stateOf(loaded);
          const after = mergePatch(before, patch);
          if (!mayManageEvent(principal, after)) {
            throw new Problem('forbidden', `your token does not grant market ${after.market} (or category ${after.category})`);
          }
          const seatsTaken = loaded.event.heldCount + loaded.event.confirmedCount;
          const violations = [...checkEvent(after, seatsTaken), ...checkUsage(after, await usageOf(em, loaded))];
          if (violations.length > 0) throw ruleViolation(violations);
          const changes = diffSnapshots(snapshotOf(before), snapshotOf(after));
          if (changes.length === 0) return; // nothing to change: same version, no history entry

          const updated = await em.nativeUpdate(
            LiveEvent,
            { id, version: expectedVersion },
            { ...columnsOf(after), version: expectedVersion + 1, updatedAt: now() },
          );
          if (updated !== 1) throw stale();
          writeChildren(em, loaded.event, loaded, after);
          recordChange(em, id, 'updated', principal, changes);
          await em.flush();
          // More room (capacity raised): the waiting list gets it in this same transaction, so a
          // newcomer cannot take it first.
          if (deps.waitlist && loaded.event.status === 'published' && after.capacity > before.capacity) {
            offers = await offerFreeSeatsIn(em, { eventId: id, offerSeconds: deps.waitlist.offerSeconds, now: now() });
          }
          const moved = changes.some((change) => scheduleFields.some((field) => change.field === field || change.field.startsWith(`${field}.`)));
          if (moved && loaded.event.status === 'published') {
            rescheduled = true;
            tellLifecycle(
              em,
              { id, translations: after.translations, defaultLocale: after.defaultLocale, market: after.market, startsAt: after.startsAt.toISOString(), capacity: after.capacity },
              { kind: 'changed', version: expectedVersion + 1 },
            );
            await em.flush();
          }
        })
        .catch(constraintProblem);
      if (offers.length > 0) await deps.waitlist?.tellOffered(offers);
      if (rescheduled) deps.lifecycle?.deliverSoon?.(id);
      return getEvent(principal, id);
    },

    publishEvent: (principal: Principal, id: string, expectedVersion?: number) => transition(principal, id, expectedVersion, 'published'),
    unpublishEvent: (principal: Principal, id: string, expectedVersion?: number) => transition(principal, id, expectedVersion, 'unpublished'),

    /**
     * Cancels a published event: the row says so at once (no new signups), and the lifecycle
     * workflow cancels every signup through its own workflow (refunds, notices). Cancelling a
     * cancelled event again only tells the workflow again, so a failed hand-over can be retried.
     */
    async cancelEvent(principal: Principal, id: string, reason: string, expectedVersion?: number): Promise<AdminEventView> {
      await deps.orm.em.fork().transactional(async (em) => {
        const loaded = await loadScoped(em, principal, id);
        const { event } = loaded;
        if (expectedVersion !== undefined && event.version !== expectedVersion) throw stale();
        if (event.status === 'cancelled') {
          tellLifecycle(em, toAdminView(loaded), { kind: 'cancelled', reason: event.cancellationReason ?? reason });
          await em.flush();
          return;
        }
        if (event.status !== 'published') throw new Problem('event-state-conflict', `only published events can be cancelled; the event is ${event.status}`);
        if (event.endsAt <= now()) throw new Problem('event-state-conflict', 'the event is already over');
        const at = now();
        const updated = await em.nativeUpdate(
          LiveEvent,
          { id, version: event.version, status: 'published' },
          { status: 'cancelled', cancelledAt: at, cancellationReason: reason, version: event.version + 1, updatedAt: at },
        );
        if (updated !== 1) throw stale();
        recordChange(em, id, 'cancelled', principal, [
          { field: 'status', before: 'published', after: 'cancelled' },
          { field: 'cancellationReason', before: null, after: reason },
        ]);
        tellLifecycle(em, toAdminView(loaded), { kind: 'cancelled', reason });
        await em.flush();
      });
      deps.lifecycle?.deliverSoon?.(id);
      return getEvent(principal, id);
    },

    /** Drafts only, and only while nobody ever signed up (signups keep a reference to the event). */
    async deleteEvent(principal: Principal, id: string, expectedVersion: number): Promise<void> {
      await deps.orm.em
        .fork()
        .transactional(async (em) => {
          const { event } = await loadScoped(em, principal, id);
          if (event.version !== expectedVersion) throw stale();
          if (event.status !== 'draft') throw new Problem('event-state-conflict', `only drafts can be deleted; the event is ${event.status}`);
          const deleted = await em.nativeDelete(LiveEvent, { id, version: expectedVersion, status: 'draft' });
          if (deleted !== 1) throw stale();
          recordChange(em, id, 'deleted', principal, [{ field: 'status', before: event.status, after: null }]);
          await em.flush();
        })
        .catch((error: unknown) => {
          if (error instanceof ForeignKeyConstraintViolationException) {
            throw new Problem('event-state-conflict', 'the event has signups and cannot be deleted');
          }
          throw error;
        });
    },

    async history(principal: Principal, id: string, page: { page: number; limit: number }): Promise<Page<AdminChangeView>> {
      const em = deps.orm.em.fork();
      const event = await em.findOne(LiveEvent, id);
      // A deleted draft's history stays readable, for admins only: its market is gone with it.
      const visible = event ? mayManageEvent(principal, event) : principal.roles.includes('admin');
      if (!visible) throw notFound();
      const [changes, total] = await em.findAndCount(
        EventChange,
        { eventId: id },
        { orderBy: { changedAt: 'desc', id: 'desc' }, limit: page.limit, offset: (page.page - 1) * page.limit },
      );
      if (!event && total === 0) throw notFound();
      return {
        items: changes.map((change) => ({
          id: String(change.id),
          action: change.action,
          changedBy: change.changedBy,
          changedAt: change.changedAt.toISOString(),
          changes: change.changes,
        })),
        page: page.page,
        limit: page.limit,
        total,
      };
    },

    ...createParticipantReports({ orm: deps.orm, now, loadScoped }),
  };
}

export interface AdminChangeView {
  id: string;
  action: string;
  changedBy: string;
  changedAt: string;
  changes: EventChange['changes'];
}

export type { LoadedEvent };
export type EventAdminService = ReturnType<typeof createEventAdminService>;
