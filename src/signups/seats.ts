import { randomBytes } from 'node:crypto';
import { LockMode, UniqueConstraintViolationException, type QueryResult } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { contactUpsertSql, type TokenContactRow } from '../contacts/provider.js';
import { LiveEvent } from '../events/event.entity.js';
import { confirmationsTotal, doorBatchClaims, holdsReleasedByLedgerTotal, holdsTotal } from '../observability/metrics.js';
import { Attendee } from './attendee.entity.js';
import { SeatMoveRecord } from './seat-move.entity.js';
import { Signup } from './signup.entity.js';
import type { SignupWorkflowInput } from '../temporal/contract.js';
import { activeSignupStatuses, nextSignupStatus, type SignupStatus, type SignupTransition } from './status.js';
import { startRowOf } from './workflow-starts.js';

/**
 * The one code path that moves seats. Each exported function is one transaction that locks the
 * signup row, checks the move against the status table, moves the event's (and the ticket type's)
 * counters with conditional UPDATEs and writes the signup's new status, so counters and rows can
 * never disagree. Seats freed by a release or a cancellation are offered to the waitlist in the
 * same transaction, so a newcomer can never take a seat someone is queueing for.
 * Each function is idempotent: called again after it succeeded, it changes nothing. Called with a
 * `moveId` (the workflow's activities pass the activity's own key, the same for every attempt), it
 * records its answer in its transaction and a later call with that key answers the recorded one:
 * an attempt that committed after its StartToClose timeout and the retry that follows it give the
 * workflow the same answer (the status moved from, the offers made), so its follow-ups happen once.
 */

/** Which move, for the workflow's retries: see oneMove. */
export interface MoveKey {
  signupId: string;
  /** The same for every attempt of one move (activities: workflow id, run id, activity id). */
  moveId?: string;
}

/**
 * The capacity rule, defined once: `n` more seats fit a row (event or ticket type) when
 * held + confirmed + n <= capacity; a ticket type without a capacity of its own always has room.
 * `seatsFit` judges loaded counters (refusals only: seats are only ever taken by `fitsSql` in a
 * conditional UPDATE, where PostgreSQL re-checks it on the locked row).
 */
export function seatsFit(row: { capacity?: number | null; heldCount: number; confirmedCount: number }, n: number): boolean {
  return row.capacity == null || row.heldCount + row.confirmedCount + n <= row.capacity;
}

/** The same rule as SQL, for the row `alias` (or the UPDATE's own), with `n` a parameter (`?`) or a column. */
function fitsSql(alias = '', n = '?'): string {
  const col = (name: string) => (alias ? `${alias}.${name}` : name);
  return `(${col('capacity')} is null or ${col('held_count')} + ${col('confirmed_count')} + ${n} <= ${col('capacity')})`;
}

/** A waitlisted signup that was just given freed seats; its workflow must be told. */
export interface WaitlistOffer {
  signupId: string;
  workflowId: string;
  holdExpiresAt: string;
}

export interface SeatMove {
  status: SignupStatus;
  holdExpiresAt?: string;
  reason?: string;
  /** Set when the held seats were offered from the waiting list (an offer to take, not a plain hold). */
  offeredAt?: string;
  /** Waitlisted signups that got the seats this move freed. */
  offers: WaitlistOffer[];
}

export async function holdSeats(
  em: EntityManager,
  input: MoveKey & { holdSeconds: number; allowWaitlist: boolean; offerSeconds?: number; now?: Date },
): Promise<SeatMove> {
  return oneMove(em, input, 'holdSeats', async (tx, signup) => {
    if (signup.status !== 'requested' && signup.status !== 'awaiting_consent') return moveOf(signup);
    const now = input.now ?? new Date();
    const event = await tx.findOneOrFail(LiveEvent, signup.event.id);

    if (event.status === 'published' && (await claimSeats(tx, signup, 'held', input.offerSeconds ?? input.holdSeconds, now))) {
      signup.status = transition(signup, 'hold');
      signup.holdExpiresAt = new Date(now.getTime() + input.holdSeconds * 1000);
    } else if (event.status === 'published' && input.allowWaitlist && event.waitlistEnabled) {
      signup.status = transition(signup, 'waitlist');
      signup.waitlistedAt = now;
    } else {
      end(signup, 'reject', now);
      signup.rejectionReason = event.status === 'published' ? 'sold_out' : 'event_not_open';
      await giveBackPromoUse(tx, signup);
    }
    return moveOf(signup);
  });
}

/** The outbox row of a new signup's workflow start (workflow-starts.ts writes it the same way). */
export interface WorkflowStartValues {
  workflowId: string;
  taskQueue: string;
  input: SignupWorkflowInput;
  market: string;
  summary: string;
  nextAttemptAt: Date;
}

/** A new signup waiting at the door for its seats: checked, priced, built unpersisted by the service. */
export interface DoorClaim {
  signup: Signup;
  attendees: readonly Attendee[];
  /** Free: its seats are confirmed at once, with ticket codes (as confirmSeats would do a moment later). */
  confirmAtOnce: boolean;
  /** The promo code whose use it counts (checked already; its use limit is judged here). */
  promoId: string | null;
  now: Date;
  start: (status: SignupStatus, holdExpiresAt: Date | null) => WorkflowStartValues;
  /** How the token says its user is reached (contactFromToken): kept with the signup, in the batch's statement. */
  contact?: TokenContactRow;
}

/**
 * What the door answers one claim. `refused` writes nothing for that claim: `sold-out` (no room and
 * no waiting list), `promo-used-up`, `event-not-open` (unpublished or cancelled since it was read).
 * `error` is this claim's own failure (a unique violation: the same key or user raced it).
 */
export type DoorAnswer =
  | { placed: 'held' | 'confirmed' | 'waitlisted' }
  | { refused: 'sold-out' | 'promo-used-up' | 'event-not-open' }
  | { error: unknown };

