import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { QueryResult } from '@mikro-orm/core';
import type { Principal } from '../auth/principal.js';
import { contactFromToken, rememberContact } from '../contacts/provider.js';
import type { Platform } from '../events/event-data.js';
import { LiveEvent } from '../events/event.entity.js';
import { PromoCode } from '../events/promo-code.entity.js';
import { marketCurrencies } from '../events/rules.js';
import { TicketType } from '../events/ticket-type.entity.js';
import { Problem, type InvalidField } from '../http/problem.js';
import { checkPromo, PricingError, quoteSignup } from '../payments/pricing.js';
import { workflowIds, type SignupWorkflowInput } from '../temporal/contract.js';
import { Attendee } from './attendee.entity.js';
import { ageOn, checkEligibility, needsGuardianConsent, type UnknownAgeConsent } from './eligibility.js';
import { createDoorBatcher, type DoorBatcherSettings } from './door-batcher.js';
import { expiredHoldsSql, hasExpiredHolds, isUniqueViolation, placeAtDoor, seatsFit, type DoorAnswer, type DoorClaim } from './seats.js';
import { Signup } from './signup.entity.js';
import { activeSignupStatuses, type SignupStatus } from './status.js';
import { recordWorkflowStart, workflowStartValues, type SignupWorkflowStarter } from './workflow-starts.js';

export interface SignupSettings {
  holdSeconds: number;
  offerSeconds: number;
  consentSeconds: number;
  latePaymentGraceSeconds: number;
  /** Absent: the workflow's own default (30 s). */
  seatMoveTimeoutSeconds?: number;
  /** What a token without a birthdate means for an event with a consent age. */
  unknownAgeConsent?: UnknownAgeConsent;
  /** How the door gathers concurrent claims for one event (src/signups/door-batcher.ts). */
  doorBatch: DoorBatcherSettings;
  /** Free signups confirmed at the door: `grouped` under a door-confirmations flow, or a workflow `each` (absent: each). */
  doorConfirmations?: 'grouped' | 'each';
}

export interface SignupServiceDeps {
  orm: MikroORM;
  /** Starts the signup workflows recorded in the outbox (src/signups/workflow-starts.ts). */
  starter: SignupWorkflowStarter;
  taskQueue: string;
  settings: SignupSettings;
  now?: () => Date;
}

export interface AttendeeRequest {
  firstName: string;
  birthDate?: string;
  age?: number;
  kind: 'child' | 'adult';
  needsNote?: string;
}

export interface SignupRequest {
  attendees: AttendeeRequest[];
  ticketType?: string;
  promoCode?: string;
  platform: Platform;
  locale?: string;
}

export interface SignupView {
  id: string;
  eventId: string;
  status: SignupStatus;
  seats: number;
  ticketType: string | null;
  platform: Platform;
  locale: string;
  attendees: { firstName: string; kind: 'child' | 'adult'; ticketCode: string | null }[];
  price: { amountMinor: number; currency: string | null; promoCode: string | null };
  /** Present while the signup waits for its payment: what the app hands to Stripe. */
  payment: { paymentIntentId: string; clientSecret: string } | null;
  refundedMinor: number;
  waitlistPosition: number | null;
  holdExpiresAt: string | null;
  offeredAt: string | null;
  confirmedAt: string | null;
  releasedAt: string | null;
  cancelledAt: string | null;
  rejectionReason: string | null;
  cancellationReason: string | null;
  createdAt: string;
}

export interface SignupPage {
  items: SignupView[];
  nextCursor: string | null;
}

