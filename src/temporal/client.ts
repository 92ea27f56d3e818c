import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type GrpcRetryOptions } from '@temporalio/client';
import type { Config } from '../config.js';
import { tracingClientInterceptors, type Tracing } from '../observability/tracing.js';

/**
 * How long a request handler waits for Temporal: a call not answered by then fails with
 * DEADLINE_EXCEEDED (the SDK's own retries of UNAVAILABLE included), which the HTTP edge answers
 * 503 with Retry-After (src/http/errors.ts). Short enough for a 2 s answer while Temporal is down
 * (the database reads before the call and the SDK's last retry sleep come on top),
 * instead of the SDK's retries taking about 20 s.
 */
export const REQUEST_TEMPORAL_DEADLINE_MS = 1_000;

/** Runs a request's Temporal calls under REQUEST_TEMPORAL_DEADLINE_MS (all calls inside `fn`): for signals and starts. */
export function withRequestDeadline<T>(temporal: Client, fn: () => Promise<T>): Promise<T> {
  return temporal.connection.withDeadline(Date.now() + REQUEST_TEMPORAL_DEADLINE_MS, fn);
}

/**
 * How long a webhook waits for Temporal to take its signal. Longer than an app request's
 * (withRequestDeadline): nobody is looking at a spinner, and a 503 puts the confirmation off until
 * Stripe's next delivery, minutes or hours later, so a Temporal that is busy (a burst's starts) but up
 * must not earn one. Still well inside the time Stripe waits for an answer. A Temporal that is down
 * still gets its 503 at this bound, and the signup's flow asks Stripe itself when its hold ends.
 */
export const WEBHOOK_TEMPORAL_DEADLINE_MS = 5_000;

/** Runs a Stripe webhook's Temporal calls under WEBHOOK_TEMPORAL_DEADLINE_MS. */
export function withWebhookDeadline<T>(temporal: Client, fn: () => Promise<T>): Promise<T> {
  return temporal.connection.withDeadline(Date.now() + WEBHOOK_TEMPORAL_DEADLINE_MS, fn);
}

/**
 * An update's answer waits for the workflow's own work (a refund at Stripe, a seat move), which may
 * take longer than a short deadline while Temporal is fine. So: first a cheap call under the request
 * deadline (Temporal down: fails fast, 503, nothing sent), then the update under a longer bound.
 */
const UPDATE_DEADLINE_MS = 30_000;

export async function whenTemporalAnswers<T>(temporal: Client, fn: () => Promise<T>): Promise<T> {
  await withRequestDeadline(temporal, () => temporal.workflowService.getSystemInfo({}));
  return temporal.connection.withDeadline(Date.now() + UPDATE_DEADLINE_MS, fn);
}

/**
 * The SDK's retries of UNAVAILABLE, but never sleeping more than 200 ms between two tries: a sleep
 * that began before a request's deadline otherwise ran up to seconds past it, and the answer with
 * it (its backoff grows to 5 s; its own maxIntervalMs option is not applied in SDK 1.24).
 */
function shortSleepRetryOptions(): GrpcRetryOptions {
  const defaults = defaultGrpcRetryOptions();
  return { ...defaults, delayFunction: (attempt, status) => Math.min(defaults.delayFunction(attempt, status), 200) };
}

/** With `tracing`, workflow starts, signals and updates are spans whose context travels to the workflow in the headers. */
export async function connectTemporalClient(temporal: Pick<Config['temporal'], 'address' | 'namespace'>, tracing?: Tracing): Promise<Client> {
  const connection = await Connection.connect({
    address: temporal.address,
    interceptors: [makeGrpcRetryInterceptor(shortSleepRetryOptions())],
  });
  const interceptors = tracingClientInterceptors(tracing);
  return new Client({ connection, namespace: temporal.namespace, ...(interceptors ? { interceptors } : {}) });
}
