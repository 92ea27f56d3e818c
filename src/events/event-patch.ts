/**
 * Editing an event: the PATCH body, the event's editable state, and the rules that depend on what
 * signups already use. Pure: the service loads the rows, these functions decide.
 *
 * Decision: `translations`, `ticketTypes` and `promoCodes` are replaced wholesale when present (the
 * body's list is the new list), so a client never has to reason about merge semantics. Ticket types
 * and promo codes are matched by `code`, so a kept code keeps its id and counters (held/confirmed,
 * usedCount); a code missing from the new list is removed, which is refused while it is in use.
 * Optional scalar fields (venue, announceAt, signup window, cancellationDeadline) are cleared with null.
 */
import { z } from 'zod';
import type { InternalNotes, NotificationTexts, Platform, RefundPolicy, Venue } from './event-data.js';
import { newEventSchema, type PromoCodeInput, type TicketTypeInput } from './event-input.js';
import type { RuleViolation } from './rules.js';

const fields = newEventSchema.shape;

/** Any subset of the create fields; defaults are not applied, so an absent field stays unchanged. */
export const eventPatchSchema = z.strictObject({
  defaultLocale: fields.defaultLocale.optional(),
  translations: fields.translations.optional(),
  category: fields.category.optional(),
  tags: fields.tags.unwrap().optional(),
  market: fields.market.optional(),
  timezone: fields.timezone.optional(),
  venue: fields.venue.unwrap().nullable().optional(),
  startsAt: fields.startsAt.optional(),
  endsAt: fields.endsAt.optional(),
  announceAt: fields.announceAt.unwrap().nullable().optional(),
  signupOpensAt: fields.signupOpensAt.unwrap().nullable().optional(),
  signupClosesAt: fields.signupClosesAt.unwrap().nullable().optional(),
  cancellationDeadline: fields.cancellationDeadline.unwrap().nullable().optional(),
  capacity: fields.capacity.optional(),
  maxAttendeesPerSignup: fields.maxAttendeesPerSignup.unwrap().optional(),
  ageRules: fields.ageRules.unwrap().optional(),
  platforms: fields.platforms.unwrap().optional(),
  waitlistEnabled: fields.waitlistEnabled.unwrap().optional(),
  refundPolicy: fields.refundPolicy.unwrap().optional(),
  ticketTypes: fields.ticketTypes.unwrap().optional(),
  promoCodes: fields.promoCodes.unwrap().optional(),
  internal: fields.internal.unwrap().optional(),
  notificationTexts: fields.notificationTexts.unwrap().optional(),
});
export type EventPatch = z.infer<typeof eventPatchSchema>;

/** Everything an admin can edit about an event, as one value (what checkEvent and the history see). */
export interface EventState {
  defaultLocale: string;
  translations: Record<string, { title: string; summary?: string | undefined; description: string }>;
  category: string;
  tags: string[];
  market: string;
  timezone: string;
  venue: Venue | null;
  startsAt: Date;
  endsAt: Date;
  announceAt: Date | null;
  signupOpensAt: Date | null;
  signupClosesAt: Date | null;
  cancellationDeadline: Date | null;
  capacity: number;
  maxAttendeesPerSignup: number;
  ageRules: { minAge?: number | undefined; maxAge?: number | undefined; guardianConsentBelowAge?: number | undefined };
  platforms: Platform[];
  waitlistEnabled: boolean;
  refundPolicy: RefundPolicy;
  ticketTypes: TicketTypeInput[];
  promoCodes: PromoCodeInput[];
  internal: InternalNotes;
  notificationTexts: NotificationTexts;
}

/** The state after applying a patch: present fields replace, absent ones stay. */
export function mergePatch(state: EventState, patch: EventPatch): EventState {
  const merged: EventState = { ...state };
  for (const [key, value] of Object.entries(patch) as [keyof EventState, unknown][]) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  return merged;
}

/** What signups already use, per ticket type and promo code (by code). */
export interface EventUsage {
  ticketTypes: readonly { code: string; seatsTaken: number; signups: number }[];
  promoCodes: readonly { code: string; usedCount: number }[];
}

/** Rules an edit must satisfy on top of checkEvent, because signups already depend on the event. */
export function checkUsage(state: EventState, usage: EventUsage): RuleViolation[] {
  const violations: RuleViolation[] = [];
  for (const used of usage.ticketTypes) {
    const index = state.ticketTypes.findIndex((ticket) => ticket.code === used.code);
    if (index === -1) {
      if (used.signups > 0) {
        violations.push({ field: 'ticketTypes', message: `ticket type ${used.code} has signups and cannot be removed` });
      }
      continue;
    }
    const capacity = state.ticketTypes[index]?.capacity;
    if (capacity !== undefined && capacity < used.seatsTaken) {
      violations.push({
        field: `ticketTypes.${index}.capacity`,
        message: `must be at least ${used.seatsTaken}, the seats already held or confirmed`,
      });
    }
  }
  for (const used of usage.promoCodes) {
    const index = state.promoCodes.findIndex((promo) => promo.code === used.code);
    if (index === -1) {
      if (used.usedCount > 0) {
        violations.push({ field: 'promoCodes', message: `promo code ${used.code} has been used and cannot be removed` });
      }
      continue;
    }
    const maxUses = state.promoCodes[index]?.maxUses;
    if (maxUses !== undefined && maxUses < used.usedCount) {
      violations.push({ field: `promoCodes.${index}.maxUses`, message: `must be at least ${used.usedCount}, the uses so far` });
    }
  }
  return violations;
}

/** The seat-relevant decision for unpublishing, given what the database says now. */
export function unpublishRefusal(
  event: { status: string; announceAt?: Date | null; heldCount: number; confirmedCount: number },
  signupRows: number,
  now: Date,
): string | undefined {
  if (event.status !== 'published') return `the event is ${event.status}, not published`;
  if (event.heldCount + event.confirmedCount > 0) return 'seats are already held or confirmed';
  if (event.announceAt) {
    return event.announceAt.getTime() > now.getTime() ? undefined : 'the event has already been announced';
  }
  return signupRows === 0 ? undefined : 'the event has signups';
}