/** A unique index refused an insert, whether it came through the ORM or as the driver's own error. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof UniqueConstraintViolationException ||
    (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505')
  );
}

/**
 * Seats for new signups of one event, decided together: the door's batch (src/signups/door-batcher.ts
 * gathers the claims waiting in this process). The common batch (no promo code, no ticket type with
 * a capacity of its own, every claim fits) is one autocommit statement (placeAllAtOnce). Otherwise
 * one transaction locks the event row (then its ticket
 * types and promo codes, the order every seat move uses), judges the claims in arrival order
 * against the locked counters (seatsFit: a claim that does not fit is passed over, one behind it that
 * does still gets its seats), and writes everything in one statement: the counters, moved by
 * conditional UPDATEs that PostgreSQL re-checks (fitsSql), and every placed or waitlisted signup with
 * its attendees and its workflow's outbox row. A claim that finds no room releases the event's holds
 * past their deadline first (releaseExpiredHolds, once per batch), as claimSeats does.
 *
 * Why: under a burst every signup of an event updates the same row, and one statement per signup
 * there is bounded by that row's lock. A batch takes the lock once for all its claims, for a few
 * statements; see docs/architecture.md ("Hot events").
 *
 * A unique violation (the same user or Idempotency-Key racing a signup outside the batch) rolls the
 * batch back; its claims are then placed one at a time, so only the claim that caused it answers it.
 */
export async function placeAtDoor(
  em: EntityManager,
  eventId: string,
  claims: readonly DoorClaim[],
  settings: { holdSeconds: number; offerSeconds: number },
): Promise<DoorAnswer[]> {
  doorBatchClaims.observe(claims.length);
  try {
    return await placeBatch(em, eventId, claims, settings);
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    if (claims.length === 1) return [{ error }];
    const answers: DoorAnswer[] = [];
    for (const claim of claims) {
      try {
        answers.push(...(await placeBatch(em, eventId, [claim], settings)));
      } catch (alone) {
        if (!isUniqueViolation(alone)) throw alone;
        answers.push({ error: alone });
      }
    }
    return answers;
  }
}

interface SeatRow {
  capacity: number | null;
  heldCount: number;
  confirmedCount: number;
}

type Judged =
  | { claim: DoorClaim; placement: DoorPlacement }
  | { claim: DoorClaim; waitlisted: true }
  | { claim: DoorClaim; refused: 'sold-out' | 'promo-used-up' | 'event-not-open' };

async function placeBatch(
  em: EntityManager,
  eventId: string,
  claims: readonly DoorClaim[],
  settings: { holdSeconds: number; offerSeconds: number },
): Promise<DoorAnswer[]> {
  const judged = (await placeAllAtOnce(em, eventId, claims, settings)) ?? (await em.transactional(async (tx) => {
    const { event, types, promos } = await lockSeatRows(tx, eventId, claims);
    if (!event || event.status !== 'published') return claims.map((claim): Judged => ({ claim, refused: 'event-not-open' }));
    const verdicts: Judged[] = [];
    let releasedExpired = false;
    for (const claim of claims) {
      const type = claim.signup.ticketType?.id ? types.get(claim.signup.ticketType.id) : undefined;
      let fits = seatsFit(event, claim.signup.seats) && (!type || seatsFit(type, claim.signup.seats));
      if (!fits && !releasedExpired) {
        // As claimSeats: holds past their deadline do not count; released (and offered to the
        // waiting list first) once per batch, then the counters are read again.
        releasedExpired = true;
        if ((await releaseExpiredHolds(tx, eventId, settings.offerSeconds, claim.now)) > 0) {
          const fresh = await lockSeatRows(tx, eventId, claims);
          if (fresh.event) Object.assign(event, fresh.event);
          for (const [id, row] of fresh.types) Object.assign(types.get(id) ?? {}, row);
          fits = seatsFit(event, claim.signup.seats) && (!type || seatsFit(type, claim.signup.seats));
        }
      }
      if (!fits && !event.waitlistEnabled) {
        verdicts.push({ claim, refused: 'sold-out' });
        continue;
      }
      const promo = claim.promoId ? promos.get(claim.promoId) : undefined;
      if (promo && promo.maxUses != null && promo.usedCount >= promo.maxUses) {
        verdicts.push({ claim, refused: 'promo-used-up' });
        continue;
      }
      if (promo) promo.usedCount += 1;
      if (!fits) {
        verdicts.push({ claim, waitlisted: true });
        continue;
      }
      const placement = seatedAtDoor(claim.signup, claim.attendees, { ...claim, holdSeconds: settings.holdSeconds });
      const counter = placement.status === 'confirmed' ? 'confirmedCount' : 'heldCount';
      event[counter] += claim.signup.seats;
      if (type) type[counter] += claim.signup.seats;
      verdicts.push({ claim, placement });
    }
    const written = await writeDoorBatch(tx, eventId, verdicts);
    if (!written) throw new Error(`seat ledger: the database refused a door batch the locked counters allowed (event ${eventId})`);
    return verdicts;
  }));
  // Committed: the entities now say what the rows say, so the caller can answer without reading them back.
  return judged.map((verdict): DoorAnswer => {
    if ('refused' in verdict) return { refused: verdict.refused };
    const { signup, attendees, now } = verdict.claim;
    if ('waitlisted' in verdict) {
      signup.status = transition(signup, 'waitlist');
      signup.waitlistedAt = now;
      return { placed: 'waitlisted' };
    }
    applyPlacement(signup, attendees, verdict.placement);
    holdsTotal.inc({ from: 'requested' });
    return { placed: verdict.placement.status };
  });
}

