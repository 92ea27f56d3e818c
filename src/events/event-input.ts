import { z } from 'zod';
import {
  ageRulesSchema,
  currencySchema,
  internalNotesSchema,
  localeSchema,
  notificationTextsSchema,
  platforms,
  priceSchema,
  refundPolicySchema,
  translationSchema,
  venueSchema,
} from './event-data.js';
import { isValidTimeZone } from './rules.js';

/** What an admin sends to create an event; PATCH takes any subset (see eventPatchSchema). */

const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

export const ticketTypeInputSchema = z.strictObject({
  code: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and dashes'),
  names: z.record(localeSchema, z.string().trim().min(1).max(100)),
  /** Empty for a free ticket. */
  prices: z.array(priceSchema).max(20).default([]),
  capacity: z.number().int().min(0).max(1_000_000).optional(),
});
export type TicketTypeInput = z.infer<typeof ticketTypeInputSchema>;

export const promoCodeInputSchema = z.strictObject({
  code: z
    .string()
    .regex(/^[A-Za-z0-9-]{3,64}$/, '3 to 64 letters, digits or dashes')
    .transform((code) => code.toUpperCase()),
  kind: z.enum(['percent', 'fixed']),
  value: z.number().int().min(1),
  currency: currencySchema.optional(),
  maxUses: z.number().int().min(1).optional(),
  validFrom: instant.optional(),
  validUntil: instant.optional(),
});
export type PromoCodeInput = z.infer<typeof promoCodeInputSchema>;

/** An event's category and market codes; interests (src/interests/) follow the same codes. */
export const categoryCodeSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a lower-case slug, e.g. workshop');
export const marketCodeSchema = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code, e.g. NO');
/** A free-form label (the catalog filters on it, interests follow it), compared as written. */
export const tagSchema = z.string().trim().min(1).max(40);

const eventFields = {
  defaultLocale: localeSchema,
  translations: z.record(localeSchema, translationSchema),
  category: categoryCodeSchema,
  tags: z.array(tagSchema).max(20).default([]),
  market: marketCodeSchema,
  timezone: z.string().refine(isValidTimeZone, 'an IANA time zone, e.g. Europe/Oslo'),
  venue: venueSchema.optional(),
  startsAt: instant,
  endsAt: instant,
  announceAt: instant.optional(),
  signupOpensAt: instant.optional(),
  signupClosesAt: instant.optional(),
  cancellationDeadline: instant.optional(),
  capacity: z.number().int().min(0).max(1_000_000),
  maxAttendeesPerSignup: z.number().int().min(1).max(50).default(10),
  ageRules: ageRulesSchema.default({}),
  platforms: z.array(z.enum(platforms)).min(1).default([...platforms]),
  waitlistEnabled: z.boolean().default(false),
  refundPolicy: refundPolicySchema.default({ kind: 'full-before-deadline' }),
  ticketTypes: z.array(ticketTypeInputSchema).min(1).max(20).default([{ code: 'standard', names: { en: 'Standard' }, prices: [] }]),
  promoCodes: z.array(promoCodeInputSchema).max(100).default([]),
  internal: internalNotesSchema.default({}),
  notificationTexts: notificationTextsSchema.default({}),
};

export const newEventSchema = z.strictObject({
  ...eventFields,
  /** Publish at once instead of saving a draft. */
  publish: z.boolean().default(false),
});
export type NewEventInput = z.infer<typeof newEventSchema>;
