import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Principal } from '../auth/principal.js';
import { mayManageEvent } from '../events/admin-service.js';
import { Problem } from '../http/problem.js';
import { cancelSignupUpdate, confirmSignupUpdate, type CancelRequest } from '../temporal/contract.js';
import type { SignupService, SignupView } from './service.js';
import { Signup } from './signup.entity.js';
import { nextSignupStatus } from './status.js';
import { toSignupWorkflow, type SignupWorkflowStarter } from './workflow-starts.js';
import { whenTemporalAnswers } from '../temporal/client.js';

/**
 * What participants and organizers ask a running signup to do. The workflow decides and moves
 * seats; these check who may ask and when, then send it an update and answer the result.
 *
 * One exception, as at the door: a free signup the API confirmed at the door that has needed no
 * workflow of its own yet is cancelled by the API in one commit (the starter's cancelAtDoor),
 * and its workflow is started as cancelled afterwards, so nothing waits on Temporal for it.
 *
 * Otherwise, while Temporal is unreachable these are refused fast (503 with Retry-After, within the
 * request deadline), not accepted for later: nothing is written before the update, the answer is the
 * workflow's result (refund, status), and each is safe to send again (a cancelled or confirmed
 * signup answers its view).
 */
export function createSignupCommands(deps: {
  orm: MikroORM;
  temporal: Client;
  signups: SignupService;
  /** A command may come before the signup's workflow has been started from the outbox. */
  starter: SignupWorkflowStarter;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());

  async function sendCancel(signup: Signup, request: CancelRequest): Promise<SignupView> {
    if (!nextSignupStatus(signup.status, 'cancel')) throw new Problem('signup-not-active', `the signup is ${signup.status}`);
    // Only a free confirmed signup can be one a door-confirmations flow stands for: others go straight to their workflow.
    if (signup.status === 'confirmed' && signup.amountMinor === 0 && (await deps.starter.cancelAtDoor(signup.id, request))) {
      return deps.signups.viewOf(signup.id);
    }
    try {
      await whenTemporalAnswers(deps.temporal, () => deps.starter.update(signup, cancelSignupUpdate, [request]));
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
        throw new Problem('signup-not-active', 'the signup has already ended');
      }
      throw error;
    }
    return deps.signups.viewOf(signup.id);
  }

  return {
    /** The participant cancels, until the event's cancellation deadline (or its start). */
    async cancel(principal: Principal, signupId: string, reason?: string): Promise<SignupView> {
      const signup = await deps.signups.ownSignup(principal, signupId);
      if (signup.status === 'cancelled') return deps.signups.viewOf(signup.id); // a repeated cancel changes nothing
      const deadline = signup.event.cancellationDeadline ?? signup.event.startsAt;
      if (now() > deadline) {
        throw new Problem('cancellation-deadline-passed', `signups for this event could be cancelled until ${deadline.toISOString()}`);
      }
      return sendCancel(signup, { by: 'participant', ...(reason ? { reason } : {}) });
    },

    /** Takes seats offered from the waitlist (free signups; paid ones take them by paying). */
    async confirm(principal: Principal, signupId: string): Promise<SignupView> {
      const signup = await deps.signups.ownSignup(principal, signupId);
      if (signup.status === 'confirmed') return deps.signups.viewOf(signup.id);
      // Only seats offered (written by the transaction that freed them) can be taken; the workflow
      // may not have heard of the offer yet, and waits for it (workflows/signup.ts).
      if (signup.status !== 'held') throw new Problem('signup-not-held', `the signup is ${signup.status}`);
      try {
        const workflow = deps.temporal.workflow.getHandle(signup.workflowId);
        await whenTemporalAnswers(deps.temporal, () => toSignupWorkflow(deps.starter, signup.id, () => workflow.executeUpdate(confirmSignupUpdate)));
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
          throw new Problem('signup-not-held', `the signup is ${signup.status}`);
        }
        throw error;
      }
      return deps.signups.viewOf(signup.id);
    },

    /** An organizer removes a participant: the same path as a cancellation, refunded in full. */
    async removeParticipant(principal: Principal, eventId: string, signupId: string, reason: string): Promise<SignupView> {
      const signup = await deps.orm.em.fork().findOne(Signup, { id: signupId, event: eventId }, { populate: ['event'] });
      if (!signup || !mayManageEvent(principal, signup.event)) throw new Problem('not-found', 'no signup with this id for this event');
      if (signup.status === 'cancelled') return deps.signups.viewOf(signup.id);
      return sendCancel(signup, { by: 'organizer', reason });
    },
  };
}

export type SignupCommands = ReturnType<typeof createSignupCommands>;