/**
 * The common batch in one autocommit statement: no promo code and no ticket type with a capacity of
 * its own, and every claim fits. The event's conditional UPDATE takes the whole batch's seats (the
 * database judges their sum against the row it locks for that statement only) and the rows are
 * inserted only if it did; answers null, with nothing written, when they did not all fit or the
 * event is not open, and the transactional path then judges each claim. Under a burst that path's
 * round trips with the row locked are what bound a hot event; this one holds the lock while
 * PostgreSQL runs the statement.
 */
async function placeAllAtOnce(
  em: EntityManager,
  eventId: string,
  claims: readonly DoorClaim[],
  settings: { holdSeconds: number },
): Promise<Judged[] | null> {
  if (claims.some((claim) => claim.promoId || claim.signup.ticketType?.capacity != null)) return null;
  const verdicts = claims.map((claim): Judged => ({
    claim,
    placement: seatedAtDoor(claim.signup, claim.attendees, { ...claim, holdSeconds: settings.holdSeconds }),
  }));
  return (await writeDoorBatch(em, eventId, verdicts)) ? verdicts : null;
}

/**
 * Locks the event row, then (in a statement of its own, so it reads what is committed once the
 * event's lock is ours) the ticket types with a capacity and the promo codes the claims use.
 */
async function lockSeatRows(
  tx: EntityManager,
  eventId: string,
  claims: readonly DoorClaim[],
): Promise<{
  event: (SeatRow & { status: string; waitlistEnabled: boolean }) | undefined;
  types: Map<string, SeatRow>;
  promos: Map<string, { usedCount: number; maxUses: number | null }>;
}> {
  const [event] = await tx.execute<{ status: string; capacity: number; held_count: number; confirmed_count: number; waitlist_enabled: boolean }[]>(
    `select status, capacity, held_count, confirmed_count, waitlist_enabled from "event" where id = ? for update`,
    [eventId],
  );
  const typeIds = [...new Set(claims.flatMap((claim) => (claim.signup.ticketType?.capacity != null ? [claim.signup.ticketType.id] : [])))];
  const promoIds = [...new Set(claims.flatMap((claim) => (claim.promoId ? [claim.promoId] : [])))];
  const types = new Map<string, SeatRow>();
  const promos = new Map<string, { usedCount: number; maxUses: number | null }>();
  if (typeIds.length > 0 || promoIds.length > 0) {
    // Raw SQL: rows of two tables locked and read in one round trip while the event's lock is held.
    const rows = await tx.execute<{ kind: string; id: string; capacity: number | null; held_count: number; confirmed_count: number; used_count: number; max_uses: number | null }[]>(
      `with t as (select id, capacity, held_count, confirmed_count from ticket_type where id in (select jsonb_array_elements_text(?::jsonb)::uuid) order by id for update),
            p as (select id, used_count, max_uses from promo_code where id in (select jsonb_array_elements_text(?::jsonb)::uuid) order by id for update)
       select 'type' as kind, id, capacity, held_count, confirmed_count, 0 as used_count, null::int as max_uses from t
       union all
       select 'promo', id, null, 0, 0, used_count, max_uses from p`,
      // As JSON: the driver would spread an array parameter into a list.
      [JSON.stringify(typeIds), JSON.stringify(promoIds)],
    );
    for (const row of rows) {
      if (row.kind === 'type') types.set(row.id, { capacity: row.capacity, heldCount: row.held_count, confirmedCount: row.confirmed_count });
      else promos.set(row.id, { usedCount: row.used_count, maxUses: row.max_uses });
    }
  }
  return {
    event: event && {
      status: event.status,
      capacity: event.capacity,
      heldCount: event.held_count,
      confirmedCount: event.confirmed_count,
      waitlistEnabled: event.waitlist_enabled,
    },
    types,
    promos,
  };
}

/**
 * The batch's one write: counters by conditional UPDATEs (PostgreSQL re-judges the sums the batch
 * takes against the rows), then the signups, attendees and outbox rows, each only if the event's
 * update took the seats. Answers whether everything was written: false when the event's update
 * refused (nothing else then changes but what the caller's transaction rolls back).
 */
