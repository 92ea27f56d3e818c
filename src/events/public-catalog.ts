import type { MikroORM } from '@mikro-orm/postgresql';
import { Problem } from '../http/problem.js';
import { EventTranslation } from './event-translation.entity.js';
import { LiveEvent } from './event.entity.js';
import { spotsLeft } from './rules.js';

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

/** What apps read: published events only, localized. */
export function createPublicCatalog(deps: { orm: MikroORM }) {
  return {
    /** Published events only: drafts answer 404 exactly like ids that do not exist. */
    async getPublicEvent(eventId: string, locale?: string): Promise<PublicEventView> {
      const em = deps.orm.em.fork();
      const event = await em.findOne(LiveEvent, { id: eventId, status: 'published' });
      if (!event) throw new Problem('not-found', 'no published event with this id');
      const translations = await em.find(EventTranslation, { event });
      return toPublicView(event, translations, locale);
    },
  };
}

export type PublicCatalog = ReturnType<typeof createPublicCatalog>;