/** Signup use cases: the HTTP layer parses, calls one of these, and maps the answer. */
export function createSignupService(deps: SignupServiceDeps) {
  const now = deps.now ?? (() => new Date());

  async function viewOf(em: EntityManager, signup: Signup): Promise<SignupView> {
    if (signup.ticketType) await em.populate(signup, ['ticketType']);
    const attendees = await em.find(Attendee, { signup }, { orderBy: { firstName: 'asc', id: 'asc' } });
    return toSignupView(signup, attendees, await waitlistPositionOf(em, signup), now());
  }

  // The door's batches (one per event at a time in this process), placed by the seat ledger.
  const door = createDoorBatcher<DoorClaim, DoorAnswer>({
    ...deps.settings.doorBatch,
    run: (eventId, claims) => placeAtDoor(deps.orm.em.fork(), eventId, claims, deps.settings),
    distinct: (claim) => claim.signup.userId,
  });
  // The context reads of one event's signup requests, gathered the same way: a sold-out burst is
  // mostly these, and each one alone was a statement. No window: the reads that arrive while one
  // batch runs make the next.
  let readNumber = 0;
  const contextReads = createDoorBatcher<ContextQuery, RequestContextRow>({
    windowMs: 0,
    maxBatch: deps.settings.doorBatch.maxBatch,
    run: (eventId, queries) => readRequestContexts(deps.orm.em.fork(), eventId, queries),
    // Any two reads may share a batch, one user's too: they change nothing.
    distinct: () => String((readNumber += 1)),
  });

  function workflowInput(signup: Signup, status: SignupStatus, holdExpiresAt: Date | null, needsConsent: boolean): SignupWorkflowInput {
    return {
      signupId: signup.id,
      eventId: signup.event.id,
      holdTimeoutSeconds: deps.settings.holdSeconds,
      offerTimeoutSeconds: deps.settings.offerSeconds,
      consentTimeoutSeconds: deps.settings.consentSeconds,
      latePaymentGraceSeconds: deps.settings.latePaymentGraceSeconds,
      ...(deps.settings.seatMoveTimeoutSeconds ? { seatMoveTimeoutSeconds: deps.settings.seatMoveTimeoutSeconds } : {}),
      needsGuardianConsent: needsConsent,
      paid: signup.amountMinor > 0,
      heldByApi: status === 'held',
      ...(status === 'held' && holdExpiresAt ? { holdExpiresAt: holdExpiresAt.toISOString() } : {}),
      confirmedByApi: status === 'confirmed',
    };
  }

  return {
    /**
     * Checks the request against the event's rules, prices it, and records it with its attendees,
     * its seats (or waitlist place) and its workflow's start in one transaction. The answer comes
     * at the commit; the workflow is started right after, from the outbox, retried until Temporal
     * takes it (workflow-starts.ts).
     */
    async requestSignup(
      principal: Principal,
      eventId: string,
      request: SignupRequest,
      idempotencyKey?: string,
      /** Settles when the caller may write (its rate limit): read alongside, awaited before any answer. */
      mayWrite: Promise<void> = Promise.resolve(),
    ): Promise<{ signup: SignupView; replayed: boolean }> {
      const em = deps.orm.em.fork();
      const at = now();
      const [context] = await Promise.all([contextReads.submit(eventId, { userId: principal.userId, idempotencyKey, at }), mayWrite]);
      const { earlierSignupId, defaultTitle, hasExpiredHolds: anyExpiredHolds, eventFacts: facts } = context;
      if (earlierSignupId) {
        const earlier = await em.findOneOrFail(Signup, earlierSignupId);
        return { signup: await viewOf(em, replay(earlier, eventId, request)), replayed: true };
      }
      // The checks up to a sold-out refusal read the batch's one copy of the event; only a request
      // that goes on maps the event into its own entity manager, for what it writes.
      if (!facts) throw new Problem('not-found', 'no open event with this id');

      const ages = request.attendees.map((attendee) => attendee.age ?? ageOn(attendee.birthDate ?? '', facts.startsAt));
      const refusals = checkEligibility(facts, { now: at, platform: request.platform, attendeeAges: ages });
      if (refusals.length > 0) {
        throw new Problem('signup-not-eligible', refusals.map((refusal) => refusal.message).join('; '), {
          errors: refusals.map((refusal) => ({ in: refusal.in ?? 'body', field: refusal.field, message: `${refusal.code}: ${refusal.message}` })),
        });
      }
      const requesterAge = principal.profile?.birthDate ? ageOn(principal.profile.birthDate, at) : undefined;
      const needsConsent = needsGuardianConsent(facts.guardianConsentBelowAge, requesterAge, deps.settings.unknownAgeConsent);
      if (needsConsent && !principal.profile?.guardianEmail) {
        // The guardian's address comes from the token's profile claims, not from the body.
        throw ruleBroken(
          'authorization.guardian_email',
          requesterAge === undefined
            ? 'your age is not known, so a guardian must consent, and your profile names no guardian to ask'
            : 'a guardian must consent, and your profile names no guardian to ask',
          'header',
        );
      }

      // Full with no waiting list: refused before anything more is read (a sold-out burst is mostly
      // these). Only refusals are decided from the counters; seats only by the conditional UPDATE.
      const seatsWanted = request.attendees.length;
      // Holds past their deadline do not count (the claim releases them): looked at only when full.
      if (!facts.waitlistEnabled && !seatsFit(facts, seatsWanted) && !anyExpiredHolds) {
        throw new Problem('sold-out', 'no seats are left and the event has no waiting list');
      }

      const { event, ticketTypes } = mapRequestContext(em, context);
      const ticketType = chooseTicketType(ticketTypes, request.ticketType);
      const promo = request.promoCode ? await em.findOne(PromoCode, { event, code: request.promoCode.toUpperCase() }) : null;
      const currency = marketCurrencies[event.market] ?? null;
      if (request.promoCode) {
        const promoRefusal = promo ? checkPromo(promo, at, currency) : 'promo-unknown';
        if (promoRefusal) throw ruleBroken('promoCode', promoRefusal);
      }
      let quote;
      try {
        quote = quoteSignup({
          prices: ticketType?.prices ?? [],
          currency: currency ?? '',
          quantity: request.attendees.length,
          ...(promo ? { promo } : {}),
        });
      } catch (error) {
        if (error instanceof PricingError) throw ruleBroken('ticketType', `this ticket type cannot be sold in ${event.market}`);
        throw error;
      }

      // A ticket type with a capacity of its own is full the same way.
      const typeFull = ticketType !== null && !seatsFit(ticketType, seatsWanted);
      if (!event.waitlistEnabled && typeFull && !(await hasExpiredHolds(em, event.id, ticketType.id, at))) {
        throw new Problem('sold-out', `no ${ticketType.code} tickets are left and the event has no waiting list`);
      }

      const signupId = randomUUID();
      const workflowId = workflowIds.signup(signupId);
      // Built unpersisted: the fast path writes them in SQL, the transactional one persists them.
      const signup = em.create(
        Signup,
        {
          id: signupId,
          event,
          userId: principal.userId,
          idempotencyKey: idempotencyKey ?? null,
          seats: request.attendees.length,
          ticketType,
          platform: request.platform,
          locale: request.locale ?? principal.profile?.locale ?? event.defaultLocale,
          promoCode: promo?.code ?? null,
          amountMinor: quote.totalMinor,
          currency: quote.free ? null : quote.currency,
          workflowId,
          createdAt: at,
        },
        { persist: false },
      );
      const attendees = request.attendees.map((attendee, index) =>
        em.create(
          Attendee,
          {
            id: randomUUID(),
            signup,
            firstName: attendee.firstName,
            age: ages[index] ?? 0,
            kind: attendee.kind,
            needsNote: attendee.needsNote ?? null,
          },
          { persist: false },
        ),
      );
      const price = quote.free ? ', free' : `, ${quote.totalMinor} ${quote.currency} (minor units)`;
      const summary = `${seatsWanted} seat(s) at "${defaultTitle ?? event.id}"${price}`;
      const startValues = (status: SignupStatus, holdExpiresAt: Date | null = signup.holdExpiresAt ?? null) =>
        workflowStartValues({
          workflowId,
          taskQueue: deps.taskQueue,
          input: workflowInput(signup, status, holdExpiresAt, needsConsent),
          market: event.market,
          summary,
          now: at,
        });
      // Nothing to wait for on a free signup: confirmed at the door, one workflow step less.
      const confirmAtOnce = quote.totalMinor === 0;
      try {
        const contact = contactFromToken({ userId: principal.userId, ...principal.profile });
        if (!needsConsent) {
          // Seats at the door, decided with the other claims for this event waiting in this process;
          // the contact is kept by the same statement as the signup.
          const answer = await door.submit(event.id, { signup, attendees, confirmAtOnce, promoId: promo?.id ?? null, now: at, start: startValues, contact });
          if ('error' in answer) throw answer.error;
          if ('refused' in answer) throw doorRefusal(answer.refused);
          if (signup.status === 'confirmed' && deps.settings.doorConfirmations === 'grouped') deps.starter.confirmAtDoorSoon(event.id, signupId, startValues(signup.status));
          else deps.starter.startSoon(signupId, signup.status, startValues(signup.status));
          return { signup: toSignupView(signup, inViewOrder(attendees), await waitlistPositionOf(em, signup), at), replayed: false };
        }
        // A guardian decides first: no seat is taken meanwhile, the workflow holds them after consent.
        await rememberContact(em, { userId: principal.userId, ...principal.profile });
        await em.transactional(async (tx) => {
          tx.persist([signup, ...attendees]);
          if (promo) await usePromo(tx, promo);
          recordWorkflowStart(tx, signup, startValues(signup.status));
          await tx.flush();
        });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // A concurrent request won: the same key (answer its signup) or another active signup (409).
        const fresh = deps.orm.em.fork();
        const existing = await existingSignupOf(fresh, principal, eventId, request, idempotencyKey);
        return { signup: await viewOf(fresh, existing), replayed: true };
      }

      deps.starter.startSoon(signupId, signup.status, startValues(signup.status));
      return { signup: await viewOf(em, signup), replayed: false };
    },

    /** The signup, if the caller may see it: its owner, or an admin. Others get 404 so ids do not leak. */
    async getSignup(principal: Principal, signupId: string): Promise<SignupView> {
      const em = deps.orm.em.fork();
      const signup = await em.findOne(Signup, signupId);
      if (!signup || !mayRead(principal, signup)) throw new Problem('not-found', 'no signup with this id');
      return viewOf(em, signup);
    },

    /** The caller's own signups, newest first, a page at a time (cursor: the last id seen). */
    async listMySignups(
      principal: Principal,
      query: { status?: SignupStatus; eventId?: string; limit: number; cursor?: string },
    ): Promise<SignupPage> {
      const em = deps.orm.em.fork();
      const after = query.cursor ? await em.findOne(Signup, { id: query.cursor, userId: principal.userId }) : null;
      if (query.cursor && !after) throw new Problem('validation-error', 'unknown cursor', {
        errors: [{ in: 'query', field: 'cursor', message: 'not a cursor from an earlier page' }],
      });
      const rows = await em.find(
        Signup,
        {
          userId: principal.userId,
          ...(query.status ? { status: query.status } : {}),
          ...(query.eventId ? { event: query.eventId } : {}),
          ...(after
            ? { $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, id: { $lt: after.id } }] }
            : {}),
        },
        { orderBy: { createdAt: 'desc', id: 'desc' }, limit: query.limit + 1 },
      );
      const page = rows.slice(0, query.limit);
      return {
        items: await Promise.all(page.map((signup) => viewOf(em, signup))),
        nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    /** Reads a signup the caller owns (for the flow commands). */
    async ownSignup(principal: Principal, signupId: string): Promise<Signup & { event: LiveEvent }> {
      const signup = await deps.orm.em.fork().findOne(Signup, signupId, { populate: ['event'] });
      if (!signup || signup.userId !== principal.userId) throw new Problem('not-found', 'no signup with this id');
      return signup;
    },

    viewOf: async (signupId: string): Promise<SignupView> => {
      const em = deps.orm.em.fork();
      return viewOf(em, await em.findOneOrFail(Signup, signupId));
    },
  };
}