async function writeDoorBatch(tx: EntityManager, eventId: string, verdicts: readonly Judged[]): Promise<boolean> {
  const written = verdicts.filter((verdict) => !('refused' in verdict));
  if (written.length === 0) return true;
  const taken = { held: 0, confirmed: 0 };
  const byType = new Map<string, { id: string; held: number; confirmed: number }>();
  const promoUses = new Map<string, number>();
  const signups: Record<string, unknown>[] = [];
  const people: Record<string, unknown>[] = [];
  const starts: Record<string, unknown>[] = [];
  const contacts: TokenContactRow[] = [];
  for (const verdict of written) {
    if (verdict.claim.contact) contacts.push(verdict.claim.contact);
    const { signup, attendees, promoId, now } = verdict.claim;
    const placement = 'placement' in verdict ? verdict.placement : undefined;
    const status: SignupStatus = placement?.status ?? 'waitlisted';
    if (placement) {
      const counter = placement.status === 'confirmed' ? 'confirmed' : 'held';
      taken[counter] += signup.seats;
      const typeId = signup.ticketType?.id;
      if (typeId) {
        const type = byType.get(typeId) ?? { id: typeId, held: 0, confirmed: 0 };
        type[counter] += signup.seats;
        byType.set(typeId, type);
      }
    }
    if (promoId) promoUses.set(promoId, (promoUses.get(promoId) ?? 0) + 1);
    const start = verdict.claim.start(status, placement?.holdExpiresAt ?? null);
    signups.push({
      id: signup.id,
      user_id: signup.userId,
      idempotency_key: signup.idempotencyKey ?? null,
      seats: signup.seats,
      ticket_type_id: signup.ticketType?.id ?? null,
      platform: signup.platform,
      locale: signup.locale,
      promo_code: signup.promoCode ?? null,
      amount_minor: signup.amountMinor,
      currency: signup.currency ?? null,
      status,
      hold_expires_at: placement?.holdExpiresAt ?? null,
      confirmed_at: placement?.confirmedAt ?? null,
      waitlisted_at: placement ? null : now,
      workflow_id: signup.workflowId,
      created_at: now,
    });
    attendees.forEach((attendee, index) =>
      people.push({
        id: attendee.id,
        signup_id: signup.id,
        first_name: attendee.firstName,
        age: attendee.age,
        kind: attendee.kind,
        needs_note: attendee.needsNote ?? null,
        ticket_code: placement?.ticketCodes[index] ?? null,
      }),
    );
    starts.push({ ...startRowOf(signup.id, status, start), next_attempt_at: start.nextAttemptAt, created_at: now });
  }
  const seatsTaken = taken.held + taken.confirmed;
  // Raw SQL: the whole batch in one statement, so the event's lock is held for one more round trip
  // at most (none at all on the fast path, where this statement is all there is).
  const [result] = await tx.execute<{ events: number; types: number; promos: number; placed: number }[]>(
    `with ev as (
       update "event" set held_count = held_count + ?, confirmed_count = confirmed_count + ?, updated_at = now()
        where id = ? and status = 'published' and (? = 0 or ${fitsSql()})
       returning id),
     typed as (
       update ticket_type t set held_count = t.held_count + d.held, confirmed_count = t.confirmed_count + d.confirmed
         from jsonb_to_recordset(?::jsonb) as d(id uuid, held int, confirmed int)
        where t.id = d.id and t.event_id = ? and ${fitsSql('t', 'd.held + d.confirmed')} and exists (select 1 from ev)
       returning t.id),
     promo as (
       update promo_code p set used_count = p.used_count + d.uses
         from jsonb_to_recordset(?::jsonb) as d(id uuid, uses int)
        where p.id = d.id and (p.max_uses is null or p.used_count + d.uses <= p.max_uses) and exists (select 1 from ev)
       returning p.id),
     placed as (
       insert into signup (id, event_id, user_id, idempotency_key, seats, ticket_type_id, platform, locale, promo_code,
                           amount_minor, currency, status, hold_expires_at, confirmed_at, waitlisted_at, refunded_minor,
                           workflow_id, created_at, updated_at)
       select s.id, ?, s.user_id, s.idempotency_key, s.seats, s.ticket_type_id, s.platform, s.locale, s.promo_code,
              s.amount_minor, s.currency, s.status, s.hold_expires_at, s.confirmed_at, s.waitlisted_at, 0,
              s.workflow_id, s.created_at, s.created_at
         from jsonb_to_recordset(?::jsonb)
              as s(id uuid, user_id text, idempotency_key text, seats int, ticket_type_id uuid, platform text, locale text,
                   promo_code text, amount_minor int, currency text, status text, hold_expires_at timestamptz,
                   confirmed_at timestamptz, waitlisted_at timestamptz, workflow_id text, created_at timestamptz)
        where exists (select 1 from ev)
       returning id),
     people as (
       insert into signup_attendee (id, signup_id, first_name, age, kind, needs_note, ticket_code)
       select a.id, a.signup_id, a.first_name, a.age, a.kind, a.needs_note, a.ticket_code
         from jsonb_to_recordset(?::jsonb)
              as a(id uuid, signup_id uuid, first_name text, age int, kind text, needs_note text, ticket_code text)
        where exists (select 1 from ev)),
     outbox as (
       insert into signup_workflow_start (signup_id, workflow_id, task_queue, input, status, market, summary, attempts,
                                          next_attempt_at, created_at)
       select o.signup_id, o.workflow_id, o.task_queue, o.input, o.status, o.market, o.summary, 0, o.next_attempt_at, o.created_at
         from jsonb_to_recordset(?::jsonb)
              as o(signup_id uuid, workflow_id text, task_queue text, input jsonb, status text, market text, summary text,
                   next_attempt_at timestamptz, created_at timestamptz)
        where exists (select 1 from ev)),
     -- One user per batch (the batcher's distinct key), so no row is upserted twice here.
     contacts as (
       ${contactUpsertSql(`select c.user_id, c.email, c.locale, c.guardian_email, now()
         from jsonb_to_recordset(?::jsonb) as c(user_id text, email text, locale text, guardian_email text)
        where exists (select 1 from ev)`)})
     select (select count(*) from ev)::int as events, (select count(*) from typed)::int as types,
            (select count(*) from promo)::int as promos, (select count(*) from placed)::int as placed`,
    [
      taken.held, taken.confirmed, eventId, seatsTaken, seatsTaken,
      JSON.stringify([...byType.values()]), eventId,
      JSON.stringify([...promoUses].map(([id, uses]) => ({ id, uses }))),
      eventId, JSON.stringify(signups),
      JSON.stringify(people),
      JSON.stringify(starts),
      JSON.stringify(contacts),
    ],
  );
  if (result?.events !== 1) return false;
  if (result.types !== byType.size || result.promos !== promoUses.size || result.placed !== written.length) {
    // Only in the locked path can a type or promo update be refused, and its transaction is rolled back.
    throw new Error(`seat ledger: the database refused part of a door batch (event ${eventId})`);
  }
  return true;
}

/** Where a new signup stands once its seats are taken at the door (placeAtDoor). */
interface DoorPlacement {
  status: 'held' | 'confirmed';
  holdExpiresAt: Date | null;
  confirmedAt: Date | null;
  ticketCodes: (string | null)[];
}

/**
 * Held for `holdSeconds`, or, free (`confirmAtOnce`), confirmed now with a ticket code per
 * attendee, as confirmSeats would give them a moment later. Decided before the seats are taken,
 * applied only once they are.
 */
