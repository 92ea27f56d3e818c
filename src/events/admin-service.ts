import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal.js';
import { Problem } from '../http/problem.js';
import { searchConfigFor } from './event-data.js';
import type { NewEventInput } from './event-input.js';
import { EventChange } from './event-change.entity.js';
import { EventTranslation } from './event-translation.entity.js';
import { LiveEvent, type EventStatus } from './event.entity.js';
import { PromoCode } from './promo-code.entity.js';
import { toPublicView, type PublicEventView } from './public-catalog.js';
import { checkEvent, type RuleViolation } from './rules.js';
import { TicketType } from './ticket-type.entity.js';

export interface AdminEventView extends Omit<PublicEventView, 'title' | 'summary' | 'description' | 'locale'> {
  status: EventStatus;
  defaultLocale: string;
  translations: Record<string, { title: string; summary: string | null; description: string }>;
  heldCount: number;
  confirmedCount: number;
  version: number;
}

function toAdminView(event: LiveEvent, translations: readonly EventTranslation[]): AdminEventView {
  const { title: _t, summary: _s, description: _d, locale: _l, ...common } = toPublicView(event, translations);
  return {
    ...common,
    status: event.status,
    defaultLocale: event.defaultLocale,
    translations: Object.fromEntries(
      translations.map((t) => [t.locale, { title: t.title, summary: t.summary ?? null, description: t.description }]),
    ),
    heldCount: event.heldCount,
    confirmedCount: event.confirmedCount,
    version: event.version,
  };
}

/** An organizer works only in the markets the token grants; admins everywhere. */
export function mayManageMarket(principal: Principal, market: string): boolean {
  return principal.roles.includes('admin') || principal.markets.includes(market);
}

export function ruleViolation(violations: RuleViolation[]): Problem {
  return new Problem('rule-violation', `${violations.length} rule(s) broken`, {
    errors: violations.map((violation) => ({ in: 'body', ...violation })),
  });
}

function translationsOf(em: EntityManager, event: LiveEvent, input: NewEventInput['translations']): EventTranslation[] {
  return Object.entries(input).map(([locale, text]) =>
    em.create(EventTranslation, {
      event,
      locale,
      title: text.title,
      summary: text.summary ?? null,
      description: text.description,
      searchConfig: searchConfigFor(locale),
    }),
  );
}

export function createEventAdminService(deps: { orm: MikroORM }) {
  return {
    async createEvent(principal: Principal, input: NewEventInput): Promise<AdminEventView> {
      if (!mayManageMarket(principal, input.market)) {
        throw new Problem('forbidden', `your token does not grant market ${input.market}`);
      }
      const violations = checkEvent(input);
      if (violations.length > 0) throw ruleViolation(violations);

      return deps.orm.em.fork().transactional(async (em) => {
        const event = em.create(LiveEvent, {
          id: randomUUID(),
          status: input.publish ? 'published' : 'draft',
          market: input.market,
          timezone: input.timezone,
          defaultLocale: input.defaultLocale,
          category: input.category,
          tags: input.tags,
          venue: input.venue ?? null,
          startsAt: input.startsAt,
          endsAt: input.endsAt,
          announceAt: input.announceAt ?? null,
          signupOpensAt: input.signupOpensAt ?? null,
          signupClosesAt: input.signupClosesAt ?? null,
          cancellationDeadline: input.cancellationDeadline ?? null,
          capacity: input.capacity,
          maxAttendeesPerSignup: input.maxAttendeesPerSignup,
          minAge: input.ageRules.minAge ?? null,
          maxAge: input.ageRules.maxAge ?? null,
          guardianConsentBelowAge: input.ageRules.guardianConsentBelowAge ?? null,
          platforms: input.platforms,
          waitlistEnabled: input.waitlistEnabled,
          refundPolicy: input.refundPolicy,
          internal: input.internal,
          notificationTexts: input.notificationTexts,
          publishedAt: input.publish ? new Date() : null,
          createdBy: principal.userId,
        });
        const translations = translationsOf(em, event, input.translations);
        input.ticketTypes.forEach((ticket, index) =>
          em.create(TicketType, {
            id: randomUUID(),
            event,
            code: ticket.code,
            names: ticket.names,
            prices: ticket.prices,
            capacity: ticket.capacity ?? null,
            sortOrder: index,
          }),
        );
        for (const promo of input.promoCodes) {
          em.create(PromoCode, {
            id: randomUUID(),
            event,
            code: promo.code,
            kind: promo.kind,
            value: promo.value,
            currency: promo.currency ?? null,
            maxUses: promo.maxUses ?? null,
            validFrom: promo.validFrom ?? null,
            validUntil: promo.validUntil ?? null,
          });
        }
        em.create(EventChange, {
          eventId: event.id,
          action: 'created',
          changedBy: principal.userId,
          changes: [],
        });
        await em.flush();
        return toAdminView(event, translations);
      });
    },

  };
}

export type EventAdminService = ReturnType<typeof createEventAdminService>;
