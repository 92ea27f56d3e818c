import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal.js';
import { rememberContact } from '../contacts/provider.js';
import { visible as publiclyVisible } from '../events/public-catalog.js';
import { Problem, type InvalidField } from '../http/problem.js';
import type { InterestKind } from './interest.entity.js';

export interface InterestView {
  kind: InterestKind;
  /** An event id, a category slug or a market code, by kind. */
  value: string;
  createdAt: string;
}

export interface InterestList {
  items: InterestView[];
}

/** Follows are listed whole (no paging), so their number per user is bounded. */
export const MAX_INTERESTS_PER_USER = 500;

interface InterestRow {
  kind: InterestKind;
  value: string;
  /** The driver hands timestamps of raw queries back as strings. */
  created_at: string | Date;
}

const toView = (row: InterestRow): InterestView => ({ kind: row.kind, value: row.value, createdAt: new Date(row.created_at).toISOString() });

export function createInterestService(deps: { orm: MikroORM }) {
  /**
   * Records the interest and the caller's contact in one transaction. Idempotent and race-free:
   * `on conflict do nothing` on the unique (user, kind, value), then the existing row is read.
   */
  async function follow(
    principal: Principal,
    kind: InterestKind,
    value: string,
    /** Where the request named what is followed, for the 422 when the cap stops it. */
    at: Pick<InvalidField, 'in' | 'field'>,
    checkTarget?: (tx: EntityManager) => Promise<void>,
  ): Promise<{ interest: InterestView; created: boolean }> {
    return deps.orm.em.fork().transactional(async (tx) => {
      await checkTarget?.(tx);
      // The token's claims are how workers find an address later (they never see tokens).
      await rememberContact(tx, { userId: principal.userId, ...principal.profile });
      const conn = tx.getConnection();
      const [inserted] = await conn.execute<InterestRow[]>(
        `insert into interest (id, user_id, kind, value, created_at)
         select gen_random_uuid(), ?, ?, ?, now()
          where (select count(*) from interest where user_id = ?) < ?
         on conflict (user_id, kind, value) do nothing
         returning kind, value, created_at`,
        [principal.userId, kind, value, principal.userId, MAX_INTERESTS_PER_USER],
      );
      if (inserted) return { interest: toView(inserted), created: true };
      const [existing] = await conn.execute<InterestRow[]>(
        `select kind, value, created_at from interest where user_id = ? and kind = ? and value = ?`,
        [principal.userId, kind, value],
      );
      if (existing) return { interest: toView(existing), created: false };
      // Nothing inserted and nothing there: the cap stopped it.
      const message = `you follow ${MAX_INTERESTS_PER_USER} things already; unfollow some first`;
      throw new Problem('rule-violation', message, { errors: [{ ...at, message }] });
    });
  }

  async function unfollow(principal: Principal, kind: InterestKind, value: string): Promise<void> {
    await deps.orm.em.fork().transactional(async (tx) => {
      await rememberContact(tx, { userId: principal.userId, ...principal.profile });
      await tx.getConnection().execute(`delete from interest where user_id = ? and kind = ? and value = ?`, [
        principal.userId,
        kind,
        value,
      ]);
    });
  }

  return {
    /** `notify-me`: the event must be one the public catalog shows, else 404 like the catalog. */
    notifyMe(principal: Principal, eventId: string) {
      return follow(principal, 'event', eventId, { in: 'path', field: 'eventId' }, async (tx) => {
        const [found] = await tx
          .getConnection()
          .execute<{ id: string }[]>(`select e.id from event e where e.id = ? and ${publiclyVisible}`, [eventId, new Date()]);
        if (!found) throw new Problem('not-found', 'no published event with this id');
      });
    },

    /** Idempotent, like the delete of anything else: 204 also when there was nothing to stop. */
    stopNotifying(principal: Principal, eventId: string): Promise<void> {
      return unfollow(principal, 'event', eventId);
    },

    follow(principal: Principal, kind: 'category' | 'market' | 'tag', value: string) {
      return follow(principal, kind, value, { in: 'body', field: 'value' });
    },

    unfollow(principal: Principal, kind: 'category' | 'market' | 'tag', value: string): Promise<void> {
      return unfollow(principal, kind, value);
    },

    async list(principal: Principal): Promise<InterestList> {
      const em = deps.orm.em.fork();
      await rememberContact(em, { userId: principal.userId, ...principal.profile });
      const rows = await em
        .getConnection()
        .execute<InterestRow[]>(
          `select kind, value, created_at from interest where user_id = ? order by kind, created_at, value`,
          [principal.userId],
        );
      return { items: rows.map(toView) };
    },
  };
}

export type InterestService = ReturnType<typeof createInterestService>;
