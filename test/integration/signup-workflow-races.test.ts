/**
 * Races inside the signup workflow that the real peers cannot time on demand: the activities here
 * are stand-ins that record their calls and let the test act at an exact moment (the real ones are
 * covered by the other signup tests). The workflow code and the Temporal server are the real ones.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WorkflowUpdateStage, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../../activities/index.js';
import {
  cancelSignupUpdate,
  retryStepSignal,
  searchAttributes,
  signupProgressQuery,
  confirmSignupUpdate,
  eventFinishedSignal,
  paymentEventSignal,
  seatTaskQueueOf,
  workflowIds,
  workflowTypes,
  type SignupWorkflowInput,
} from '../../src/temporal/contract.js';
import { EventbookWorker } from '../../src/temporal/worker.js';
import type { signupWorkflow } from '../../workflows/signup.js';
import { requireEnv, testEnvKeys } from '../support/environment.js';
import { connectTestClient } from '../support/stack.js';

let client: Client;
let connection: NativeConnection;

beforeAll(async () => {
  client = await connectTestClient();
  connection = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
});

afterAll(async () => {
  await connection.close();
  await client.connection.close();
});

/** Activities that answer like a free seat and an unpaid intent, recording every call. */
function standInActivities(overrides: Partial<Record<keyof Activities, (...args: never[]) => Promise<unknown>>>) {
  const calls: string[] = [];
  const answers: Record<string, (...args: never[]) => Promise<unknown>> = {
    awaitConsent: () => Promise.resolve({ status: 'awaiting_consent', offers: [] }),
    holdSeats: () => Promise.resolve({ status: 'held', offers: [] }),
    confirmSeats: () => Promise.resolve({ status: 'confirmed', offers: [] }),
    releaseHold: () => Promise.resolve({ status: 'released', offers: [] }),
    cancelSignup: () => Promise.resolve({ status: 'cancelled', previousStatus: 'confirmed', offers: [] }),
    rejectSignup: () => Promise.resolve({ status: 'rejected', offers: [] }),
    readGuardianDecision: () => Promise.resolve(null),
    readSeatState: () => Promise.resolve({ status: 'waitlisted', holdExpiresAt: null }),
    reinstateAfterLatePayment: () => Promise.resolve({ status: 'released', offers: [] }),
    createPaymentIntent: () => Promise.resolve({ paymentIntentId: 'pi_standin' }),
    checkPaymentIntent: () => Promise.resolve('awaiting-payment'),
    cancelPaymentIntent: () => Promise.resolve('canceled'),
    endUnpaidHold: () => Promise.resolve({ payment: 'canceled', released: { status: 'released', offers: [] } }),
    refundSignup: () => Promise.resolve({ refundMinor: 0 }),
    sendSignupNotification: () => Promise.resolve('sent'),
    sendSignupNotifications: (input: { messages: unknown[] }) => Promise.resolve(input.messages.map(() => 'sent')),
    ...overrides,
  };
  const activities = Object.fromEntries(
    Object.entries(answers).map(([name, answer]) => [
      name,
      async (...args: never[]) => {
        calls.push(name);
        return answer(...args);
      },
    ]),
  );
  return { activities, calls };
}

/** A signup workflow's input for these tests; consent is never asked, a late payment waits 1 s. */
function raceInput(signupId: string, timing: Pick<SignupWorkflowInput, 'holdTimeoutSeconds' | 'offerTimeoutSeconds' | 'paid'>): SignupWorkflowInput {
  return { signupId, eventId: randomUUID(), consentTimeoutSeconds: 30, latePaymentGraceSeconds: 1, needsGuardianConsent: false, ...timing };
}

async function runWithWorker<T>(activities: object, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `races-${randomUUID()}`;
  const worker = await Worker.create({
    connection,
    taskQueue,
    activities,
    workflowBundle: { codePath: requireEnv(testEnvKeys.workflowBundle) },
  });
  // The stand-ins answer the seat moves too, on their queue (as src/temporal/worker.ts does).
  const seatMoves = await Worker.create({ connection, taskQueue: seatTaskQueueOf(taskQueue), activities });
  return new EventbookWorker(worker, seatMoves).runUntil(body(taskQueue));
}