export type SignupService = ReturnType<typeof createSignupService>;

export function toSignupView(
  signup: Signup,
  attendees: readonly Attendee[],
  waitlistPosition: number | null,
  now: Date = new Date(),
): SignupView {
  // Never shown past the hold's deadline: the app must not be told to pay for a hold that has ended
  // (the intent is cancelled by the workflow at that deadline, and a payment that lands anyway is
  // settled by the late-payment rule).
  const holdLasts = signup.holdExpiresAt !== undefined && signup.holdExpiresAt !== null && signup.holdExpiresAt.getTime() > now.getTime();
  const awaitingPayment = signup.status === 'held' && holdLasts && signup.paymentIntentId && signup.paymentClientSecret;
  return {
    id: signup.id,
    eventId: signup.event.id,
    status: signup.status,
    seats: signup.seats,
    ticketType: signup.ticketType?.code ?? null,
    platform: signup.platform,
    locale: signup.locale,
    attendees: attendees.map((attendee) => ({
      firstName: attendee.firstName,
      kind: attendee.kind,
      ticketCode: attendee.ticketCode ?? null,
    })),
    price: { amountMinor: signup.amountMinor, currency: signup.currency ?? null, promoCode: signup.promoCode ?? null },
    payment: awaitingPayment
      ? { paymentIntentId: signup.paymentIntentId ?? '', clientSecret: signup.paymentClientSecret ?? '' }
      : null,
    refundedMinor: signup.refundedMinor,
    waitlistPosition,
    holdExpiresAt: signup.holdExpiresAt?.toISOString() ?? null,
    offeredAt: signup.offeredAt?.toISOString() ?? null,
    confirmedAt: signup.confirmedAt?.toISOString() ?? null,
    releasedAt: signup.releasedAt?.toISOString() ?? null,
    cancelledAt: signup.cancelledAt?.toISOString() ?? null,
    rejectionReason: signup.rejectionReason ?? null,
    cancellationReason: signup.cancellationReason ?? null,
    createdAt: signup.createdAt.toISOString(),
  };
}

