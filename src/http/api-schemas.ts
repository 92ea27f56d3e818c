import { z } from 'zod';
import type { AdminChangeView, AdminEventSummary, AdminEventView, Page } from '../events/admin-service.js';
import {
  ageRulesSchema,
  internalNotesSchema,
  notificationTextsSchema,
  platforms,
  priceSchema,
  refundPolicySchema,
  venueSchema,
} from '../events/event-data.js';
import { eventStatuses } from '../events/event.entity.js';
import { ageGroups, participantCsvHeader, type ParticipantRow } from '../events/participants.js';
import type { CheckInResult, EventStats } from '../events/participants-service.js';
import type { CatalogPage, PublicEventDetail, PublicEventSummary } from '../events/public-catalog.js';
import { signupStatuses } from '../signups/status.js';
import type { InvalidField } from './problem.js';

/**
 * Response shapes for the API document, as zod schemas. The services build their answers as plain
 * TypeScript views; the `SameShape` checks below make the compiler fail when a view and its schema
 * part ways, and the contract test checks real responses against the document.
 *
 * Signup and health shapes live next to their routes (src/signups/routes.ts, src/health/routes.ts).
 */

/** true when A and B accept the same values (each assignable to the other); for compile-time checks. */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** An ISO 8601 instant as the API writes it (Date.toISOString(): UTC, with Z). */
export const instantSchema = z.iso.datetime();

export const invalidFieldSchema = z
  .strictObject({
    in: z.enum(['body', 'query', 'path', 'header']).describe('Where the value came from'),
    field: z.string().describe('Dotted path to the value, e.g. attendees.0.age; empty for the whole body'),
    message: z.string(),
  })
  .meta({ id: 'InvalidField' });
const _invalidFieldMatches: SameShape<z.output<typeof invalidFieldSchema>, InvalidField> = true;

/** RFC 9457; loose because problem types may add extension members. */
export const problemDocumentSchema = z
  .looseObject({
    type: z.string().describe('Stable problem type, `/problems/{slug}`; GET it for a description'),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional(),
    instance: z.string().optional().describe('The request path'),
    errors: z.array(invalidFieldSchema).optional().describe('Each invalid value (validation errors, rule violations)'),
  })
  .meta({ id: 'ProblemDocument', description: 'Every error the API answers (application/problem+json)' });

export const problemTypeSchema = z
  .strictObject({
    type: z.string(),
    status: z.number().int().min(400).max(599),
    title: z.string(),
  })
  .meta({ id: 'ProblemType', description: 'What a problem type means' });

const nullableInstant = instantSchema.nullable();
const nonNegative = z.number().int().min(0);

export const publicEventSummarySchema = z
  .strictObject({
    id: z.uuid(),
    locale: z.string().describe('The translation served: the requested locale if the event has it, else its default'),
    title: z.string(),
    summary: z.string().nullable(),
    category: z.string(),
    tags: z.array(z.string()),
    market: z.string().describe('ISO 3166-1 alpha-2'),
    timezone: z.string().describe('IANA time zone the event is local to'),
    venue: z.strictObject({ name: z.string(), city: z.string() }).nullable(),
    startsAt: instantSchema,
    endsAt: instantSchema,
    ageRules: ageRulesSchema,
    platforms: z.array(z.enum(platforms)),
    price: z
      .discriminatedUnion('free', [
        z.strictObject({ free: z.literal(true) }),
        z.strictObject({
          free: z.literal(false),
          currency: z.string(),
          minAmountMinor: nonNegative,
          maxAmountMinor: nonNegative,
        }),
      ])
      .describe('Free, or the range of ticket prices in minor units'),
    spotsLeft: nonNegative.describe('Seats neither held nor confirmed (advisory: the signup decides)'),
    soldOut: z.boolean(),
    waitlistOpen: z.boolean().describe('Sold out, signups open and a waitlist kept: a signup now joins the waitlist'),
    signupState: z.enum(['not-open-yet', 'open', 'closed']),
    signupOpensAt: nullableInstant,
  })
  .meta({ id: 'PublicEventSummary', description: 'A published event as the catalog lists it, in one language' });
const _publicSummaryMatches: SameShape<z.output<typeof publicEventSummarySchema>, PublicEventSummary> = true;

