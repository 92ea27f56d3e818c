import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Who hears about what: the reads the event lifecycle workflow's activities page through when
 * announcing an event or opening its signups. Plain SQL over the (kind, value, user_id) index,
 * paged by user id (keyset), so an audience of tens of thousands is read a page at a time without
 * OFFSET scans and without holding a cursor open across activity attempts.
 */

export interface AudiencePage {
  /** The last user id of the previous page; absent for the first page. */
  afterUserId?: string;
  limit: number;
}

/** `user_id > ''` holds for every id, so the first page needs no separate statement. */
const after = (page: AudiencePage) => page.afterUserId ?? '';

function checkLimit(page: AudiencePage): void {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > 10_000) {
    throw new RangeError(`page limit must be an integer from 1 to 10000, got ${page.limit}`);
  }
}

/**
 * Users following the event's category OR its market OR one of its tags (and, with `eventId`, those following the
 * event itself, who asked about it specifically), each once, ordered by user id. For announcements.
 *
 * One ordered, limited index range per followed thing, merged with `union` (which also makes each
 * user appear once): every page costs O(limit) whatever the size of the audience, where a
 * `where (kind, value) in (...)` would have to collect and sort every follower first.
 */
export async function usersFollowing(
  em: EntityManager,
  target: { eventId?: string; category: string; market: string; tags?: readonly string[] },
  page: AudiencePage,
): Promise<string[]> {
  checkLimit(page);
  const followed: [kind: string, value: string][] = [
    ['category', target.category],
    ['market', target.market],
    ...[...new Set(target.tags ?? [])].map((tag) => ['tag', tag] as [string, string]),
    ...(target.eventId ? [['event', target.eventId] as [string, string]] : []),
  ];
  const branch = `(select user_id from interest where kind = ? and value = ? and user_id > ? order by user_id limit ?)`;
  const rows = await em.getConnection().execute<{ user_id: string }[]>(
    `select user_id from (${followed.map(() => branch).join(' union ')}) audience order by user_id limit ?`,
    [...followed.flatMap(([kind, value]) => [kind, value, after(page), page.limit]), page.limit],
  );
  return rows.map((row) => row.user_id);
}

/** Users who asked for a mail when signups for this event open (`notify-me`), ordered by user id. */
export async function usersAskingToBeNotified(em: EntityManager, eventId: string, page: AudiencePage): Promise<string[]> {
  checkLimit(page);
  const rows = await em.getConnection().execute<{ user_id: string }[]>(
    `select user_id from interest where kind = 'event' and value = ? and user_id > ? order by user_id limit ?`,
    [eventId, after(page), page.limit],
  );
  return rows.map((row) => row.user_id);
}
