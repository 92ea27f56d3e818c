import { z } from 'zod';
import { describeTemplateVariables } from '../notifications/template-variables.js';

/**
 * Shapes of an event's structured fields, as zod schemas: they validate API input and type the
 * JSON columns, so the two never drift apart.
 */

export const localeSchema = z
  .string()
  .regex(/^[a-z]{2,3}(-[A-Z]{2})?$/, 'a language tag such as en, nb or pt-BR');

/** PostgreSQL text-search configurations for the locales we stem; any other locale searches unstemmed. */
const searchConfigByLanguage: Record<string, string> = {
  da: 'danish',
  de: 'german',
  en: 'english',
  es: 'spanish',
  fi: 'finnish',
  fr: 'french',
  it: 'italian',
  nb: 'norwegian',
  nl: 'dutch',
  nn: 'norwegian',
  no: 'norwegian',
  pt: 'portuguese',
  sv: 'swedish',
};

export function searchConfigFor(locale: string): string {
  return searchConfigByLanguage[locale.split('-')[0] ?? ''] ?? 'simple';
}

export const platforms = ['web', 'ios', 'android', 'unity'] as const;
export type Platform = (typeof platforms)[number];

export const venueSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  address: z.strictObject({
    line1: z.string().trim().min(1).max(200),
    line2: z.string().trim().max(200).optional(),
    postalCode: z.string().trim().max(20).optional(),
    city: z.string().trim().min(1).max(100),
    country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166-1 alpha-2 code'),
  }),
  coordinates: z.strictObject({ lat: z.number().min(-90).max(90), lng: z.number().min(-180).max(180) }).optional(),
  accessibility: z
    .strictObject({
      wheelchairAccessible: z.boolean().optional(),
      stepFreeAccess: z.boolean().optional(),
      accessibleToilets: z.boolean().optional(),
      hearingLoop: z.boolean().optional(),
      notes: z.string().max(2000).optional(),
    })
    .optional(),
});
export type Venue = z.infer<typeof venueSchema>;

export const ageRulesSchema = z.strictObject({
  minAge: z.number().int().min(0).max(120).optional(),
  maxAge: z.number().int().min(0).max(120).optional(),
  /** Attendees below this age need a guardian's consent. */
  guardianConsentBelowAge: z.number().int().min(0).max(21).optional(),
});
export type AgeRules = z.infer<typeof ageRulesSchema>;

export const refundPolicySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('none') }),
  /** Full refund until the cancellation deadline, nothing after. */
  z.strictObject({ kind: z.literal('full-before-deadline') }),
  /** A percentage by how long before the start the cancellation comes; the first matching tier wins. */
  z.strictObject({
    kind: z.literal('tiered'),
    tiers: z
      .array(z.strictObject({ hoursBeforeStart: z.number().int().min(0), percent: z.number().int().min(0).max(100) }))
      .min(1)
      .max(10),
  }),
]);
export type RefundPolicy = z.infer<typeof refundPolicySchema>;

export const internalNotesSchema = z.strictObject({
  coordinator: z.string().max(200).optional(),
  vendors: z.array(z.strictObject({ name: z.string().min(1).max(200), role: z.string().max(200).optional() })).max(50).optional(),
  budgetNotes: z.string().max(5000).optional(),
  notes: z.string().max(5000).optional(),
});
export type InternalNotes = z.infer<typeof internalNotesSchema>;

export const notificationKinds = [
  'announcement',
  'signup-opened',
  'signup-received',
  'consent-request',
  'consent-receipt',
  'payment-receipt',
  'confirmation',
  'waitlist-offer',
  'rejection',
  'cancellation-receipt',
  'payment-refunded',
  'event-changed',
  'event-cancelled',
  'reminder',
  'thank-you',
] as const;
export type NotificationKind = (typeof notificationKinds)[number];

const notificationTextSchema = z.strictObject({
  subject: z.string().min(1).max(200).optional(),
  body: z.string().min(1).max(10_000).optional(),
});

/** Per kind, per locale: replaces the default template's subject and/or body. */
export const notificationTextsSchema = z
  .partialRecord(z.enum(notificationKinds), z.record(localeSchema, notificationTextSchema))
  .describe(describeTemplateVariables());
export type NotificationTexts = z.infer<typeof notificationTextsSchema>;

export const currencySchema = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code, e.g. NOK');

/** Amounts are integers in the currency's minor unit (øre, cents). */
export const priceSchema = z.strictObject({
  currency: currencySchema,
  amountMinor: z.number().int().min(0).max(100_000_000),
});
export type Price = z.infer<typeof priceSchema>;

export const translationSchema = z.strictObject({
  title: z.string().trim().min(1).max(200),
  summary: z.string().trim().max(500).optional(),
  description: z.string().trim().max(20_000).default(''),
});