describe('signup workflow races', () => {
  it('keeps a payment that succeeds while the hold is being ended', async () => {
    const signupId = randomUUID();
    const workflowId = workflowIds.signup(signupId);
    const { activities, calls } = standInActivities({
      // The webhook lands while the workflow ends the hold; Stripe refuses to cancel the paid intent.
      endUnpaidHold: async () => {
        await client.workflow
          .getHandle(workflowId)
          .signal(paymentEventSignal, { stripeEventId: `evt_${randomUUID()}`, kind: 'succeeded', paymentIntentId: 'pi_standin' });
        return { payment: 'succeeded' };
      },
    });
    const input = raceInput(signupId, { holdTimeoutSeconds: 1, offerTimeoutSeconds: 1, paid: true });
    const result = await runWithWorker(activities, async (taskQueue) => {
      const handle = await client.workflow.start<typeof signupWorkflow>(workflowTypes.signup, {
        workflowId,
        taskQueue,
        args: [input],
      });
      await eventuallyTrue(() => Promise.resolve(calls.includes('confirmSeats')), 'confirmSeats to be called');
      await handle.signal(eventFinishedSignal);
      return handle.result();
    });
    expect(result.status).toBe('confirmed');
    expect(calls).not.toContain('releaseHold');
  });

  it('treats seats offered from the waiting list before the workflow got going as an offer to take', async () => {
    const signupId = randomUUID();
    const workflowId = workflowIds.signup(signupId);
    const notified: string[] = [];
    const { activities, calls } = standInActivities({
      // The API put the signup on the waiting list; a cancellation offered it seats before this ran.
      holdSeats: () =>
        Promise.resolve({ status: 'held', holdExpiresAt: '2030-01-01T00:00:00.000Z', offeredAt: '2029-12-31T00:00:00.000Z', offers: [] }),
      sendSignupNotification: (input: { kind: string }) => {
        notified.push(input.kind);
        return Promise.resolve('sent');
      },
    });
    const input = raceInput(signupId, { holdTimeoutSeconds: 30, offerTimeoutSeconds: 30, paid: false });
    const outcome = await runWithWorker(activities, async (taskQueue) => {
      const handle = await client.workflow.start<typeof signupWorkflow>(workflowTypes.signup, { workflowId, taskQueue, args: [input] });
      await eventuallyTrue(() => Promise.resolve(notified.includes('waitlist-offer')), 'the waitlist-offer notification');
      const confirmedEarly = calls.includes('confirmSeats');
      const taken = await handle.executeUpdate(confirmSignupUpdate);
      await handle.signal(eventFinishedSignal);
      await handle.result();
      return { confirmedEarly, taken };
    });
    expect(outcome).toEqual({ confirmedEarly: false, taken: 'confirmed' });
    expect(notified).toEqual(['signup-received', 'waitlist-offer', 'confirmation']);
  });

  it('cancels cleanly when the waitlisted signup its seats are offered to has no workflow yet', async () => {
    const signupId = randomUUID();
    const workflowId = workflowIds.signup(signupId);
    const { activities, calls } = standInActivities({
      // The freed seat went to a signup whose workflow the API has not started yet.
      cancelSignup: () =>
        Promise.resolve({
          status: 'cancelled',
          previousStatus: 'confirmed',
          offers: [{ signupId: 'not-started', workflowId: `signup-not-started-${randomUUID()}`, holdExpiresAt: '2030-01-01T00:00:00.000Z' }],
        }),
    });
    const input = raceInput(signupId, { holdTimeoutSeconds: 30, offerTimeoutSeconds: 30, paid: false });
    const result = await runWithWorker(activities, async (taskQueue) => {
      const handle = await client.workflow.start<typeof signupWorkflow>(workflowTypes.signup, { workflowId, taskQueue, args: [input] });
      await eventuallyTrue(() => Promise.resolve(calls.includes('confirmSeats')), 'confirmSeats to be called');
      await handle.executeUpdate(cancelSignupUpdate, { args: [{ by: 'participant' }] });
      return handle.result();
    });
    expect(result.status).toBe('cancelled');
    expect(calls).toContain('sendSignupNotification');
  });

  it('waits for an operator, marked Attention, when a refund keeps failing, and retries on retryStep', async () => {
    const signupId = randomUUID();
    const workflowId = workflowIds.signup(signupId);
    let stripeRefuses = true;
    const { activities } = standInActivities({
      endUnpaidHold: () => Promise.resolve({ payment: 'succeeded' }),
      refundSignup: () =>
        stripeRefuses
          ? Promise.reject(ApplicationFailure.nonRetryable('charge already refunded elsewhere', 'Stripe.invalid_request_error'))
          : Promise.resolve({ refundMinor: 5000 }),
    });
    const input = raceInput(signupId, { holdTimeoutSeconds: 1, offerTimeoutSeconds: 30, paid: true });
    const outcome = await runWithWorker(activities, async (taskQueue) => {
      const handle = await client.workflow.start<typeof signupWorkflow>(workflowTypes.signup, {
        workflowId,
        taskQueue,
        args: [input],
        typedSearchAttributes: [{ key: searchAttributes.signupId, value: signupId }],
      });
      // Paid (Stripe says so at the end of the hold), then cancelled: the refund is refused.
      await eventuallyTrue(async () => (await handle.query(signupProgressQuery)).status === 'confirmed');
      await handle.startUpdate(cancelSignupUpdate, { args: [{ by: 'organizer', reason: 'moved' }], waitForStage: WorkflowUpdateStage.ACCEPTED });
      await eventuallyTrue(async () => (await handle.describe()).typedSearchAttributes.get(searchAttributes.attention) === 'refundSignup');
      const waiting = await handle.query(signupProgressQuery);
      stripeRefuses = false;
      await handle.signal(retryStepSignal);
      const result = await handle.result();
      const after = await handle.describe();
      return { waiting, result, attentionAfter: after.typedSearchAttributes.get(searchAttributes.attention) };
    });
    expect(outcome.waiting).toMatchObject({ status: 'cancelled', attention: { step: 'refundSignup', error: 'charge already refunded elsewhere' } });
    expect(outcome.result.status).toBe('cancelled');
    expect(outcome.attentionAfter).toBeUndefined();
  });
});

/** Waits (up to 20 s: the machine may be slow) until the probe says true; throws, naming what, if it never does. */
async function eventuallyTrue(probe: () => Promise<boolean>, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
