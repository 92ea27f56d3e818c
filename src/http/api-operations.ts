/**
 * The API contract: one descriptor per endpoint, turned into the OpenAPI document served at
 * GET /openapi.json (and shown at GET /docs) by `openapi.ts`.
 *
 * To add an endpoint:
 * 1. In its route module, export the zod schemas the handler validates with (params, query, body)
 *    and use exactly those in the handler: the document must describe what the code checks.
 * 2. Give its answer a zod schema: in the route module (see signupViewSchema) or in api-schemas.ts,
 *    with `.meta({ id: 'Name' })` to make it a named component, and a `SameShape` check against
 *    the service's view type so the compiler notices when the two part ways.
 * 3. Add a descriptor to `apiOperations` below: path in OpenAPI style (`/v1/events/{eventId}`),
 *    a unique operationId, `auth` ('public', 'signed-in' or the roles), the request schemas
 *    (`params`, `query`, `body`, and `headers` such as If-Match), and the responses: the success
 *    status with its schema (none for a 204; `content: { 'application/json': ..., 'text/csv': ... }`
 *    for several media types; `headers` such as ETag or Location), plus `problem(slug)` for each
 *    error specific to the endpoint (404, 409, 412, 422, 428, ...). 400/401/403/413/415/500 are
 *    added from the descriptor's shape (see standardResponses in openapi.ts). A route that does
 *    not run its params through zod (so cannot answer 400) says `validatesRequest: false`.
 * 4. Call it in test/integration/openapi-contract.test.ts (success and an error or two), and drop
 *    it from PENDING_ROUTES there. The test checks every real answer against the document, and
 *    fails while an Express route has no descriptor, a descriptor has no route, or a descriptor
 *    was never called successfully.
 */
import { z } from 'zod';
import {
  cancelEventBodySchema,
  createEventBodySchema,
  eventIdParamsSchema,
  historyQuerySchema,
  ifMatchHeaderSchema,
  listEventsQuerySchema,
  participantsQuerySchema,
  patchEventBodySchema,
  signupIdParamsSchema,
} from '../events/admin-routes.js';
import { listPublicEventsQuerySchema, publicEventPathSchema, publicEventQuerySchema } from '../events/public-routes.js';
import { healthSchema, readinessSchema } from '../health/routes.js';
import { followBodySchema, interestListSchema, interestPathSchema, interestViewSchema, notifyMePathSchema } from '../interests/routes.js';
import { signupEventStreamSchema } from '../signups/feed-routes.js';
import {
  auditPageSchema,
  auditQuerySchema,
  batchResetBodySchema,
  batchResetResultSchema,
  flowDetailSchema,
  failedDeliveriesQuerySchema,
  failedDeliveryPageSchema,
  flowListSchema,
  flowPathSchema,
  listFlowsQuerySchema,
  opsRoles,
  resetBodySchema,
  resetResultSchema,
  retryBodySchema,
  retryResultSchema,
} from '../ops/routes.js';
import { consentPageFormSchema, consentPagePathSchema, consentPageQuerySchema, consentPageSchema } from '../consents/page-routes.js';
import {
  consentDecisionBodySchema,
  consentDecisionSchema,
  consentPathSchema,
  consentRecordPathSchema,
  consentRecordSchema,
  consentRequestSchema,
} from '../consents/routes.js';
import { erasurePathSchema, erasureViewSchema, personalDataExportSchema } from '../privacy/routes.js';
import { notificationPreferencesBodySchema, notificationPreferencesSchema } from '../contacts/preferences-routes.js';
import { stripeWebhookResultSchema } from '../payments/webhook-routes.js';
import {
  cancelSignupBodySchema,
  eventPath,
  idempotencyHeaders,
  mySignupsQuerySchema,
  removeParticipantBodySchema,
  removeParticipantPath,
  signupPageSchema,
  signupPath,
  signupRequestSchema,
  signupViewSchema,
} from '../signups/routes.js';
import {
  adminEventPageSchema,
  adminEventViewSchema,
  checkInResultSchema,
  eventChangePageSchema,
  eventStatsSchema,
  participantPageSchema,
  participantsCsvSchema,
  problemTypeSchema,
  publicEventDetailSchema,
  publicEventPageSchema,
} from './api-schemas.js';
import {
  createdWebhookEndpointSchema,
  createWebhookEndpointBodySchema,
  deliveriesQuerySchema,
  patchWebhookEndpointBodySchema,
  redeliveryResultSchema,
  webhookDeliveryListSchema,
  webhookDeliveryPathSchema,
  webhookEndpointListSchema,
  webhookEndpointPathSchema,
  webhookEndpointViewSchema,
} from '../webhooks/routes.js';
import { publicReadCache } from './caching.js';
import { problem, type ApiInfo, type ApiOperation, type TagInfo } from './openapi.js';

export const apiInfo: ApiInfo = {
  title: 'Eventbook API',
  version: '0.1.0',
  description:
    'Live-event signups. Every error is application/problem+json (RFC 9457) with a stable `type` ' +
    '(`/problems/{slug}`, described at that path). Requests may carry X-Request-Id; every answer has one.',
};

export const apiTags: TagInfo[] = [
  { name: 'signups', description: 'Signing up for events; each signup is a durable workflow' },
  { name: 'consents', description: "A guardian's answer to a minor's signup" },
  { name: 'payments', description: 'Payment provider callbacks' },
  { name: 'events', description: 'The public event catalog' },
  { name: 'interests', description: 'What you follow: events, categories and markets you agreed to hear about' },
  { name: 'admin', description: 'Organizers and admins managing their events' },
  { name: 'webhooks', description: 'Outbound webhooks for integrators: endpoints, delivery log, redelivery (Standard Webhooks signatures)' },
  { name: 'operations', description: 'Health, readiness and problem types' },
  { name: 'privacy', description: 'Your own data: export and erasure' },
  { name: 'ops', description: 'Operators finding and repairing failed or stuck workflows (role ops; every call is audited)' },
];

