import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal.js';
import { Problem } from '../http/problem.js';
import type { SignupStatus } from '../signups/status.js';
import type { LoadedEvent, Page } from './admin-service.js';
import { NeedsNoteRead } from './needs-note-read.entity.js';
import { ageGroupOf, initialsOf, type ParticipantRow } from './participants.js';

export interface ParticipantsQuery {
  status?: SignupStatus | undefined;
  initials: boolean;
  /** Recorded with a read of needs notes. */
  format: 'json' | 'csv';
  /** Absent: every row (the CSV export). */
  page?: { page: number; limit: number } | undefined;
}

export interface EventStats {
  eventId: string;
  timezone: string;
  seats: { capacity: number; held: number; confirmed: number; available: number };
  /** Signups per status. `waitlisted` and `cancelled` stay 0 until those flows exist. */
  signups: Record<SignupStatus | 'waitlisted' | 'cancelled', number>;
  revenue: { currency: string; amountMinor: number }[];
  /** Signups created per calendar day in the event's time zone. */
  signupsPerDay: { date: string; signups: number }[];
}

export interface CheckInResult {
  signupId: string;
  checkedIn: true;
  checkedInAt: string;
}

interface ParticipantSqlRow {
  signup_id: string;
  status: SignupStatus;
  seats: number;
  checked_in_at: Date | null;
  first_name: string | null;
  age: number | null;
  ticket_code: string | null;
  ticket_type: string | null;
  needs_note: string | null;
}

/**
 * Reports about an event's participants. Reads are plain SQL over signup + attendee: one row per
 * attendee (a signup without attendee rows yet shows once, with no name), minimal fields only.
 * Needs notes are health data: an answer that carries any is logged (who, when, which event, how
 * many) before it is given, so a read that cannot be logged is not answered.
 */
export function createParticipantReports(deps: {
  orm: MikroORM;
  now: () => Date;
  loadScoped: (em: EntityManager, principal: Principal, id: string) => Promise<LoadedEvent>;
}) {
  return {
    async participants(principal: Principal, eventId: string, query: ParticipantsQuery): Promise<Page<ParticipantRow>> {
      const em = deps.orm.em.fork();
      await deps.loadScoped(em, principal, eventId);
      const filter = query.status ? 'and s.status = ?' : '';
      const params: unknown[] = query.status ? [eventId, query.status] : [eventId];
      const connection = em.getConnection();
      const [{ total } = { total: 0 }] = await connection.execute<{ total: number }[]>(
        `select count(*)::int as total from signup s left join signup_attendee a on a.signup_id = s.id where s.event_id = ? ${filter}`,
        params,
      );
      const paging = query.page ? `limit ${query.page.limit} offset ${(query.page.page - 1) * query.page.limit}` : '';
      const rows = await connection.execute<ParticipantSqlRow[]>(
        `select s.id as signup_id, s.status, s.seats, s.checked_in_at, a.first_name, a.age, a.ticket_code, t.code as ticket_type,
                  a.needs_note
           from signup s
           left join signup_attendee a on a.signup_id = s.id
           left join ticket_type t on t.id = s.ticket_type_id
          where s.event_id = ? ${filter}
          order by s.created_at, s.id, a.first_name, a.id
          ${paging}`,
        params,
      );
      const notes = rows.filter((row) => row.needs_note !== null).length;
      if (notes > 0) {
        em.create(NeedsNoteRead, { eventId, readBy: principal.userId, notes, format: query.format });
        await em.flush();
      }
      return {
        items: rows.map((row) => ({
          signupId: row.signup_id,
          firstName: row.first_name === null ? null : query.initials ? initialsOf(row.first_name) : row.first_name,
          ageGroup: row.age === null ? null : ageGroupOf(row.age),
          status: row.status,
          seats: row.seats,
          ticketType: row.ticket_type,
          ticketCode: row.ticket_code,
          checkedIn: row.checked_in_at !== null,
          checkedInAt: row.checked_in_at ? new Date(row.checked_in_at).toISOString() : null,
          needsNote: row.needs_note,
        })),
        page: query.page?.page ?? 1,
        limit: query.page?.limit ?? total,
        total,
      };
    },

    /** Idempotent: a second check-in keeps the first time and who did it. */
    async checkIn(principal: Principal, eventId: string, signupId: string): Promise<CheckInResult> {
      const em = deps.orm.em.fork();
      await deps.loadScoped(em, principal, eventId);
      const connection = em.getConnection();
      const [row] = await connection.execute<{ status: SignupStatus; checked_in_at: Date | null }[]>(
        `update signup set checked_in_at = coalesce(checked_in_at, ?), checked_in_by = coalesce(checked_in_by, ?)
          where id = ? and event_id = ? and status = 'confirmed'
          returning status, checked_in_at`,
        [deps.now(), principal.userId, signupId, eventId],
      );
      if (row?.checked_in_at) return { signupId, checkedIn: true, checkedInAt: new Date(row.checked_in_at).toISOString() };
      const [existing] = await connection.execute<{ status: SignupStatus }[]>(
        'select status from signup where id = ? and event_id = ?',
        [signupId, eventId],
      );
      if (!existing) throw new Problem('not-found', 'no signup with this id for this event');
      throw new Problem('signup-not-confirmed', `the signup is ${existing.status}`);
    },

    async stats(principal: Principal, eventId: string): Promise<EventStats> {
      const em = deps.orm.em.fork();
      const { event } = await deps.loadScoped(em, principal, eventId);
      const connection = em.getConnection();
      const byStatus = await connection.execute<{ status: SignupStatus; signups: number }[]>(
        'select status, count(*)::int as signups from signup where event_id = ? group by status',
        [eventId],
      );
      const revenue = await connection.execute<{ currency: string; amount: string }[]>(
        `select currency, sum(amount_minor - refunded_minor)::text as amount from signup
          where event_id = ? and paid_at is not null and currency is not null
          group by currency order by currency`,
        [eventId],
      );
      const perDay = await connection.execute<{ date: string; signups: number }[]>(
        `select to_char(created_at at time zone ?, 'YYYY-MM-DD') as date, count(*)::int as signups
           from signup where event_id = ? group by 1 order by 1`,
        [event.timezone, eventId],
      );
      const count = (status: SignupStatus) => byStatus.find((row) => row.status === status)?.signups ?? 0;
      return {
        eventId,
        timezone: event.timezone,
        seats: {
          capacity: event.capacity,
          held: event.heldCount,
          confirmed: event.confirmedCount,
          available: Math.max(0, event.capacity - event.heldCount - event.confirmedCount),
        },
        signups: {
          requested: count('requested'),
          awaiting_consent: count('awaiting_consent'),
          held: count('held'),
          confirmed: count('confirmed'),
          waitlisted: count('waitlisted'),
          cancelled: count('cancelled'),
          released: count('released'),
          rejected: count('rejected'),
        },
        revenue: revenue.map((row) => ({ currency: row.currency, amountMinor: Number(row.amount) })),
        signupsPerDay: perDay,
      };
    },
  };
}
