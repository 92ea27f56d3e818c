/**
 * Stripe's webhook while Temporal is busy or down. The API reaches Temporal through a TCP proxy this
 * file slows or cuts (the worker uses the dev server directly). A Temporal that answers slowly but
 * answers (a burst's backlog) still takes the payment: a 503 there would put the confirmation off
 * until Stripe's next delivery. A Temporal that is down gets a 503 with Retry-After, the signup stays
 * held and unpaid in our rows, and the next delivery confirms it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { requireEnv } from '../support/environment.js';
import { deliverWebhook, newUser, signUp, signupRow, stripeEvent, waitForStatus } from '../support/signup-steps.js';
import { insertEvent, openTestOrm, startTestApi, startTestWorker, type RunningApi, type RunningWorker } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let orm: MikroORM;
let temporalProxy: TcpProxy;
let apiClient: Client;
let worker: RunningWorker;
let api: RunningApi;

beforeAll(async () => {
  orm = await openTestOrm();
  temporalProxy = await startTcpProxy(requireEnv('TEMPORAL_ADDRESS'));
  apiClient = await connectTemporalClient({ address: temporalProxy.address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  worker = await startTestWorker(orm);
  api = await startTestApi({ orm, temporal: apiClient, taskQueue: worker.taskQueue });
});

afterAll(async () => {
  temporalProxy?.restore();
  await api?.close();
  await worker?.stop();
  await apiClient?.connection.close();
  await temporalProxy?.close();
  await orm?.close(true);
});

/** A paid signup, held with its PaymentIntent made by its workflow. */
async function heldPaidSignup() {
  const event = await insertEvent(orm, { capacity: 5, title: 'Paid workshop', ticketTypes: [{ code: 'standard', amountMinor: 25_000 }] });
  const user = await newUser(api);
  const signupId = await signUp(api, user, event.id);
  const held = await waitForStatus(api, user, signupId, 'held', 30_000, (view) => view.payment !== null);
  return { user, signupId, paymentIntentId: (held.payment as { paymentIntentId: string }).paymentIntentId };
}

describe("Stripe's payment webhook", () => {
  it('is taken while Temporal answers slowly (each call over a second)', async () => {
    const { user, signupId, paymentIntentId } = await heldPaidSignup();
    temporalProxy.slow(1_500);
    try {
      const delivered = await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, paymentIntentId));
      expect({ status: delivered.status, body: delivered.body }).toEqual({ status: 200, body: { received: true, delivered: true } });
    } finally {
      temporalProxy.slow(0);
    }
    expect(await waitForStatus(api, user, signupId, 'confirmed')).toMatchObject({ status: 'confirmed' });
  });

  it('is refused with a 503 and Retry-After while Temporal is down, and taken when Stripe delivers it again', async () => {
    const { user, signupId, paymentIntentId } = await heldPaidSignup();
    const event = stripeEvent('payment_intent.succeeded', signupId, paymentIntentId);
    temporalProxy.cut();
    try {
      const refused = await deliverWebhook(api, event);
      expect({ status: refused.status, type: refused.body.type, retryAfter: refused.headers.get('retry-after') }).toEqual({
        status: 503,
        type: '/problems/service-unavailable',
        retryAfter: '30',
      });
      expect(await signupRow(orm, signupId)).toMatchObject({ status: 'held', paidAt: null });
    } finally {
      temporalProxy.restore();
    }
    const again = await deliverWebhook(api, event);
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: { received: true, delivered: true } });
    expect(await waitForStatus(api, user, signupId, 'confirmed')).toMatchObject({ status: 'confirmed' });
  });
});