/** Shown in the docs; typed by the schema, and the contract test sends it to the real API. */
const newEventExample: z.input<typeof createEventBodySchema> = {
  defaultLocale: 'en',
  translations: {
    en: { title: 'Robot workshop', summary: 'Build a robot that draws', description: 'Ages 8 to 12; all materials provided.' },
    nb: { title: 'Robotverksted', description: 'For barn fra 8 til 12 år.' },
  },
  category: 'workshop',
  market: 'NO',
  timezone: 'Europe/Oslo',
  startsAt: '2027-03-01T10:00:00+01:00',
  endsAt: '2027-03-01T13:00:00+01:00',
  cancellationDeadline: '2027-02-27T12:00:00+01:00',
  capacity: 12,
  ageRules: { minAge: 8, maxAge: 12 },
  publish: true,
};

const location = (what: string) => ({
  Location: { description: `Where to read the ${what}`, schema: z.string() },
});
const etag = { ETag: { description: 'Version of the body, for If-None-Match / If-Match', schema: z.string() } };
const adminEtag = {
  ETag: { description: 'The version of the event, "v<version>": send it as If-Match to change the event', schema: z.string() },
};
const ifMatch = (required: boolean) =>
  z.object({
    'If-Match': (required ? ifMatchHeaderSchema : ifMatchHeaderSchema.optional()).describe(
      required
        ? 'The ETag you read (e.g. "v3"); without it 428, when the event has changed since 412'
        : 'The ETag you read (e.g. "v3"); when sent and the event has changed since, 412',
    ),
  });
const malformedIfMatch = problem('validation-error', 'If-Match is not one ETag of the form "v<version>"');
const noEvent = problem('not-found', 'No event with this id that you may manage (malformed ids too)');
const stale = problem('precondition-failed', 'The event has changed since you read it (If-Match)');
const adminEvent = (description: string) => ({ description, schema: adminEventViewSchema, headers: adminEtag });

/** What public catalog reads send (src/http/caching.ts), on 200 and 304 alike. */
const publicCacheHeaders = {
  ...etag,
  'Cache-Control': {
    description: `How long caches may keep it: public, max-age=${publicReadCache.maxAgeSeconds}, stale-while-revalidate=${publicReadCache.staleWhileRevalidateSeconds}`,
    schema: z.string(),
  },
  Vary: { description: `The request headers the body depends on: ${publicReadCache.vary.join(', ')}`, schema: z.string() },
};
/** The API's own 1 s response cache, then max-age, then stale-while-revalidate (see publicReadCache). */
const publicStalenessSeconds = 1 + publicReadCache.maxAgeSeconds + publicReadCache.staleWhileRevalidateSeconds;
const publicReadHeaders = z.object({
  'Accept-Language': z.string().optional().describe('Used when `locale` is not given'),
  'If-None-Match': z.string().optional().describe('The ETag of a copy you have: 304 while it is current'),
});
const notModified = { description: 'Not modified: your copy (If-None-Match) is current', headers: publicCacheHeaders };