function seatedAtDoor(
  signup: Signup,
  attendees: readonly Attendee[],
  input: { holdSeconds: number; confirmAtOnce: boolean; now: Date },
): DoorPlacement {
  transition(signup, 'hold'); // only a new signup is seated here (throws otherwise)
  if (!input.confirmAtOnce) {
    return { status: 'held', holdExpiresAt: new Date(input.now.getTime() + input.holdSeconds * 1000), confirmedAt: null, ticketCodes: attendees.map(() => null) };
  }
  return { status: 'confirmed', holdExpiresAt: null, confirmedAt: input.now, ticketCodes: attendees.map((attendee) => attendee.ticketCode ?? newTicketCode()) };
}

function applyPlacement(signup: Signup, attendees: readonly Attendee[], placement: DoorPlacement): void {
  signup.status = placement.status;
  signup.holdExpiresAt = placement.holdExpiresAt;
  signup.confirmedAt = placement.confirmedAt;
  attendees.forEach((attendee, index) => (attendee.ticketCode = placement.ticketCodes[index] ?? null));
  if (placement.status === 'confirmed') confirmationsTotal.inc({ paid: 'false' }); // counted before the commit, like holds
}

/**
 * Turns held seats into confirmed ones and gives every attendee an unguessable ticket code.
 * `paid` records the payment that confirmed it.
 */
export async function confirmSeats(
  em: EntityManager,
  input: MoveKey & { paid?: boolean; now?: Date },
): Promise<SeatMove> {
  return oneMove(em, input, 'confirmSeats', async (tx, signup) => {
    if (signup.status !== 'held') return moveOf(signup);
    const now = input.now ?? new Date();
    signup.status = transition(signup, 'confirm');
    signup.confirmedAt = now;
    if (input.paid) signup.paidAt = now;
    signup.paymentClientSecret = null;
    for (const attendee of await tx.find(Attendee, { signup })) attendee.ticketCode ??= newTicketCode();
    // The signup's rows (locked already) are written first and the event's counters last, so the
    // event row, which every seat move and door batch of the event waits for, is held from here to
    // the commit only (as in cancelSignup).
    await tx.flush();
    await moveCounters(tx, signup, { held: -signup.seats, confirmed: signup.seats });
    return moveOf(signup);
  });
}

/** Gives back the seats of a hold (or waitlist offer) that ran out, and offers them to the waitlist. */
export async function releaseHold(
  em: EntityManager,
  input: MoveKey & { offerSeconds: number; now?: Date },
): Promise<SeatMove> {
  return oneMove(em, input, 'releaseHold', async (tx, signup) => {
    if (signup.status === 'released') {
      // Released already by a claim that found its deadline passed (releaseExpiredHolds): the offers
      // that release made are this workflow's to tell.
      const byLedger = await tx.findOne(SeatMoveRecord, ledgerReleaseKey(signup.id));
      if (byLedger) return byLedger.outcome as unknown as SeatMove;
    }
    if (signup.status !== 'held') return moveOf(signup);
    const now = input.now ?? new Date();
    await moveCounters(tx, signup, { held: -signup.seats, confirmed: 0 });
    end(signup, 'release', now);
    signup.paymentClientSecret = null;
    await giveBackPromoUse(tx, signup);
    await tx.flush();
    return moveOf(signup, await offerFreedSeats(tx, signup.event.id, input.offerSeconds, now));
  });
}

/**
 * Cancels a signup in any active status: held or confirmed seats go back (and on to the waitlist).
 * Money is not this function's business: the workflow refunds what `refundDue` says.
 */
export async function cancelSignup(
  em: EntityManager,
  input: MoveKey & {
    by: 'participant' | 'organizer';
    reason?: string;
    offerSeconds: number;
    now?: Date;
  },
): Promise<SeatMove & { previousStatus: SignupStatus }> {
  return oneMove(em, input, 'cancelSignup', async (tx, signup) => {
    const previousStatus = signup.status;
    if (!nextSignupStatus(signup.status, 'cancel')) return { ...moveOf(signup), previousStatus };
    const now = input.now ?? new Date();
    // The signup row (locked already) is written first, so the event row, which every seat move of
    // the event waits for, is held for as few round trips as can be: its counters, then the offers.
    end(signup, 'cancel', now);
    signup.cancelledBy = input.by;
    signup.cancellationReason = input.reason ?? null;
    signup.paymentClientSecret = null;
    await tx.flush();
    if (previousStatus === 'held') await moveCounters(tx, signup, { held: -signup.seats, confirmed: 0 });
    if (previousStatus === 'confirmed') await moveCounters(tx, signup, { held: 0, confirmed: -signup.seats });
    await giveBackPromoUse(tx, signup);
    const freedSeats = previousStatus === 'held' || previousStatus === 'confirmed';
    const offers = freedSeats ? await offerFreedSeats(tx, signup.event.id, input.offerSeconds, now) : [];
    return { ...moveOf(signup, offers), previousStatus };
  });
}

/** What the cancel at the door wrote (see cancelAtDoor), and whether anyone waits for seats there. */
export interface DoorCancel<Row> {
  /** The signup's outbox row, rewritten to start its workflow as cancelled. */
  row: Row;
  eventId: string;
  waitlistEnabled: boolean;
}

/**
 * The cancel of a free signup the API confirmed at the door, whose kept outbox row (a door-
 * confirmations flow stands for it) is rewritten by `rewriteRow` (SQL `set` list on
 * signup_workflow_start, its parameters first). One statement, autocommit: a hot event's row is
 * locked for that one statement, where a transaction holds it across round trips to a busy API
 * process and a stream of cancels queues on it. Only while nobody is on the event's waiting list
 * (freed seats then need no offer, which the transactional cancelSignup makes): undefined otherwise,
 * and when the signup has no kept row or is not confirmed, with nothing written. A waiting list that
 * gets its first signup while this runs is caught by the caller's `offerFreeSeatsIn` afterwards.
 */