export const publicEventPageSchema = z
  .strictObject({
    items: z.array(publicEventSummarySchema).describe('At most `limit` events, by start time (then id)'),
    nextCursor: z
      .string()
      .nullable()
      .describe('Opaque: send it as `cursor`, with the same other parameters, for the next page; null on the last page'),
  })
  .meta({ id: 'PublicEventPage', description: 'A page of the catalog (keyset-paged: no totals, no page numbers)' });
const _publicPageMatches: SameShape<z.output<typeof publicEventPageSchema>, CatalogPage> = true;

export const publicEventDetailSchema = publicEventSummarySchema
  .extend({
    description: z.string(),
    venue: venueSchema.extend({ city: z.string() }).nullable(),
    capacity: nonNegative,
    signupClosesAt: nullableInstant,
    cancellationDeadline: nullableInstant,
    maxAttendeesPerSignup: z.number().int().min(1),
    refundPolicy: refundPolicySchema,
    ticketTypes: z.array(z.strictObject({ code: z.string(), name: z.string(), prices: z.array(priceSchema) })),
    cancellation: z
      .strictObject({ cancelledAt: instantSchema, reason: z.string().nullable() })
      .nullable()
      .describe('Set when the organizer cancelled the event (its page stays readable; signupState is then closed)'),
  })
  .meta({ id: 'PublicEvent', description: 'A published event with everything an app shows on its page' });
const _publicDetailMatches: SameShape<z.output<typeof publicEventDetailSchema>, PublicEventDetail> = true;

export const adminEventViewSchema = z
  .strictObject({
    id: z.uuid(),
    status: z.enum(eventStatuses),
    defaultLocale: z.string(),
    translations: z.record(
      z.string(),
      z.strictObject({ title: z.string(), summary: z.string().nullable(), description: z.string() }),
    ),
    category: z.string(),
    tags: z.array(z.string()),
    market: z.string(),
    timezone: z.string(),
    venue: venueSchema.nullable(),
    startsAt: instantSchema,
    endsAt: instantSchema,
    announceAt: nullableInstant,
    signupOpensAt: nullableInstant,
    signupClosesAt: nullableInstant,
    cancellationDeadline: nullableInstant,
    capacity: nonNegative,
    spotsLeft: nonNegative,
    maxAttendeesPerSignup: z.number().int().min(1),
    ageRules: z.strictObject({
      minAge: z.number().int().nullable(),
      maxAge: z.number().int().nullable(),
      guardianConsentBelowAge: z.number().int().nullable(),
    }),
    platforms: z.array(z.enum(platforms)),
    waitlistEnabled: z.boolean(),
    refundPolicy: refundPolicySchema,
    ticketTypes: z.array(
      z.strictObject({
        id: z.uuid(),
        code: z.string(),
        names: z.record(z.string(), z.string()),
        prices: z.array(priceSchema),
        capacity: nonNegative.nullable(),
        heldCount: nonNegative,
        confirmedCount: nonNegative,
      }),
    ),
    promoCodes: z.array(
      z.strictObject({
        id: z.uuid(),
        code: z.string(),
        kind: z.enum(['percent', 'fixed']),
        value: z.number().int(),
        currency: z.string().nullable(),
        maxUses: z.number().int().nullable(),
        usedCount: nonNegative,
        validFrom: nullableInstant,
        validUntil: nullableInstant,
      }),
    ),
    internal: internalNotesSchema,
    notificationTexts: notificationTextsSchema,
    heldCount: nonNegative,
    confirmedCount: nonNegative,
    publishedAt: nullableInstant,
    createdBy: z.string(),
    createdAt: instantSchema,
    updatedAt: instantSchema,
    version: z.number().int().describe('Changes with every edit; the ETag is "v<version>"'),
  })
  .meta({ id: 'AdminEvent', description: 'An event as its organizers manage it' });
const _adminEventMatches: SameShape<z.output<typeof adminEventViewSchema>, AdminEventView> = true;

/** A page of a list: `items` of the page, the page and limit asked for, and the total across all pages. */
function pageOf<T extends z.ZodType>(item: T, id: string, description: string) {
  return z
    .strictObject({
      items: z.array(item),
      page: z.number().int().min(1),
      limit: z.number().int().min(1),
      total: nonNegative.describe('Items across all pages'),
    })
    .meta({ id, description });
}

