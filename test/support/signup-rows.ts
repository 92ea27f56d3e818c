import { randomUUID } from 'node:crypto';
import type { MikroORM } from '../../src/db/orm.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { TicketType } from '../../src/events/ticket-type.entity.js';
import { Attendee } from '../../src/signups/attendee.entity.js';
import { Signup } from '../../src/signups/signup.entity.js';
import type { SignupStatus } from '../../src/signups/status.js';

/**
 * A signup in any status, with its attendees, written straight to the database with the counters
 * moved to match: for tests of what admins see, without running workflows.
 */
export async function insertSignupRow(
  orm: MikroORM,
  eventId: string,
  fields: {
    status: SignupStatus;
    seats?: number;
    attendees?: { firstName: string; age: number; ticketCode?: string; needsNote?: string }[];
    amountMinor?: number;
    currency?: string;
    ticketCode?: string;
  },
): Promise<string> {
  const em = orm.em.fork();
  const seats = fields.seats ?? fields.attendees?.length ?? 1;
  const event = await em.findOneOrFail(LiveEvent, eventId);
  const ticketType = fields.ticketCode ? await em.findOneOrFail(TicketType, { event, code: fields.ticketCode }) : null;
  const id = randomUUID();
  const signup = em.create(Signup, {
    id,
    event,
    userId: `user-${randomUUID()}`,
    seats,
    status: fields.status,
    ticketType,
    amountMinor: fields.amountMinor ?? 0,
    currency: fields.currency ?? null,
    // A confirmed signup with a price has been paid (what the stats count as revenue).
    paidAt: fields.status === 'confirmed' && (fields.amountMinor ?? 0) > 0 ? new Date() : null,
    workflowId: `signup-${id}`,
  });
  for (const attendee of fields.attendees ?? []) {
    em.create(Attendee, {
      id: randomUUID(),
      signup,
      firstName: attendee.firstName,
      age: attendee.age,
      kind: attendee.age < 18 ? 'child' : 'adult',
      ticketCode: attendee.ticketCode ?? null,
      needsNote: attendee.needsNote ?? null,
    });
  }
  await em.flush();
  const held = fields.status === 'held' ? seats : 0;
  const confirmed = fields.status === 'confirmed' ? seats : 0;
  if (held + confirmed > 0) {
    await em
      .getConnection()
      .execute('update event set held_count = held_count + ?, confirmed_count = confirmed_count + ? where id = ?', [held, confirmed, eventId]);
    if (ticketType) {
      await em
        .getConnection()
        .execute('update ticket_type set held_count = held_count + ?, confirmed_count = confirmed_count + ? where id = ?', [held, confirmed, ticketType.id]);
    }
  }
  return id;
}