export async function cancelAtDoor<Row>(
  em: EntityManager,
  input: { signupId: string; by: 'participant' | 'organizer'; reason?: string },
  rewriteRow: { set: string; params: unknown[] },
): Promise<DoorCancel<Row> | undefined> {
  const [done] = await em.getConnection().execute<(Row & { cancelled_event_id: string; cancelled_waitlist_enabled: boolean })[]>(
    `with kept as (
       select signup_id from signup_workflow_start where signup_id = ? and door_flow_id is not null for update
     ), s as (
       update signup set status = 'cancelled', cancelled_at = now(), cancelled_by = ?, cancellation_reason = ?,
              hold_expires_at = null, payment_client_secret = null, updated_at = now()
        where id in (select signup_id from kept) and status = 'confirmed'
          and not exists (select 1 from signup w where w.event_id = signup.event_id and w.status = 'waitlisted')
        returning id, event_id, ticket_type_id, seats, promo_code
     ), ev as (
       update "event" e set confirmed_count = e.confirmed_count - s.seats, updated_at = now() from s
        where e.id = s.event_id returning e.id, e.waitlist_enabled
     ), tt as (
       update ticket_type t set confirmed_count = t.confirmed_count - s.seats from s where t.id = s.ticket_type_id returning t.id
     ), promo as (
       update promo_code c set used_count = c.used_count - 1 from s
        where c.event_id = s.event_id and c.code = s.promo_code and c.used_count > 0 returning c.id
     )
     update signup_workflow_start w set ${rewriteRow.set} from s, ev
      where w.signup_id = s.id
      returning w.*, ev.id as cancelled_event_id, ev.waitlist_enabled as cancelled_waitlist_enabled`,
    [input.signupId, input.by, input.reason ?? null, ...rewriteRow.params],
  );
  if (!done) return undefined;
  const { cancelled_event_id: eventId, cancelled_waitlist_enabled: waitlistEnabled, ...row } = done;
  return { row: row as unknown as Row, eventId, waitlistEnabled };
}

/** Ends a signup that holds no seats: consent denied or never given, or the waitlist closed. */
export async function rejectSignup(
  em: EntityManager,
  input: MoveKey & { reason: string; now?: Date },
): Promise<SeatMove> {
  return oneMove(em, input, 'rejectSignup', async (tx, signup) => {
    if (!nextSignupStatus(signup.status, 'reject')) return moveOf(signup);
    end(signup, 'reject', input.now ?? new Date());
    signup.rejectionReason = input.reason;
    await giveBackPromoUse(tx, signup);
    return moveOf(signup);
  });
}

/**
 * The late-payment rule's first half: seats for a signup whose hold ran out but whose payment then
 * arrived. Answers `held` when they were free (and the user has no other active signup for the
 * event); otherwise the signup stays `released` and the caller refunds.
 */
export async function reinstateAfterLatePayment(
  em: EntityManager,
  input: MoveKey & { holdSeconds: number; offerSeconds?: number; now?: Date },
): Promise<SeatMove> {
  return oneMove(em, input, 'reinstateAfterLatePayment', async (tx, signup) => {
    if (signup.status !== 'released') return moveOf(signup);
    const otherActive = await tx.count(Signup, {
      event: signup.event,
      userId: signup.userId,
      status: { $in: [...activeSignupStatuses] },
    });
    const now = input.now ?? new Date();
    if (otherActive > 0 || !(await claimSeats(tx, signup, 'held', input.offerSeconds ?? input.holdSeconds, now))) return moveOf(signup);
    signup.status = transition(signup, 'reinstate');
    signup.releasedAt = null;
    signup.holdExpiresAt = new Date(now.getTime() + input.holdSeconds * 1000);
    if (signup.promoCode) {
      // The participant has paid already: the code counts again where its limit allows.
      await tx.execute(
        `update promo_code set used_count = used_count + 1
          where event_id = ? and code = ? and (max_uses is null or used_count < max_uses)`,
        [signup.event.id, signup.promoCode],
        'run',
      );
    }
    return moveOf(signup);
  });
}

/** The signup's status and hold expiry as the database has them. */
export async function readSeatState(em: EntityManager, signupId: string): Promise<{ status: SignupStatus; holdExpiresAt: string | null }> {
  const signup = await em.findOneOrFail(Signup, signupId);
  return { status: signup.status, holdExpiresAt: signup.holdExpiresAt?.toISOString() ?? null };
}

/** What the guardian answered, as recorded by the consent endpoint (null: nothing yet). */
export async function readGuardianDecision(em: EntityManager, signupId: string): Promise<'approved' | 'denied' | null> {
  const signup = await em.findOneOrFail(Signup, signupId);
  return signup.guardianDecision ?? null;
}

/** Marks the signup as waiting for its guardian (no seats are held meanwhile). */
export async function awaitConsent(em: EntityManager, input: MoveKey): Promise<SeatMove> {
  return oneMove(em, input, 'awaitConsent', (_tx, signup) => {
    if (signup.status === 'requested') signup.status = transition(signup, 'ask-consent');
    return Promise.resolve(moveOf(signup));
  });
}

/**
 * Offers seats that are free right now to the waitlist, inside the caller's transaction: used when
 * an organizer raises the capacity. (Releases and cancellations do this within their own.)
 */
export async function offerFreeSeatsIn(
  tx: EntityManager,
  input: { eventId: string; offerSeconds: number; now: Date },
): Promise<WaitlistOffer[]> {
  const offers = await offerFreedSeats(tx, input.eventId, input.offerSeconds, input.now);
  await tx.flush();
  return offers;
}

/**
 * Walks the waitlist in order and offers seats to each signup whose party fits in what is free.
 * A party too large for the free seats keeps its place and is passed over for now ("first in line
 * that fits"): seats never stay empty while someone who fits is waiting. See docs/architecture.md.
 */
