import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { mintDevToken } from '../../src/auth/tokens.js';
import type { Role } from '../../src/auth/principal.js';
import type { MikroORM } from '../../src/db/orm.js';
import { createStripeClient } from '../../src/payments/stripe-gateway.js';
import { Attendee } from '../../src/signups/attendee.entity.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { request, type JsonResponse } from './http.js';
import { mailTo, type ReceivedMail } from './mailbox.js';
import { eventually, type RunningApi } from './stack.js';
import { intentAtStripe, payAtStripe } from './stripe-control.js';

/**
 * Steps of the signup flow as a client (and Stripe) would take them, over the real REST API, for
 * the signup-*.test.ts files. Every user gets an address of its own, so mails never mix across tests.
 */

export interface TestUser {
  sub: string;
  email: string;
  token: string;
  guardianEmail?: string;
}

export async function newUser(
  api: RunningApi,
  options: { roles?: Role[]; markets?: string[]; birthdate?: string; guardian?: boolean; name?: string } = {},
): Promise<TestUser> {
  const id = randomUUID().slice(0, 8);
  const sub = `${options.name ?? 'user'}-${id}`;
  const email = `${sub}@test.eventbook.local`;
  const guardianEmail = options.guardian ? `guardian-${sub}@test.eventbook.local` : undefined;
  const token = await mintDevToken(api.config.jwt, {
    sub,
    roles: options.roles ?? ['participant'],
    markets: options.markets ?? [],
    extraClaims: {
      email,
      ...(options.birthdate ? { birthdate: options.birthdate } : {}),
      ...(guardianEmail ? { guardian_email: guardianEmail } : {}),
    },
  });
  return { sub, email, token, ...(guardianEmail ? { guardianEmail } : {}) };
}

export const adult = (firstName = 'Ada') => ({ firstName, age: 30, kind: 'adult' as const });
export const child = (firstName = 'Kim', age = 10) => ({ firstName, age, kind: 'child' as const });

export async function postSignup(
  api: RunningApi,
  user: TestUser,
  eventId: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  return request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
    token: user.token,
    body: { attendees: [adult()], platform: 'web', ...body },
    headers,
  });
}