export const apiOperations: ApiOperation[] = [
  {
    method: 'post',
    path: '/v1/events/{eventId}/signups',
    operationId: 'requestSignup',
    summary: 'Sign up for an event',
    description:
      'Checks the event rules (window, platform, ages, party size, promo code), prices the signup, and records ' +
      'it with its seats and its workflow in one transaction; the answer comes at the commit and says where it ' +
      'stands: `confirmed` (free: the ticket codes are in it), `held` (paid: the seats are yours while you pay), ' +
      '`waitlisted` (with its position), or `requested` when a guardian must consent first (the requester is a ' +
      'minor below the consent age; no seat is held meanwhile). Full with no waiting list is 409 and nothing is ' +
      'written. A held signup carries `payment.clientSecret` once its PaymentIntent exists: confirm it with ' +
      'Stripe before `holdExpiresAt`. Follow the signup with GET /v1/signups/{signupId}/events (or read it at Location).',
    tags: ['signups'],
    auth: 'signed-in',
    params: eventPath,
    headers: z.object({
      'Idempotency-Key': idempotencyHeaders.shape['idempotency-key'].describe(
        'Send one per intended signup (e.g. a UUID) and repeat it on retries: the same key answers the same signup',
      ),
    }),
    body: signupRequestSchema.meta({ id: 'SignupRequest' }),
    bodyExample: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }, { firstName: 'Kari', age: 41, kind: 'adult' }], platform: 'ios', locale: 'nb' },
    responses: {
      202: {
        description: 'Accepted and recorded; its workflow carries it on',
        schema: signupViewSchema,
        headers: {
          ...location('signup'),
          'Idempotent-Replayed': { description: '`true` when this answers an earlier request with the same key', schema: z.literal('true') },
        },
      },
      404: problem('not-found', 'No published event with this id'),
      409: problem(['signup-exists', 'sold-out'], 'You already have an active signup for this event (Location points at it), or the event is full with no waiting list'),
      422: problem(['signup-not-eligible', 'idempotency-key-reused'], 'The signup breaks an event rule (each offending field named), or the Idempotency-Key was used for a different request'),
    },
  },
  {
    method: 'get',
    path: '/v1/signups/{signupId}',
    operationId: 'getSignup',
    summary: 'Read a signup',
    description: 'Its owner and admins see it; anyone else gets 404, so ids do not leak.',
    tags: ['signups'],
    auth: 'signed-in',
    params: signupPath,
    responses: {
      200: { description: 'The signup', schema: signupViewSchema },
      404: problem('not-found', 'No signup with this id that you may see'),
    },
  },
  {
    method: 'post',
    path: '/v1/signups/{signupId}/confirm',
    operationId: 'confirmSignup',
    summary: 'Take seats offered from the waiting list',
    description:
      'Only the owner, for a free signup whose seats were offered from the waiting list (`offeredAt`), before ' +
      '`holdExpiresAt`. Paid signups are confirmed by their payment. Confirming a confirmed signup changes nothing.' +
      ' While Temporal is unreachable this is refused at once (503 with Retry-After, nothing done), not queued: send it again.',
    tags: ['signups'],
    auth: 'signed-in',
    params: signupPath,
    responses: {
      200: { description: 'The confirmed signup', schema: signupViewSchema },
      404: problem('not-found', 'No signup with this id of yours'),
      409: problem('signup-not-held', 'There is no offer to take (it ran out, or the signup is paid or not offered)'),
    },
  },
  {
    method: 'post',
    path: '/v1/signups/{signupId}/cancel',
    operationId: 'cancelSignup',
    summary: 'Cancel a signup',
    description:
      "Only the owner, until the event's cancellation deadline (its start when it has none). Seats go to the " +
      "waiting list; what was paid is refunded as the event's refund policy says, and a receipt is mailed. " +
      'Cancelling a cancelled signup changes nothing.' +
      ' While Temporal is unreachable this is refused at once (503 with Retry-After, nothing done), not queued: send it again.',
    tags: ['signups'],
    auth: 'signed-in',
    params: signupPath,
    body: cancelSignupBodySchema.meta({ id: 'CancelSignupRequest' }),
    responses: {
      200: { description: 'The cancelled signup (refundedMinor: what is refunded)', schema: signupViewSchema },
      404: problem('not-found', 'No signup with this id of yours'),
      409: problem(['cancellation-deadline-passed', 'signup-not-active'], 'Too late to cancel, or the signup has already ended'),
    },
  },
  {
    method: 'get',
    path: '/v1/me/signups',
    operationId: 'listMySignups',
    summary: 'Your signups',
    description: 'Newest first, a page at a time: pass nextCursor as cursor for the next page.',
    tags: ['signups'],
    auth: 'signed-in',
    query: mySignupsQuerySchema,
    responses: { 200: { description: 'A page of your signups', schema: signupPageSchema } },
  },
  {
    method: 'delete',
    path: '/v1/admin/events/{eventId}/participants/{signupId}',
    operationId: 'removeParticipant',
    summary: 'Remove a participant',
    description:
      'Cancels the signup through its workflow (seats to the waiting list, a full refund of what was paid) and ' +
      'tells the participant, with the reason. Organizers in scope and admins; no deadline applies.' +
      ' While Temporal is unreachable this is refused at once (503 with Retry-After, nothing done), not queued: send it again.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: removeParticipantPath,
    body: removeParticipantBodySchema.meta({ id: 'RemoveParticipantRequest' }),
    responses: {
      200: { description: 'The cancelled signup', schema: signupViewSchema },
      404: problem('not-found', 'No signup with this id for an event you manage'),
      409: problem('signup-not-active', 'The signup has already ended'),
    },
  },
  {
    method: 'get',
    path: '/v1/consents/{token}',
    operationId: 'getConsentRequest',
    summary: 'What a guardian is asked to consent to',
    description: 'The token from the consent e-mail is the credential; no account is needed.',
    tags: ['consents'],
    auth: 'public',
    params: consentPathSchema,
    responses: {
      200: { description: 'The request', schema: consentRequestSchema },
      404: problem('consent-link-invalid'),
      410: problem('consent-link-expired'),
    },
  },
  {
    method: 'post',
    path: '/v1/consents/{token}',
    operationId: 'decideConsent',
    summary: 'Approve or decline a signup as its guardian',
    description:
      'Single use: the first decision counts; the signup goes on (seats) or is rejected.' +
      ' While Temporal is unreachable this is refused at once (503 with Retry-After) and not recorded, so the link still works: send it again.',
    tags: ['consents'],
    auth: 'public',
    params: consentPathSchema,
    body: consentDecisionBodySchema.meta({ id: 'ConsentDecisionRequest' }),
    responses: {
      200: { description: 'Recorded', schema: consentDecisionSchema },
      404: problem('consent-link-invalid'),
      409: problem('consent-already-given'),
      410: problem('consent-link-expired'),
    },
  },
  {
    method: 'get',
    path: '/v1/admin/signups/{signupId}/consent',
    operationId: 'getConsentRecord',
    summary: "A signup's consent record",
    description:
      'Which guardian address was asked, when the link was sent and answered, the decision, the version of the text ' +
      'shown, and the answering user agent and truncated address. Admins only: organizers never see guardian addresses.',
    tags: ['admin'],
    auth: ['admin'],
    params: consentRecordPathSchema,
    responses: {
      200: { description: 'The record', schema: consentRecordSchema },
      404: problem('not-found', 'No consent was asked for this signup'),
    },
  },
  {
    method: 'get',
    path: '/v1/me/data',
    operationId: 'exportMyData',
    summary: 'Everything stored about you',
    description:
      'Your contact details, interests, signups with their attendees, payment references, consent records and the ' +
      'notifications sent to you, as one JSON document (GDPR art. 15 and 20). docs/privacy.md says what each field is.',
    tags: ['privacy'],
    auth: 'signed-in',
    responses: { 200: { description: 'The export', schema: personalDataExportSchema } },
  },
  {
    method: 'delete',
    path: '/v1/me',
    operationId: 'eraseMe',
    summary: 'Erase your data',
    description:
      'Starts a durable erasure: your active signups are cancelled (refunds by the event\'s policy, as when you cancel), ' +
      'then your contact details, notification preferences, interests and notification log are deleted and your signups, attendees and consent ' +
      'records anonymized; amounts and Stripe references stay for the books without anything that points at you. ' +
      'Idempotent while it runs. Follow it at the Location.',
    tags: ['privacy'],
    auth: 'signed-in',
    responses: {
      202: {
        description: 'The erasure, started',
        schema: erasureViewSchema,
        headers: { Location: { description: 'Its status URL', schema: z.string() } },
      },
      503: problem('service-unavailable', 'The workflow could not be started; send the request again (Retry-After)'),
    },
  },
  {
    method: 'get',
    path: '/v1/me/erasures/{erasureId}',
    operationId: 'getMyErasure',
    summary: 'Where your erasure stands',
    tags: ['privacy'],
    auth: 'signed-in',
    params: erasurePathSchema,
    responses: {
      200: { description: 'The erasure', schema: erasureViewSchema },
      404: problem('not-found', 'No erasure of yours with this id'),
    },
  },
  {
    method: 'get',
    path: '/v1/me/notification-preferences',
    operationId: 'getMyNotificationPreferences',
    summary: 'How you are told',
    description:
      'Your channels (e-mail on or off, a push or webhook endpoint), the optional kinds you turned off, and your ' +
      'marketing consent with when it was given and withdrawn. Never saved: the defaults (e-mail on, nothing turned off, no consent).',
    tags: ['privacy'],
    auth: 'signed-in',
    responses: { 200: { description: 'Your preferences', schema: notificationPreferencesSchema } },
  },
  {
    method: 'put',
    path: '/v1/me/notification-preferences',
    operationId: 'putMyNotificationPreferences',
    summary: 'Choose how you are told',
    description:
      'Replaces your preferences. Confirmations, receipts, refunds, consent and cancellation messages always go ' +
      '(only reminders, thank-yous and signups-opening mails can be turned off); announcements of new events go only ' +
      'with marketing consent. The webhook URL is checked like outbound webhooks (http(s), https in production).',
    tags: ['privacy'],
    auth: 'signed-in',
    body: notificationPreferencesBodySchema,
    bodyExample: {
      channels: { email: { enabled: true }, webhook: { url: 'https://push.example.com/eventbook' } },
      optedOut: ['reminder'],
      marketing: { consent: true },
    },
    responses: {
      200: { description: 'Saved', schema: notificationPreferencesSchema },
      422: problem(
        'rule-violation',
        'A kind that always goes was turned off, e-mail switched off without a webhook, a webhook where this deployment sends none, or http in production',
      ),
    },
  },
  {
    method: 'get',
    path: '/consent/{token}',
    operationId: 'showConsentPage',
    summary: "The guardian's consent page (HTML)",
    description:
      'The link in the consent e-mail opens this server-rendered page (en, nb; `lang` or Accept-Language picks): what ' +
      'is asked, a privacy notice and an approve/decline form. Not JSON: a bad link is a 404 page, an expired one a ' +
      '410 page, a used one shows what was decided.',
    tags: ['consents'],
    auth: 'public',
    params: consentPagePathSchema,
    query: consentPageQuerySchema,
    validatesRequest: false,
    responses: {
      200: { description: 'The question, or what was decided with a used link', schema: consentPageSchema, contentType: 'text/html' },
      404: { description: 'The "link not valid" page', schema: consentPageSchema, contentType: 'text/html' },
      410: { description: 'The "link expired" page', schema: consentPageSchema, contentType: 'text/html' },
    },
  },
  {
    method: 'post',
    path: '/consent/{token}',
    operationId: 'answerConsentPage',
    summary: "The consent page's form: approve or decline (HTML)",
    description:
      'Posted by the page itself (url-encoded), with its per-page form token (CSRF). Answers the confirmation page; ' +
      'single use like POST /v1/consents/{token}.',
    tags: ['consents'],
    auth: 'public',
    params: consentPagePathSchema,
    body: consentPageFormSchema,
    bodyContentType: 'application/x-www-form-urlencoded',
    validatesRequest: false,
    responses: {
      200: { description: 'The confirmation page', schema: consentPageSchema, contentType: 'text/html' },
      400: { description: 'The form again, asking to tick the guardian box', schema: consentPageSchema, contentType: 'text/html' },
      403: { description: 'The form again: the form token was missing, old or not ours', schema: consentPageSchema, contentType: 'text/html' },
      404: { description: 'The "link not valid" page', schema: consentPageSchema, contentType: 'text/html' },
      409: { description: 'The "link used" page', schema: consentPageSchema, contentType: 'text/html' },
      410: { description: 'The "link expired" page', schema: consentPageSchema, contentType: 'text/html' },
    },
  },
  {
    method: 'post',
    path: '/v1/webhooks/stripe',
    operationId: 'stripeWebhook',
    summary: "Stripe's payment events",
    description:
      'For Stripe only: the Stripe-Signature header is verified over the raw body. payment_intent.payment_failed ' +
      'and .canceled go to the signup they belong to. payment_intent.succeeded is read back from Stripe: a payment ' +
      'of the amount and currency the signup was quoted goes to its signup; any other succeeded payment naming a ' +
      'signup of ours (cancelled, ended, event cancelled, not as quoted) goes to its refund flow, which refunds it ' +
      'in full. Other types are acknowledged and ignored. 503 (Retry-After) while Stripe or the workflow service ' +
      'cannot be reached: deliver the event again.',
    tags: ['payments'],
    auth: 'public',
    headers: z.object({ 'Stripe-Signature': z.string().describe("Stripe's signature header") }),
    validatesRequest: false,
    responses: {
      200: { description: 'Received', schema: stripeWebhookResultSchema },
      400: problem('webhook-signature-invalid'),
      503: problem('service-unavailable', 'Stripe or the workflow service is not reachable; deliver the event again'),
    },
  },
  {
    method: 'get',
    path: '/v1/signups/{signupId}/events',
    operationId: 'followSignup',
    summary: 'Follow a signup (server-sent events)',
    description:
      'Its owner and admins; anyone else gets 404. Errors are answered before the stream starts, as problem ' +
      'documents. Use this instead of polling GET /v1/signups/{signupId} (e.g. with EventSource, which cannot ' +
      'send an Authorization header: use a fetch-based client).',
    tags: ['signups'],
    auth: 'signed-in',
    params: signupPath,
    responses: {
      200: { description: 'The event stream', contentType: 'text/event-stream', schema: signupEventStreamSchema },
      404: problem('not-found', 'No signup with this id that you may see'),
      503: problem('service-unavailable', 'Live updates are not available on this server right now (e.g. it is shutting down)'),
    },
  },
  {
    method: 'post',
    path: '/v1/admin/events',
    operationId: 'createEvent',
    summary: 'Create an event',
    description: 'A draft, or published at once with `publish: true`. Organizers only in the markets their token grants.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    body: createEventBodySchema.meta({ id: 'NewEvent' }),
    bodyExample: newEventExample,
    responses: {
      201: { description: 'Created', schema: adminEventViewSchema, headers: { ...location('event'), ...etag } },
      403: problem('forbidden', 'Your role, or your markets, do not allow this'),
      422: problem('rule-violation', 'The event breaks a business rule (schedule, prices, age rules, market)'),
    },
  },
  {
    method: 'get',
    path: '/v1/admin/events',
    operationId: 'listAdminEvents',
    summary: 'List the events you manage',
    description: 'Organizers see the markets (and categories) their token grants; admins see all. Ordered by start time.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    query: listEventsQuerySchema,
    responses: {
      200: { description: 'A page of events', schema: adminEventPageSchema },
    },
  },
  {
    method: 'get',
    path: '/v1/admin/events/{eventId}',
    operationId: 'getAdminEvent',
    summary: 'Read an event, with everything an organizer manages',
    description:
      'The ETag names the editable state; the live counters move without a new version, so If-None-Match is ' +
      'not honoured (always 200). Send the ETag as If-Match when you change the event.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    validatesRequest: false,
    responses: {
      200: adminEvent('The event'),
      404: noEvent,
    },
  },
  {
    method: 'patch',
    path: '/v1/admin/events/{eventId}',
    operationId: 'updateEvent',
    summary: 'Change an event',
    description:
      'Any subset of the create fields; absent fields stay, optional ones are cleared with null. `translations`, ' +
      '`ticketTypes` and `promoCodes` are replaced whole when present (matched by code, so kept codes keep their ' +
      'counters). A patch that changes nothing keeps the version. Cancelled events cannot be edited.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    headers: ifMatch(true),
    body: patchEventBodySchema.meta({ id: 'EventPatch' }),
    bodyExample: { capacity: 20 },
    responses: {
      200: adminEvent('The changed event'),
      400: problem(['validation-error', 'malformed-json'], 'The body or If-Match is not valid; `errors` names each bad value'),
      403: problem('forbidden', 'Your role does not allow this, or the change moves the event out of your markets'),
      404: noEvent,
      409: problem('event-state-conflict', 'The event is cancelled'),
      412: stale,
      422: problem('rule-violation', 'The changed event breaks a business rule, or what signups already use'),
      428: problem('precondition-required', 'If-Match is missing'),
    },
  },
  {
    method: 'delete',
    path: '/v1/admin/events/{eventId}',
    operationId: 'deleteEvent',
    summary: 'Delete a draft',
    description: 'Drafts only, and only while nobody ever signed up. Its history stays readable for admins.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    headers: ifMatch(true),
    validatesRequest: false,
    responses: {
      204: { description: 'Deleted' },
      400: malformedIfMatch,
      404: noEvent,
      409: problem('event-state-conflict', 'Not a draft, or it has signups'),
      412: stale,
      428: problem('precondition-required', 'If-Match is missing'),
    },
  },
  {
    method: 'post',
    path: '/v1/admin/events/{eventId}/publish',
    operationId: 'publishEvent',
    summary: 'Publish a draft',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    headers: ifMatch(false),
    validatesRequest: false,
    responses: {
      200: adminEvent('The published event'),
      400: malformedIfMatch,
      404: noEvent,
      409: problem('event-state-conflict', 'The event is not a draft, or changed meanwhile'),
      412: stale,
      422: problem('rule-violation', 'The event breaks a business rule and cannot be published'),
    },
  },
  {
    method: 'post',
    path: '/v1/admin/events/{eventId}/unpublish',
    operationId: 'unpublishEvent',
    summary: 'Take a published event back to draft',
    description: 'Only before its announcement, and only while it has no signups.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    headers: ifMatch(false),
    validatesRequest: false,
    responses: {
      200: adminEvent('The event, a draft again'),
      400: malformedIfMatch,
      404: noEvent,
      409: problem('event-state-conflict', 'Not published, already announced, or it has signups'),
      412: stale,
    },
  },
  {
    method: 'post',
    path: '/v1/admin/events/{eventId}/cancel',
    operationId: 'cancelEvent',
    summary: 'Cancel a published event',
    description:
      'The event is cancelled at once (no more signups). Its lifecycle workflow then cancels every active ' +
      'signup through its own workflow: paid ones are refunded in full, everyone is told with the reason, ' +
      'the waiting list is closed. Cancelling a cancelled event again changes nothing and hands it to the ' +
      'workflow again (safe to retry).',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    headers: ifMatch(false),
    body: cancelEventBodySchema.meta({ id: 'CancelEventRequest' }),
    responses: {
      200: adminEvent('The cancelled event'),
      404: noEvent,
      409: problem('event-state-conflict', 'Not published (a draft), or already over'),
      412: stale,
    },
  },
  {
    method: 'get',
    path: '/v1/admin/events/{eventId}/history',
    operationId: 'getEventHistory',
    summary: 'Read the edit history of an event',
    description: "Newest first. A deleted draft's history stays readable for admins.",
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    query: historyQuerySchema,
    responses: {
      200: { description: 'A page of changes', schema: eventChangePageSchema },
      404: noEvent,
    },
  },
  {
    method: 'get',
    path: '/v1/admin/events/{eventId}/participants',
    operationId: 'listParticipants',
    summary: 'List the attendees of an event',
    description:
      'One row per attendee, with minimal personal data (first name or initials, age group) and the needs note ' +
      '(allergies, accessibility) the participant gave; an answer carrying needs notes is logged (who, when, how many). By Accept: ' +
      'application/json (a page) or text/csv (every matching row, as a download; page and limit are ignored).',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    query: participantsQuerySchema,
    responses: {
      200: {
        description: 'The attendees',
        content: { 'application/json': participantPageSchema, 'text/csv': participantsCsvSchema },
        headers: {
          'Content-Disposition': { description: 'For text/csv: attachment; filename="participants-<eventId>.csv"', schema: z.string() },
        },
      },
      404: noEvent,
      406: problem('not-acceptable', 'Accept allows neither application/json nor text/csv'),
    },
  },
  {
    method: 'post',
    path: '/v1/admin/events/{eventId}/participants/{signupId}/check-in',
    operationId: 'checkInParticipant',
    summary: 'Check in a confirmed signup',
    description: 'Idempotent: checking in again keeps the first time and who did it.',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: signupIdParamsSchema,
    validatesRequest: false,
    responses: {
      200: { description: 'Checked in', schema: checkInResultSchema },
      404: problem('not-found', 'No such event you may manage, or no such signup for it (malformed ids too)'),
      409: problem('signup-not-confirmed', 'The signup is not confirmed'),
    },
  },
  {
    method: 'get',
    path: '/v1/admin/events/{eventId}/stats',
    operationId: 'getEventStats',
    summary: 'Seats, signups and revenue of an event',
    tags: ['admin'],
    auth: ['organizer', 'admin'],
    params: eventIdParamsSchema,
    validatesRequest: false,
    responses: {
      200: { description: 'The numbers', schema: eventStatsSchema },
      404: noEvent,
    },
  },
  {
    method: 'get',
    path: '/v1/events',
    operationId: 'listPublicEvents',
    summary: 'Browse the catalog',
    description:
      'Published, announced events, by start time, in one language, with their availability. Filters combine ' +
      '(all must hold). Paged by cursor: follow `nextCursor` until it is null. An unknown parameter is a 400 ' +
      'naming it, so a typo is not silently ignored.',
    tags: ['events'],
    auth: 'public',
    query: listPublicEventsQuerySchema,
    headers: publicReadHeaders,
    responses: {
      200: {
        description: `A page of events (may be up to ${publicStalenessSeconds} s old: caches may keep it)`,
        schema: publicEventPageSchema,
        headers: publicCacheHeaders,
      },
      304: notModified,
    },
  },
  {
    method: 'get',
    path: '/v1/events/{eventId}',
    operationId: 'getPublicEvent',
    summary: 'Read a published event',
    tags: ['events'],
    auth: 'public',
    params: publicEventPathSchema,
    query: publicEventQuerySchema,
    headers: publicReadHeaders,
    responses: {
      200: {
        description: `The event, with its availability (may be up to ${publicStalenessSeconds} s old: caches may keep it)`,
        schema: publicEventDetailSchema,
        headers: publicCacheHeaders,
      },
      304: notModified,
      404: problem('not-found', 'No published event with this id (drafts included)'),
    },
  },
  {
    method: 'post',
    path: '/v1/events/{eventId}/notify-me',
    operationId: 'notifyMe',
    summary: 'Get a mail when signups for an event open',
    description:
      'Asking is your opt-in to that mail. Published, announced events only (anything else is 404, like the ' +
      'catalog). Idempotent: 201 the first time, 200 when you asked already.',
    tags: ['interests'],
    auth: 'signed-in',
    params: notifyMePathSchema,
    responses: {
      200: { description: 'You had asked already', schema: interestViewSchema },
      201: { description: 'Recorded', schema: interestViewSchema },
      404: problem('not-found', 'No published event with this id'),
      422: problem('rule-violation', 'You follow too many things already'),
    },
  },
  {
    method: 'delete',
    path: '/v1/events/{eventId}/notify-me',
    operationId: 'stopNotifyMe',
    summary: 'No mail when signups for an event open after all',
    description: 'Also 204 when you had not asked.',
    tags: ['interests'],
    auth: 'signed-in',
    params: notifyMePathSchema,
    responses: { 204: { description: 'Not asked (any more)' } },
  },
  {
    method: 'get',
    path: '/v1/me/interests',
    operationId: 'listMyInterests',
    summary: 'What you follow',
    tags: ['interests'],
    auth: 'signed-in',
    responses: { 200: { description: 'Everything you follow', schema: interestListSchema } },
  },
  {
    method: 'post',
    path: '/v1/me/interests',
    operationId: 'followInterest',
    summary: 'Follow a category or a market',
    description:
      'You will hear about new events in it when they are announced: following is your opt-in to those mails. ' +
      'Idempotent: 201 the first time, 200 when you follow it already.',
    tags: ['interests'],
    auth: 'signed-in',
    body: followBodySchema.meta({ id: 'FollowRequest' }),
    bodyExample: { kind: 'category', value: 'workshop' },
    responses: {
      200: { description: 'You followed it already', schema: interestViewSchema },
      201: { description: 'Followed', schema: interestViewSchema },
      422: problem('rule-violation', 'You follow too many things already'),
    },
  },
  {
    method: 'delete',
    path: '/v1/me/interests/{kind}/{value}',
    operationId: 'unfollowInterest',
    summary: 'Stop following a category or a market',
    description: 'Also 204 when you did not follow it.',
    tags: ['interests'],
    auth: 'signed-in',
    params: interestPathSchema,
    responses: { 204: { description: 'Not followed (any more)' } },
  },
  {
    method: 'get',
    path: '/v1/ops/flows',
    operationId: 'listFlows',
    summary: 'Find workflows by a visibility query',
    description:
      'Without `query`: flows that failed, timed out, or wait for an operator (`Attention` set). Any Temporal ' +
      'visibility query otherwise, e.g. `SignupStatus = "held"`. A query Temporal refuses is a 400.',
    tags: ['ops'],
    auth: opsRoles,
    query: listFlowsQuerySchema,
    responses: { 200: { description: 'The matching flows', schema: flowListSchema } },
  },
  {
    method: 'get',
    path: '/v1/ops/flows/{workflowId}',
    operationId: 'showFlow',
    summary: 'Look inside a workflow',
    description: 'Status, search attributes, memo summary, its query answer, pending activities with their last failure, and the end of its history.',
    tags: ['ops'],
    auth: opsRoles,
    params: flowPathSchema,
    responses: {
      200: { description: 'The flow', schema: flowDetailSchema },
      404: problem('not-found', 'No workflow with this id'),
    },
  },
  {
    method: 'post',
    path: '/v1/ops/flows/{workflowId}/retry',
    operationId: 'retryFlowStep',
    summary: 'Ask a waiting flow to try its step again',
    description: 'Sends the retryStep signal (after the cause, e.g. Stripe being down, is fixed). Running flows only.',
    tags: ['ops'],
    auth: opsRoles,
    params: flowPathSchema,
    body: retryBodySchema.meta({ id: 'OpsRetryRequest' }),
    bodyExample: { reason: 'Stripe is back (incident 123)' },
    responses: {
      200: { description: 'Signalled', schema: retryResultSchema },
      404: problem('not-found', 'No workflow with this id'),
      409: problem(['flow-not-running', 'flow-changed'], 'The workflow has ended (reset it instead), or it ended while this ran (another reset or retry)'),
    },
  },
  {
    method: 'post',
    path: '/v1/ops/flows/{workflowId}/reset',
    operationId: 'resetFlow',
    summary: 'Reset a workflow to a workflow task',
    description:
      'The newest run is reset: a new run replays its history up to the chosen workflow task and goes on from ' +
      'there with the code deployed now; the old run is terminated (running) or stays as it ended. Signals after ' +
      'the point are applied again.',
    tags: ['ops'],
    auth: opsRoles,
    params: flowPathSchema,
    body: resetBodySchema.meta({ id: 'OpsResetRequest' }),
    bodyExample: { to: 'last-workflow-task', reason: 'bad deploy 2027-01-02 rolled back' },
    responses: {
      200: { description: 'Reset: the new run', schema: resetResultSchema },
      404: problem('not-found', 'No workflow with this id'),
      409: problem('flow-changed', 'Another reset or retry changed the workflow while this ran: read it again'),
      422: problem('reset-point-invalid', 'No workflow task at that point (or the event is not the end of one)'),
    },
  },
  {
    method: 'post',
    path: '/v1/ops/batch-reset',
    operationId: 'batchResetFlows',
    summary: 'Reset every workflow a query matches',
    description: 'One reset per workflow (its newest run; a workflow whose matched run is no longer its newest is skipped), each audited; the answer reports each.',
    tags: ['ops'],
    auth: opsRoles,
    body: batchResetBodySchema.meta({ id: 'OpsBatchResetRequest' }),
    bodyExample: { query: 'ExecutionStatus = "Failed" AND FlowKind = "signup"', to: 'last-workflow-task', reason: 'bad deploy rolled back' },
    responses: { 200: { description: 'What happened to each workflow', schema: batchResetResultSchema } },
  },
  {
    method: 'get',
    path: '/v1/ops/audit',
    operationId: 'listOpsAudit',
    summary: 'The operations audit log',
    description: 'Who did what to which flow and why, newest first; follow nextCursor for older entries.',
    tags: ['ops'],
    auth: opsRoles,
    query: auditQuerySchema,
    responses: { 200: { description: 'A page of audit entries', schema: auditPageSchema } },
  },
  {
    method: 'get',
    path: '/v1/ops/notifications/failed',
    operationId: 'listFailedDeliveries',
    summary: 'Notifications that could not be delivered',
    description:
      'A recipient a fan-out could not reach (a webhook that is down, an address the mail server refuses) is retried on ' +
      'its own schedule (NOTIFICATION_RETRY_ATTEMPTS, NOTIFICATION_RETRY_INITIAL_SECONDS) while the event goes on; when the ' +
      'tries run out it is listed here, per recipient and channel, newest first.',
    tags: ['ops'],
    auth: opsRoles,
    query: failedDeliveriesQuerySchema,
    responses: { 200: { description: 'Failed deliveries', schema: failedDeliveryPageSchema } },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness',
    tags: ['operations'],
    auth: 'public',
    responses: { 200: { description: 'The process runs', schema: healthSchema } },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'getReadiness',
    summary: 'Readiness',
    description: 'For load balancers and orchestrators: 503 (with the same body, not a problem) while a peer is unreachable.',
    tags: ['operations'],
    auth: 'public',
    responses: {
      200: { description: 'Ready', schema: readinessSchema },
      503: { description: 'The database or Temporal does not answer', schema: readinessSchema },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description:
      'The eventbook_* metrics (request durations by route template, signups by status, holds, confirmations, ' +
      'refunds, notifications) and the process metrics, in the Prometheus text format. Meant for a scraper: ' +
      'keep it off the public internet at the ingress.',
    tags: ['operations'],
    auth: 'public',
    responses: {
      200: {
        description: 'Prometheus text exposition format',
        content: { 'text/plain': z.string().regex(/^# HELP eventbook_/m).meta({ id: 'PrometheusMetrics' }) },
      },
    },
  },
  {
    method: 'get',
    path: '/problems/{slug}',
    operationId: 'getProblemType',
    summary: 'Describe a problem type',
    description: 'The `type` of every problem document resolves here.',
    tags: ['operations'],
    auth: 'public',
    params: z.object({ slug: z.string().describe('e.g. validation-error') }),
    validatesRequest: false,
    responses: {
      200: { description: 'What the problem type means', schema: problemTypeSchema },
      404: problem('not-found', 'No such problem type'),
    },
  },
  {
    method: 'post',
    path: '/v1/admin/webhook-endpoints',
    operationId: 'createWebhookEndpoint',
    summary: 'Register an outbound webhook endpoint',
    description:
      'Messages of the chosen types (`signup.confirmed`, `signup.cancelled`, `signup.waitlisted`, `event.published`, ' +
      '`event.changed`, `event.cancelled`) about events in the endpoint\'s market (and category) are POSTed to its URL as ' +
      '`{ type, timestamp, data }`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 ' +
      'HMAC-SHA256>` with the secret in this answer, shown only here). Retried with exponential backoff for about a day; after ' +
      'a run of messages that failed every attempt the endpoint is disabled and its owner mailed. Organizers: one of their markets.',
    tags: ['webhooks'],
    auth: ['organizer', 'admin'],
    body: createWebhookEndpointBodySchema,
    bodyExample: { url: 'https://tools.example.com/eventbook', eventTypes: ['signup.confirmed', 'signup.cancelled'], market: 'NO' },
    responses: {
      201: { description: 'Registered; keep the secret', schema: createdWebhookEndpointSchema, headers: { Location: { description: 'The endpoint', schema: z.string() } } },
      422: problem('rule-violation', 'A market or category outside your scope'),
    },
  },
  {
    method: 'get',
    path: '/v1/admin/webhook-endpoints',
    operationId: 'listWebhookEndpoints',
    summary: 'Webhook endpoints in your scope',
    tags: ['webhooks'],
    auth: ['organizer', 'admin'],
    responses: { 200: { description: 'Oldest first', schema: webhookEndpointListSchema } },
  },
  {
    method: 'get',
    path: '/v1/admin/webhook-endpoints/{endpointId}',
    operationId: 'getWebhookEndpoint',
    summary: 'One webhook endpoint (without its secret)',
    tags: ['webhooks'],
    auth: ['organizer', 'admin'],
    params: webhookEndpointPathSchema,
    responses: { 200: { description: 'The endpoint', schema: webhookEndpointViewSchema }, 404: problem('not-found') },
  },
  {
    method: 'patch',
    path: '/v1/admin/webhook-endpoints/{endpointId}',
    operationId: 'updateWebhookEndpoint',
    summary: 'Change, pause or re-enable a webhook endpoint',
    tags: ['webhooks'],
    auth: ['organizer', 'admin'],
    params: webhookEndpointPathSchema,
    body: patchWebhookEndpointBodySchema,
    bodyExample: { enabled: true },
    responses: { 200: { description: 'The endpoint', schema: webhookEndpointViewSchema }, 404: problem('not-found') },
  },
  {
    method: 'delete',
    path: '/v1/admin/webhook-endpoints/{endpointId}',
    operationId: 'deleteWebhookEndpoint',
    summary: 'Remove a webhook endpoint and its delivery log',
    tags: ['webhooks'],
    auth: ['organizer', 'admin'],
    params: webhookEndpointPathSchema,
    responses: { 204: { description: 'Removed' }, 404: problem('not-found') },
  },
  {
    method: 'get',
    path: '/v1/admin/webhook-endpoints/{endpointId}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: "An endpoint's delivery log",
    description: 'One row per message: status (pending, delivered, failed, skipped), attempts, the last answer or error. Newest first.',
    tags: ['webhooks'],
    auth: ['organizer', 'admin'],
    params: webhookEndpointPathSchema,
    query: deliveriesQuerySchema,
    responses: { 200: { description: 'Newest first', schema: webhookDeliveryListSchema }, 404: problem('not-found') },
  },
  {
    method: 'post',
    path: '/v1/admin/webhook-endpoints/{endpointId}/deliveries/{deliveryId}/redeliver',
    operationId: 'redeliverWebhook',
    summary: 'Send one message again',
    description: 'A new round of the delivery with the same `webhook-id` (receivers that saw it can drop it), started within a second.',
    tags: ['webhooks'],
    auth: ['organizer', 'admin'],
    params: webhookDeliveryPathSchema,
    responses: {
      202: { description: 'Queued', schema: redeliveryResultSchema },
      404: problem('not-found'),
      409: problem('event-state-conflict', 'The delivery is still running, or the endpoint is disabled'),
    },
  },
];