async function offerFreedSeats(tx: EntityManager, eventId: string, offerSeconds: number, now: Date): Promise<WaitlistOffer[]> {
  const offers: WaitlistOffer[] = [];
  // Waits for candidates another transaction has locked (not SKIP LOCKED: a mere read under lock,
  // such as the workflow's idempotent holdSeats, must not cost the head of the line its offer);
  // READ COMMITTED re-checks the status after the wait, so a signup that left the list drops out.
  // No deadlock: a transaction holding a waitlisted signup's lock never goes on to update the event.
  const queue = await tx.execute<{ id: string }[]>(
    `select s.id from signup s join event e on e.id = s.event_id
      where s.event_id = ? and s.status = 'waitlisted' and ${fitsSql('e', 's.seats')}
      order by s.waitlisted_at, s.id limit 200 for update of s`,
    [eventId],
  );
  for (const { id } of queue) {
    const signup = await tx.findOneOrFail(Signup, id);
    if (!(await takeSeats(tx, signup))) continue;
    signup.status = transition(signup, 'offer');
    signup.offeredAt = now;
    signup.holdExpiresAt = new Date(now.getTime() + offerSeconds * 1000);
    offers.push({ signupId: signup.id, workflowId: signup.workflowId, holdExpiresAt: signup.holdExpiresAt.toISOString() });
  }
  return offers;
}

/**
 * The ledger's claim: takes the seats if they are free; if not, a hold past its deadline
 * (`holdExpiresAt` is the truth, whatever its workflow is doing) does not count as taken: such holds
 * of the event are released here, their seats offered to the waiting list first (a newcomer never
 * takes a seat someone queues for), and the claim is tried once more, all in the caller's
 * transaction. Only on a refusal: the common claim costs no more than before.
 */
async function claimSeats(
  tx: EntityManager,
  signup: Signup,
  as: 'held' | 'confirmed',
  offerSeconds: number,
  now: Date,
): Promise<boolean> {
  if (await takeSeats(tx, signup, as)) return true;
  if ((await releaseExpiredHolds(tx, signup.event.id, offerSeconds, now)) === 0) return false;
  return takeSeats(tx, signup, as);
}

/** Where the ledger leaves what its release of an expired hold did, for that signup's workflow. */
const ledgerReleaseKey = (signupId: string) => `ledger-release/${signupId}`;

/**
 * Releases the event's holds past their deadline, in one statement (signups, event, ticket type and
 * promo counters together), then offers the freed seats to the waiting list. Holds locked by another
 * transaction (their own workflow releasing or confirming them right now) are skipped rather than
 * waited for, so this never waits on a signup row while others wait on the event. The offers are
 * recorded for the first released signup: its workflow, whose deadline timer fires about now, gets
 * them from its releaseHold (a no-op otherwise) and tells the offered workflows. Answers the number
 * of holds released.
 */
export async function releaseExpiredHolds(tx: EntityManager, eventId: string, offerSeconds: number, now: Date): Promise<number> {
  // The event row first, as every seat move locks (then ticket type, then promo code): holding it,
  // this transaction never waits on a row another one holds while waiting for the event (found as
  // deadlocks by bench:signup-burst --paid when the statement below took the signups first).
  await tx.execute(`select id from "event" where id = ? for update`, [eventId]);
  // Raw SQL: a conditional multi-row write whose counters move in the same statement as the rows.
  const released = await tx.execute<{ id: string }[]>(
    `with expired as (
       select id from signup where event_id = ? and status = 'held' and hold_expires_at <= ?
        order by hold_expires_at limit 500 for update skip locked),
     released as (
       update signup s set status = 'released', released_at = ?, hold_expires_at = null, payment_client_secret = null, updated_at = ?
         from expired where s.id = expired.id
       returning s.id, s.seats, s.ticket_type_id, s.promo_code),
     ev as (
       update "event" set held_count = held_count - (select sum(seats) from released), updated_at = now()
        where id = ? and exists (select 1 from released)),
     typed as (
       update ticket_type t set held_count = t.held_count - r.seats
         from (select ticket_type_id, sum(seats)::int as seats from released where ticket_type_id is not null group by ticket_type_id) r
        where t.id = r.ticket_type_id),
     promo as (
       update promo_code p set used_count = greatest(p.used_count - r.uses, 0)
         from (select promo_code, count(*)::int as uses from released where promo_code is not null group by promo_code) r
        where p.event_id = ? and p.code = r.promo_code)
     select id from released order by id`,
    [eventId, now, now, now, eventId, eventId],
  );
  const first = released[0];
  if (!first) return 0;
  holdsReleasedByLedgerTotal.inc(released.length);
  const offers = await offerFreedSeats(tx, eventId, offerSeconds, now);
  const outcome: SeatMove = { status: 'released', offers };
  tx.create(SeatMoveRecord, { moveId: ledgerReleaseKey(first.id), signup: first.id, move: 'releaseExpiredHolds', outcome: { ...outcome } });
  await tx.flush();
  return released.length;
}

/**
 * Whether the event whose id is `eventIdSql` has holds past their deadline (parameters: the moment,
 * then a ticket type id or null for any): seats a claim may still have. SQL, so the signup's
 * context read asks it in its own statement (readRequestContext in service.ts).
 */
export function expiredHoldsSql(eventIdSql: string): string {
  return `exists (select 1 from signup h where h.event_id = ${eventIdSql} and h.status = 'held' and h.hold_expires_at <= ?
                    and (?::uuid is null or h.ticket_type_id = ?::uuid))`;
}

/** Whether the event (or one ticket type of it) has holds past their deadline: seats a claim may still have. */
export async function hasExpiredHolds(em: EntityManager, eventId: string, ticketTypeId: string | null, now: Date): Promise<boolean> {
  const [row] = await em.getConnection().execute<{ any: boolean }[]>(`select ${expiredHoldsSql('?')} as any`, [eventId, now, ticketTypeId, ticketTypeId]);
  return row?.any === true;
}