/** How many are ahead of a waitlisted signup, plus one; null for any other status. */
async function waitlistPositionOf(em: EntityManager, signup: Signup): Promise<number | null> {
  if (signup.status !== 'waitlisted' || !signup.waitlistedAt) return null;
  const [row] = await em.getConnection().execute<{ ahead: number }[]>(
    `select count(*)::int as ahead from signup where event_id = ? and status = 'waitlisted'
        and (waitlisted_at, id) < (?, ?)`,
    [signup.event.id, signup.waitlistedAt, signup.id],
  );
  return (row?.ahead ?? 0) + 1;
}

/** In the order viewOf reads them (first name, then id), so the POST's answer and a later GET agree. */
function inViewOrder(attendees: readonly Attendee[]): Attendee[] {
  return [...attendees].sort((a, b) => (a.firstName === b.firstName ? (a.id < b.id ? -1 : 1) : a.firstName < b.firstName ? -1 : 1));
}

/** The door's refusals, as the API answers them. */
function doorRefusal(refused: 'sold-out' | 'promo-used-up' | 'event-not-open'): Problem {
  if (refused === 'sold-out') return new Problem('sold-out', 'no seats are left and the event has no waiting list');
  if (refused === 'promo-used-up') return ruleBroken('promoCode', 'promo-used-up');
  return new Problem('not-found', 'no open event with this id');
}

