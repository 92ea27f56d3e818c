import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal.js';
import { Problem } from '../http/problem.js';
import { LiveEvent, type EventStatus } from './event.entity.js';
import { checkEventSchedule, spotsLeft } from './rules.js';

export interface NewEvent {
  title: string;
  market: string;
  timezone: string;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  publish: boolean;
}

export interface PublicEventView {
  id: string;
  title: string;
  market: string;
  timezone: string;
  startsAt: string;
  endsAt: string;
  capacity: number;
  spotsLeft: number;
}

export interface AdminEventView extends PublicEventView {
  status: EventStatus;
  heldCount: number;
  confirmedCount: number;
}

function toPublicView(event: LiveEvent): PublicEventView {
  return {
    id: event.id,
    title: event.title,
    market: event.market,
    timezone: event.timezone,
    startsAt: event.startsAt.toISOString(),
    endsAt: event.endsAt.toISOString(),
    capacity: event.capacity,
    spotsLeft: spotsLeft(event),
  };
}

function toAdminView(event: LiveEvent): AdminEventView {
  return { ...toPublicView(event), status: event.status, heldCount: event.heldCount, confirmedCount: event.confirmedCount };
}

/** An organizer works only in the markets the token grants; admins everywhere. */
export function mayManageMarket(principal: Principal, market: string): boolean {
  return principal.roles.includes('admin') || principal.markets.includes(market);
}

export function createEventService(deps: { orm: MikroORM }) {
  return {
    async createEvent(principal: Principal, input: NewEvent): Promise<AdminEventView> {
      if (!mayManageMarket(principal, input.market)) {
        throw new Problem('forbidden', `your token does not grant market ${input.market}`);
      }
      const violations = checkEventSchedule(input);
      if (violations.length > 0) {
        throw new Problem('rule-violation', 'the event breaks scheduling rules', {
          errors: violations.map((violation) => ({ in: 'body', ...violation })),
        });
      }
      const em = deps.orm.em.fork();
      const event = em.create(LiveEvent, {
        id: randomUUID(),
        title: input.title,
        market: input.market,
        timezone: input.timezone,
        startsAt: input.startsAt,
        endsAt: input.endsAt,
        capacity: input.capacity,
        status: input.publish ? 'published' : 'draft',
      });
      await em.flush();
      return toAdminView(event);
    },

    /** Published events only: drafts answer 404 exactly like ids that do not exist. */
    async getPublicEvent(eventId: string): Promise<PublicEventView> {
      const event = await deps.orm.em.fork().findOne(LiveEvent, { id: eventId, status: 'published' });
      if (!event) throw new Problem('not-found', 'no published event with this id');
      return toPublicView(event);
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;