/** POSTs a signup that must be accepted, and answers its id. */
export async function signUp(api: RunningApi, user: TestUser, eventId: string, body: Record<string, unknown> = {}): Promise<string> {
  const response = await postSignup(api, user, eventId, body);
  if (response.status !== 202) throw new Error(`signup refused: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

export async function getSignup(api: RunningApi, user: TestUser, signupId: string): Promise<Record<string, unknown>> {
  const response = await request(api.baseUrl, 'GET', `/v1/signups/${signupId}`, { token: user.token });
  if (response.status !== 200) throw new Error(`GET signup: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Waits until GET /v1/signups/{id} shows the status (and anything else `also` asks for). */
export async function waitForStatus(
  api: RunningApi,
  user: TestUser,
  signupId: string,
  status: string,
  timeoutMs = 30_000,
  also: (view: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> | undefined;
  try {
    return await eventually(
      `signup ${signupId} to be ${status}`,
      async () => {
        last = await getSignup(api, user, signupId);
        return last.status === status && also(last) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`, { cause: error });
  }
}

export async function signupRow(orm: MikroORM, signupId: string): Promise<Signup> {
  return orm.em.fork().findOneOrFail(Signup, signupId);
}

export async function attendeeRows(orm: MikroORM, signupId: string): Promise<Attendee[]> {
  return orm.em.fork().find(Attendee, { signup: signupId }, { orderBy: { firstName: 'asc' } });
}

/** Mails to the address whose subject matches, waiting until at least `count` arrived. */
export async function waitForMail(address: string, subject: RegExp, count = 1, timeoutMs = 20_000): Promise<ReceivedMail[]> {
  return eventually(
    `${count} mail(s) "${subject.source}" to ${address}`,
    async () => {
      const found = (await mailTo(address)).filter((mail) => subject.test(mail.subject));
      return found.length >= count ? found : undefined;
    },
    timeoutMs,
  );
}

export async function mailsMatching(address: string, subject: RegExp): Promise<ReceivedMail[]> {
  return (await mailTo(address)).filter((mail) => subject.test(mail.subject));
}

/** Subjects of the default English templates (src/notifications/default-templates.ts). */
export const subjects = {
  received: /^We got your signup for/,
  consentRequest: /wants to join/,
  receipt: /^Receipt:/,
  confirmation: /^You're in:/,
  waitlistOffer: /^A place opened up:/,
  rejection: /^Your signup for/,
  cancellation: /^Cancelled:/,
  refund: /^Refund:/,
};

const stripe = () => createStripeClient({ secretKey: 'sk_test_123', webhookSecret: 'unused' });

export type PaymentEventType = 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.canceled';

/** A Stripe event about the signup's intent, signed like Stripe signs it; answers the event id. */
export function stripeEvent(type: PaymentEventType, signupId: string, paymentIntentId: string, eventId = `evt_${randomUUID()}`) {
  return {
    id: eventId,
    object: 'event',
    type,
    data: { object: { id: paymentIntentId, object: 'payment_intent', status: type === 'payment_intent.succeeded' ? 'succeeded' : 'requires_payment_method', metadata: { signupId } } },
  };
}

/**
 * Signs and POSTs a Stripe event. A `payment_intent.succeeded` is first made true at Stripe (the
 * test stack's proxy marks the intent paid), as a real payment is before Stripe reports it; pass
 * `paidAtStripe: false` for an event that lies about it.
 */
export async function deliverWebhook(api: RunningApi, event: object, options: { paidAtStripe?: boolean } = {}): Promise<JsonResponse> {
  const sent = event as { type?: string; data?: { object?: { id?: string } } };
  const intentId = sent.data?.object?.id;
  if (sent.type === 'payment_intent.succeeded' && intentId && options.paidAtStripe !== false) {
    const intent = await intentAtStripe(intentId);
    if (intent.status !== 'succeeded') await payAtStripe(intentId);
  }
  const body = JSON.stringify(event);
  const header = stripe().webhooks.generateTestHeaderString({ payload: body, secret: api.config.stripe.webhookSecret });
  return request(api.baseUrl, 'POST', '/v1/webhooks/stripe', {
    rawBody: body,
    headers: { 'content-type': 'application/json', 'stripe-signature': header },
  });
}

/** Waits for the signup's PaymentIntent (created by the workflow) and answers its id. */
export async function paymentIntentOf(orm: MikroORM, signupId: string, timeoutMs?: number): Promise<string> {
  return eventually(`the payment intent of ${signupId}`, async () => (await signupRow(orm, signupId)).paymentIntentId ?? undefined, timeoutMs);
}

/** Names of the activities the signup's workflow scheduled, in order. */
export async function activitiesRun(client: Client, signupId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(`signup-${signupId}`).fetchHistory();
  return (history.events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityOf(event)?.type)
    .filter((name): name is string => typeof name === 'string');
}

/** The attempts of a signup's local activities of one type (the attempt that answered, one per run of it). */
export async function localActivityAttempts(client: Client, signupId: string, type: string): Promise<number[]> {
  const history = await client.workflow.getHandle(`signup-${signupId}`).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const local = localActivityOf(event);
    return local?.type === type ? [local.attempt] : [];
  });
}

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

/** A local activity's type and answering attempt, from its marker (the SDK core records `core_local_activity` with JSON details). */
function localActivityOf(event: HistoryEvent): { type: string; attempt: number } | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  const details = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string; attempt?: number };
  return details.activity_type ? { type: details.activity_type, attempt: details.attempt ?? 1 } : undefined;
}

/** Marketing consent (PUT /v1/me/notification-preferences): announcements go only to followers who gave it. */
export async function consentToAnnouncements(api: RunningApi, user: TestUser): Promise<void> {
  const answer = await request(api.baseUrl, 'PUT', '/v1/me/notification-preferences', {
    token: user.token,
    body: { channels: { email: { enabled: true }, webhook: { url: null } }, optedOut: [], marketing: { consent: true } },
  });
  if (answer.status !== 200) throw new Error(`marketing consent not saved: ${answer.status} ${JSON.stringify(answer.body)}`);
}