function ruleBroken(field: string, message: string, location: InvalidField['in'] = 'body'): Problem {
  const errors: InvalidField[] = [{ in: location, field, message }];
  return new Problem('signup-not-eligible', message, { errors });
}

/** One signup request's question for the context read. */
interface ContextQuery {
  userId: string;
  idempotencyKey: string | undefined;
  at: Date;
}

/** One request's share of a context read, as PostgreSQL answered it (mapped into the request's own entity manager). */
interface RequestContextRow {
  eventRow: Record<string, unknown> | null;
  /**
   * The event, mapped once for the whole batch into the read's own entity manager, and only read:
   * the checks up to a sold-out refusal. Mapping it into each request's entity manager was most of
   * what a refused request spent in this service in a sold-out burst.
   */
  eventFacts: LiveEvent | null;
  typeRows: Record<string, unknown>[];
  defaultTitle: string | null;
  hasExpiredHolds: boolean;
  earlierSignupId: string | null;
}

/**
 * What every signup request reads, for the requests of one event waiting in this process, in one
 * statement: the event if it is open, its ticket types and its title (for the workflow's memo),
 * whether it has holds past their deadline (which a full event's claim may still free), and the
 * signup each request's Idempotency-Key already made (if any). Most of a sold-out burst is refused
 * right after it, so the statement per request was most of what such a burst cost PostgreSQL and
 * the API's socket. Holds are judged at the latest request's time: one that is past its deadline
 * for any of them sends that request on to the door, whose claim decides.
 */