/**
 * Holds seats for the signup if they are free: the capacity check and the increment are one
 * statement per counter, so two concurrent holds cannot both see the last seat free. A ticket type
 * with its own capacity must have room too; if it has none, the event's increment is undone within
 * the same transaction. Lock order, everywhere seats move: the event row, then the ticket type row
 * (then promo codes): transactions that move seats in opposite directions cannot deadlock.
 * `as` names the counter the seats go to: held, or confirmed at once (a free signup at the door).
 */
async function takeSeats(tx: EntityManager, signup: Signup, as: 'held' | 'confirmed' = 'held'): Promise<boolean> {
  const counter = as === 'held' ? 'held_count' : 'confirmed_count';
  const reserved = await tx.execute<QueryResult>(
    `update "event" set ${counter} = ${counter} + ?, updated_at = now()
      where id = ? and status = 'published' and ${fitsSql()}`,
    [signup.seats, signup.event.id, signup.seats],
    'run',
  );
  if (reserved.affectedRows !== 1) return false;
  const ticketTypeId = signup.ticketType?.id;
  if (ticketTypeId) {
    const typeReserved = await tx.execute<QueryResult>(
      `update ticket_type set ${counter} = ${counter} + ?
        where id = ? and ${fitsSql()}`,
      [signup.seats, ticketTypeId, signup.seats],
      'run',
    );
    if (typeReserved.affectedRows !== 1) {
      await tx.execute(`update "event" set ${counter} = ${counter} - ? where id = ?`, [signup.seats, signup.event.id], 'run');
      return false;
    }
  }
  holdsTotal.inc({ from: signup.status }); // counted before the commit: a rolled-back hold (rare) still counts
  return true;
}

/** The event's counters moved by a seat move: the one statement both of moveCounters' shapes use. */
const moveEventCounters = 'update "event" set held_count = held_count + ?, confirmed_count = confirmed_count + ?, updated_at = now() where id = ?';

async function moveCounters(tx: EntityManager, signup: Signup, delta: { held: number; confirmed: number }): Promise<void> {
  if (!signup.ticketType) {
    await tx.execute(moveEventCounters, [delta.held, delta.confirmed, signup.event.id], 'run');
    return;
  }
  // Both counters in one statement (a CTE): a round trip less while the event row is locked. The
  // ticket type's update reads the event's, so the event row is locked first, as on every path.
  await tx.execute(
    `with moved_event as (${moveEventCounters} returning id)
     update ticket_type set held_count = held_count + ?, confirmed_count = confirmed_count + ? from moved_event where ticket_type.id = ?`,
    [delta.held, delta.confirmed, signup.event.id, delta.held, delta.confirmed, signup.ticketType.id],
    'run',
  );
}

/** A signup that ends without taking part did not use its promo code. */
async function giveBackPromoUse(tx: EntityManager, signup: Signup): Promise<void> {
  if (!signup.promoCode) return;
  await tx.execute(
    `update promo_code set used_count = used_count - 1 where event_id = ? and code = ? and used_count > 0`,
    [signup.event.id, signup.promoCode],
    'run',
  );
}

/**
 * One seat move's transaction: locks the signup row (so attempts of one move run one after the
 * other), answers the recorded outcome if a call with the same key committed before, and otherwise
 * runs the move and records its answer in the same transaction as the move itself.
 */
async function oneMove<T extends SeatMove>(
  em: EntityManager,
  key: MoveKey,
  move: string,
  run: (tx: EntityManager, signup: Signup) => Promise<T>,
): Promise<T> {
  return em.transactional(async (tx) => {
    const signup = await lockSignup(tx, key.signupId);
    if (key.moveId) {
      const recorded = await tx.findOne(SeatMoveRecord, key.moveId);
      if (recorded) return recorded.outcome as unknown as T;
    }
    const outcome = await run(tx, signup);
    if (key.moveId) tx.create(SeatMoveRecord, { moveId: key.moveId, signup, move, outcome: { ...outcome } });
    return outcome;
  });
}

/**
 * Retention of `seat_move`: a record is read only by a retry of its own move (the attempts of one
 * activity; an operator's retry is a new activity with a key of its own) and, for
 * `ledger-release/<signupId>`, by that signup's own `releaseHold`. Neither can come once the
 * signup's workflow has ended, so an event's records go when all of its signup workflows are over:
 * at the retention purge (the event is long over), and when an event cancellation has cancelled
 * every signup through its workflow. Answers the number of records deleted.
 */
export async function forgetSeatMoves(em: EntityManager, eventId: string): Promise<number> {
  return em.nativeDelete(SeatMoveRecord, { signup: { event: eventId } });
}

async function lockSignup(tx: EntityManager, signupId: string): Promise<Signup> {
  return tx.findOneOrFail(Signup, signupId, { lockMode: LockMode.PESSIMISTIC_WRITE });
}

function end(signup: Signup, move: 'reject' | 'release' | 'cancel', now: Date): void {
  signup.status = transition(signup, move);
  if (move === 'release') signup.releasedAt = now;
  if (move === 'cancel') signup.cancelledAt = now;
  signup.holdExpiresAt = null;
}

function transition(signup: Signup, move: SignupTransition): SignupStatus {
  const next = nextSignupStatus(signup.status, move);
  if (!next) throw new Error(`signup ${signup.id}: cannot ${move} from ${signup.status}`);
  return next;
}

function moveOf(signup: Signup, offers: WaitlistOffer[] = []): SeatMove {
  return {
    status: signup.status,
    ...(signup.holdExpiresAt && signup.status === 'held' ? { holdExpiresAt: signup.holdExpiresAt.toISOString() } : {}),
    ...(signup.rejectionReason ? { reason: signup.rejectionReason } : {}),
    ...(signup.offeredAt && signup.status === 'held' ? { offeredAt: signup.offeredAt.toISOString() } : {}),
    offers,
  };
}

/** 20 characters of Crockford base32 (100 bits): unguessable, and easy to read out at the door. */
export function newTicketCode(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  return Array.from(randomBytes(20), (byte) => alphabet[byte % 32]).join('');
}
