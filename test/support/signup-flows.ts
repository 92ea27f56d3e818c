import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import {
  searchAttributes,
  workflowIds,
  workflowTypes,
  type SignupWorkflowInput,
} from '../../src/temporal/contract.js';
import type { signupWorkflow } from '../../workflows/signup.js';

/**
 * A signup row and its workflow, started the way the API does it, minus the HTTP. With `heldUntil`
 * the seat is held at the door until that deadline (the row, its counter and `heldByApi`), so a
 * deadline close by (or past) stands for a workflow that got going late.
 */
export async function startSignupWorkflow(
  deps: { orm: MikroORM; client: Client; taskQueue: string },
  eventId: string,
  holdTimeoutSeconds: number,
  options: { paid?: { amountMinor: number; currency: string }; waitlistEventSeconds?: number; heldUntil?: Date; seatMoveTimeoutSeconds?: number } = {},
) {
  const signupId = randomUUID();
  const workflowId = workflowIds.signup(signupId);
  const em = deps.orm.em.fork();
  em.create(Signup, {
    id: signupId,
    event: eventId,
    userId: `u-${signupId}`,
    seats: 1,
    workflowId,
    amountMinor: options.paid?.amountMinor ?? 0,
    currency: options.paid?.currency ?? null,
    ...(options.heldUntil ? { status: 'held' as const, holdExpiresAt: options.heldUntil } : {}),
  });
  await em.flush();
  if (options.heldUntil) {
    await em.getConnection().execute('update "event" set held_count = held_count + 1 where id = ?', [eventId], 'run');
  }
  const input: SignupWorkflowInput = {
    signupId,
    eventId,
    holdTimeoutSeconds,
    offerTimeoutSeconds: holdTimeoutSeconds,
    consentTimeoutSeconds: holdTimeoutSeconds,
    latePaymentGraceSeconds: 1,
    needsGuardianConsent: false,
    paid: options.paid !== undefined,
    ...(options.heldUntil ? { heldByApi: true, holdExpiresAt: options.heldUntil.toISOString() } : {}),
    ...(options.seatMoveTimeoutSeconds ? { seatMoveTimeoutSeconds: options.seatMoveTimeoutSeconds } : {}),
  };
  const handle = await deps.client.workflow.start<typeof signupWorkflow>(workflowTypes.signup, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: searchAttributes.eventId, value: eventId }],
  });
  return { signupId, handle };
}