async function readRequestContexts(em: EntityManager, eventId: string, queries: readonly ContextQuery[]): Promise<RequestContextRow[]> {
  const at = new Date(Math.max(...queries.map((query) => query.at.getTime())));
  const keyed = queries.flatMap((query, index) => (query.idempotencyKey ? [[String(index), query.userId, query.idempotencyKey]] : []));
  const [row] = await em.getConnection().execute<Record<string, unknown>[]>(
    // jsonb for the list: MikroORM writes parameters into the statement, and a JSON array is one parameter.
    // Each key is looked up on its own (lateral, limit 1: the unique index): as a join, a hot event's
    // table grown faster than its statistics had the planner scan every signup for each batch.
    `select e.*,
            (select json_object_agg(k.item->>0, s.id) from jsonb_array_elements(?::jsonb) as k(item)
               cross join lateral (select s.id from signup s where s.user_id = k.item->>1 and s.idempotency_key = k.item->>2 limit 1) s
            ) as earlier_signups_json,
            (select coalesce(json_agg(t order by t.sort_order, t.code), '[]') from ticket_type t where t.event_id = e.id) as ticket_types_json,
            (select tr.title from event_translation tr where tr.event_id = e.id and tr.locale = e.default_locale) as default_title,
            ${expiredHoldsSql('e.id')} as has_expired_holds
       from (select 1) as always_one_row left join "event" e on e.id = ? and e.status = 'published'`,
    [JSON.stringify(keyed), at, null, null, eventId],
  );
  const { earlier_signups_json: earlier, ticket_types_json: typeRows, default_title: defaultTitle, has_expired_holds: expired, ...eventRow } = row ?? {};
  const earlierByIndex = (earlier ?? {}) as Record<string, string>;
  const eventFacts = eventRow.id ? em.map(LiveEvent, { ...eventRow }) : null;
  return queries.map((_, index) => ({
    eventRow: eventRow.id ? eventRow : null,
    eventFacts,
    typeRows: Array.isArray(typeRows) ? (typeRows as Record<string, unknown>[]) : [],
    defaultTitle: typeof defaultTitle === 'string' ? defaultTitle : null,
    hasExpiredHolds: expired === true,
    earlierSignupId: earlierByIndex[String(index)] ?? null,
  }));
}

/** A context read's answer as entities of the request's entity manager (each request that writes maps its own copy). */
function mapRequestContext(em: EntityManager, context: RequestContextRow): { event: LiveEvent; ticketTypes: TicketType[] } {
  if (!context.eventRow) throw new Error('mapRequestContext: no event in the context');
  return {
    event: em.map(LiveEvent, { ...context.eventRow }),
    ticketTypes: context.typeRows.map((type) => em.map(TicketType, { ...type })),
  };
}

/** The named ticket type; with none named, the event's only one (or none at all: a free event). */
function chooseTicketType(types: readonly TicketType[], code: string | undefined): TicketType | null {
  if (code) {
    const chosen = types.find((type) => type.code === code);
    if (!chosen) throw ruleBroken('ticketType', `the event has no ticket type "${code}"`);
    return chosen;
  }
  if (types.length > 1) throw ruleBroken('ticketType', `choose one of: ${types.map((type) => type.code).join(', ')}`);
  return types[0] ?? null;
}

/** Counts a use of the code, unless that would pass its limit (decided in the UPDATE itself). */
async function usePromo(tx: EntityManager, promo: PromoCode): Promise<void> {
  const used = await tx.execute<QueryResult>(
    `update promo_code set used_count = used_count + 1 where id = ? and (max_uses is null or used_count < max_uses)`,
    [promo.id],
    'run',
  );
  if (used.affectedRows !== 1) throw ruleBroken('promoCode', 'promo-used-up');
}

/** After a unique-constraint refusal: the signup the same key made, or the active one that blocks a new one. */
async function existingSignupOf(
  em: EntityManager,
  principal: Principal,
  eventId: string,
  request: SignupRequest,
  idempotencyKey: string | undefined,
): Promise<Signup> {
  if (idempotencyKey) {
    const earlier = await em.findOne(Signup, { userId: principal.userId, idempotencyKey });
    if (earlier) return replay(earlier, eventId, request);
  }
  const active = await em.findOne(Signup, {
    event: eventId,
    userId: principal.userId,
    status: { $in: [...activeSignupStatuses] },
  });
  throw new Problem('signup-exists', 'cancel it or wait for it to end before signing up again', {
    headers: active ? { Location: `/v1/signups/${active.id}` } : {},
  });
}

/** The same key must mean the same request; anything else is a client bug worth reporting. */
function replay(earlier: Signup, eventId: string, request: SignupRequest): Signup {
  if (earlier.event.id !== eventId || earlier.seats !== request.attendees.length || earlier.platform !== request.platform) {
    const message = 'send a new Idempotency-Key for a different request';
    throw new Problem('idempotency-key-reused', message, { errors: [{ in: 'header', field: 'idempotency-key', message }] });
  }
  return earlier;
}

function mayRead(principal: Principal, signup: Signup): boolean {
  return signup.userId === principal.userId || principal.roles.includes('admin');
}
