import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Principal } from '../auth/principal.js';
import { LiveEvent } from '../events/event.entity.js';
import { EventTranslation } from '../events/event-translation.entity.js';
import { Problem } from '../http/problem.js';
import {
  confirmSignupUpdate,
  flowKinds,
  searchAttributes,
  workflowIds,
  workflowTypes,
  type SignupWorkflowInput,
} from '../temporal/contract.js';
import type { signupWorkflow } from '../../workflows/signup.js';
import { Signup } from './signup.entity.js';
import { activeSignupStatuses, type SignupStatus } from './status.js';

export interface SignupServiceDeps {
  orm: MikroORM;
  temporal: Client;
  taskQueue: string;
  holdSeconds: number;
}

export interface SignupView {
  id: string;
  eventId: string;
  status: SignupStatus;
  seats: number;
  holdExpiresAt: string | null;
  confirmedAt: string | null;
  releasedAt: string | null;
  rejectionReason: string | null;
  createdAt: string;
}

export function toSignupView(signup: Signup): SignupView {
  return {
    id: signup.id,
    eventId: signup.event.id,
    status: signup.status,
    seats: signup.seats,
    holdExpiresAt: signup.holdExpiresAt?.toISOString() ?? null,
    confirmedAt: signup.confirmedAt?.toISOString() ?? null,
    releasedAt: signup.releasedAt?.toISOString() ?? null,
    rejectionReason: signup.rejectionReason ?? null,
    createdAt: signup.createdAt.toISOString(),
  };
}

/** Signup use cases: the HTTP layer parses, calls one of these, and maps the answer. */
export function createSignupService(deps: SignupServiceDeps) {
  return {
    /**
     * Records the request and starts its workflow. The row is written first so the signup can be
     * read back at once; if the workflow cannot be started the row is removed again, so a failed
     * request leaves nothing behind.
     */
    async requestSignup(
      principal: Principal,
      eventId: string,
      request: { seats: number },
      idempotencyKey?: string,
    ): Promise<{ signup: SignupView; replayed: boolean }> {
      const em = deps.orm.em.fork();
      if (idempotencyKey) {
        const earlier = await em.findOne(Signup, { userId: principal.userId, idempotencyKey });
        if (earlier) return { signup: replay(earlier, eventId, request), replayed: true };
      }
      const event = await em.findOne(LiveEvent, { id: eventId, status: 'published' });
      if (!event) throw new Problem('not-found', 'no open event with this id');

      const signupId = randomUUID();
      const workflowId = workflowIds.signup(signupId);
      const signup = em.create(Signup, {
        id: signupId,
        event,
        userId: principal.userId,
        idempotencyKey: idempotencyKey ?? null,
        seats: request.seats,
        workflowId,
      });
      try {
        await em.flush();
      } catch (error) {
        if (!(error instanceof UniqueConstraintViolationException)) throw error;
        // A concurrent request won: the same key (answer its signup) or another active signup (409).
        const signupView = await existingSignupOf(deps.orm.em.fork(), principal, eventId, request, idempotencyKey);
        return { signup: signupView, replayed: true };
      }

      const input: SignupWorkflowInput = { signupId, eventId, holdTimeoutSeconds: deps.holdSeconds };
      try {
        await deps.temporal.workflow.start<typeof signupWorkflow>(workflowTypes.signup, {
          workflowId,
          taskQueue: deps.taskQueue,
          args: [input],
          typedSearchAttributes: [
            { key: searchAttributes.eventId, value: eventId },
            { key: searchAttributes.signupId, value: signupId },
            { key: searchAttributes.signupStatus, value: 'requested' },
            { key: searchAttributes.market, value: event.market },
            { key: searchAttributes.flowKind, value: flowKinds.signup },
          ],
          memo: { summary: `${request.seats} seat(s) at "${await eventTitle(em, event)}"` },
        });
      } catch (error) {
        await em.nativeDelete(Signup, { id: signupId });
        throw new Problem('service-unavailable', 'the signup could not be started; nothing was recorded', {
          cause: error,
        });
      }
      return { signup: toSignupView(signup), replayed: false };
    },

    /** The signup, if the caller may see it: its owner, or an admin. Others get 404 so ids do not leak. */
    async getSignup(principal: Principal, signupId: string): Promise<SignupView> {
      const signup = await deps.orm.em.fork().findOne(Signup, signupId);
      if (!signup || !mayRead(principal, signup)) throw new Problem('not-found', 'no signup with this id');
      return toSignupView(signup);
    },

    /** Confirms held seats through the workflow, which alone decides; answers the signup afterwards. */
    async confirmSignup(principal: Principal, signupId: string): Promise<SignupView> {
      const em = deps.orm.em.fork();
      const signup = await em.findOne(Signup, signupId);
      if (!signup || signup.userId !== principal.userId) throw new Problem('not-found', 'no signup with this id');
      if (signup.status === 'confirmed') return toSignupView(signup); // a repeated confirm changes nothing
      try {
        await deps.temporal.workflow.getHandle(signup.workflowId).executeUpdate(confirmSignupUpdate);
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError) {
          throw new Problem('signup-not-held', `the signup is ${signup.status}`);
        }
        throw error;
      }
      await em.refresh(signup);
      return toSignupView(signup);
    },
  };
}

export type SignupService = ReturnType<typeof createSignupService>;

/** After a unique-constraint refusal: the signup the same key made, or the active one that blocks a new one. */
async function existingSignupOf(
  em: EntityManager,
  principal: Principal,
  eventId: string,
  request: { seats: number },
  idempotencyKey: string | undefined,
): Promise<SignupView> {
  if (idempotencyKey) {
    const earlier = await em.findOne(Signup, { userId: principal.userId, idempotencyKey });
    if (earlier) return replay(earlier, eventId, request);
  }
  const active = await em.findOne(Signup, {
    event: eventId,
    userId: principal.userId,
    status: { $in: [...activeSignupStatuses] },
  });
  throw new Problem('signup-exists', 'cancel it or wait for it to end before signing up again', {
    headers: active ? { Location: `/v1/signups/${active.id}` } : {},
  });
}

/** The same key must mean the same request; anything else is a client bug worth reporting. */
function replay(earlier: Signup, eventId: string, request: { seats: number }): SignupView {
  if (earlier.event.id !== eventId || earlier.seats !== request.seats) {
    throw new Problem('idempotency-key-reused', 'send a new Idempotency-Key for a different request');
  }
  return toSignupView(earlier);
}

async function eventTitle(em: EntityManager, event: LiveEvent): Promise<string> {
  const translation = await em.findOne(EventTranslation, { event, locale: event.defaultLocale });
  return translation?.title ?? event.id;
}

function mayRead(principal: Principal, signup: Signup): boolean {
  return signup.userId === principal.userId || principal.roles.includes('admin');
}
