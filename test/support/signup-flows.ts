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

/** A signup row and its workflow, started the way the API does it, minus the HTTP. */
export async function startSignupWorkflow(
  deps: { orm: MikroORM; client: Client; taskQueue: string },
  eventId: string,
  holdTimeoutSeconds: number,
  options: { paid?: { amountMinor: number; currency: string }; waitlistEventSeconds?: number } = {},
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
  });
  await em.flush();
  const input: SignupWorkflowInput = {
    signupId,
    eventId,
    holdTimeoutSeconds,
    offerTimeoutSeconds: holdTimeoutSeconds,
    consentTimeoutSeconds: holdTimeoutSeconds,
    latePaymentGraceSeconds: 1,
    needsGuardianConsent: false,
    paid: options.paid !== undefined,
  };
  const handle = await deps.client.workflow.start<typeof signupWorkflow>(workflowTypes.signup, {
    workflowId,
    taskQueue: deps.taskQueue,
    args: [input],
    typedSearchAttributes: [{ key: searchAttributes.eventId, value: eventId }],
  });
  return { signupId, handle };
}