export const adminEventSummarySchema = z
  .strictObject({
    id: z.uuid(),
    status: z.enum(eventStatuses),
    title: z.string().describe('In the default locale'),
    market: z.string(),
    category: z.string(),
    startsAt: instantSchema,
    endsAt: instantSchema,
    capacity: nonNegative,
    heldCount: nonNegative,
    confirmedCount: nonNegative,
    version: z.number().int(),
  })
  .meta({ id: 'AdminEventSummary', description: 'An event as the admin list shows it' });

export const adminEventPageSchema = pageOf(adminEventSummarySchema, 'AdminEventPage', 'Events, by start time');
const _adminEventPageMatches: SameShape<z.output<typeof adminEventPageSchema>, Page<AdminEventSummary>> = true;

export const eventChangeSchema = z
  .strictObject({
    id: z.string().regex(/^\d+$/),
    action: z.string().describe('created, updated, published, unpublished or deleted'),
    changedBy: z.string().describe('The user id (token subject) who made the change'),
    changedAt: instantSchema,
    changes: z.array(
      z.strictObject({
        field: z.string().describe('Dotted path, e.g. ticketTypes.child.prices'),
        before: z.unknown().describe('Any JSON value; null when the field was not set'),
        after: z.unknown().describe('Any JSON value; null when the field is no longer set'),
      }),
    ),
  })
  .meta({ id: 'EventChange', description: 'One entry of an event history, field by field' });

export const eventChangePageSchema = pageOf(eventChangeSchema, 'EventChangePage', 'Changes, newest first');
const _eventChangePageMatches: SameShape<z.output<typeof eventChangePageSchema>, Page<AdminChangeView>> = true;

export const participantSchema = z
  .strictObject({
    signupId: z.uuid(),
    firstName: z.string().nullable().describe('Or initials (`initials=true`); null while the signup has no attendee rows'),
    ageGroup: z.enum(ageGroups).nullable(),
    status: z.enum(signupStatuses),
    seats: z.number().int().min(1),
    ticketType: z.string().nullable().describe('Code of the ticket type'),
    ticketCode: z.string().nullable(),
    checkedIn: z.boolean(),
    checkedInAt: nullableInstant,
    needsNote: z
      .string()
      .nullable()
      .describe('Allergies, accessibility needs, as the participant wrote them (health data: every read is logged); null when none'),
  })
  .meta({ id: 'Participant', description: 'One attendee of a signup (a signup without attendees yet shows once)' });
const _participantMatches: SameShape<z.output<typeof participantSchema>, ParticipantRow> = true;

export const participantPageSchema = pageOf(participantSchema, 'ParticipantPage', 'Attendees, in signup order');
const _participantPageMatches: SameShape<z.output<typeof participantPageSchema>, Page<ParticipantRow>> = true;

const csvHeaderLine = participantCsvHeader.join(',');
export const participantsCsvSchema = z
  .string()
  .regex(new RegExp(`^${csvHeaderLine}\r\n`))
  .meta({
    id: 'ParticipantsCsv',
    description: `RFC 4180 (CRLF line ends), every matching row, not a page; header: ${csvHeaderLine}. Cells starting with = + - @ get a leading '.`,
  });

export const checkInResultSchema = z
  .strictObject({
    signupId: z.uuid(),
    checkedIn: z.literal(true),
    checkedInAt: instantSchema.describe('The first check-in: checking in again keeps it'),
  })
  .meta({ id: 'CheckIn', description: 'A checked-in signup' });
const _checkInMatches: SameShape<z.output<typeof checkInResultSchema>, CheckInResult> = true;

export const eventStatsSchema = z
  .strictObject({
    eventId: z.uuid(),
    timezone: z.string(),
    seats: z.strictObject({ capacity: nonNegative, held: nonNegative, confirmed: nonNegative, available: nonNegative }),
    signups: z
      .strictObject({
        requested: nonNegative,
        awaiting_consent: nonNegative,
        held: nonNegative,
        confirmed: nonNegative,
        waitlisted: nonNegative,
        cancelled: nonNegative,
        released: nonNegative,
        rejected: nonNegative,
      })
      .describe('Signups per status'),
    revenue: z.array(z.strictObject({ currency: z.string(), amountMinor: nonNegative })).describe('Money taken less refunds, per currency'),
    signupsPerDay: z
      .array(z.strictObject({ date: z.iso.date(), signups: z.number().int().min(1) }))
      .describe('Signups created per calendar day in the event time zone'),
  })
  .meta({ id: 'EventStats', description: 'Seats, signups and revenue of an event' });
const _statsMatches: SameShape<z.output<typeof eventStatsSchema>, EventStats> = true;
