import type { QueryResult } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { EventTranslation } from '../events/event-translation.entity.js';
import { Problem } from '../http/problem.js';
import { Attendee } from '../signups/attendee.entity.js';
import { Signup } from '../signups/signup.entity.js';
import { withRequestDeadline } from '../temporal/client.js';
import { guardianDecisionSignal } from '../temporal/contract.js';
import { InvalidConsentTokenError, verifyConsentToken } from './consent-token.js';

export type GuardianDecision = 'approved' | 'denied';

export interface ConsentRequestView {
  eventTitle: string;
  eventStartsAt: string;
  attendees: string[];
  expiresAt: string;
  decision: GuardianDecision | null;
}

/**
 * The guardian's side of consent. The link's token names the signup; the decision is recorded by a
 * conditional UPDATE (only a signup still awaiting consent, with no decision yet), which makes the
 * link single-use even when it is clicked twice at once, and then handed to the workflow.
 */
export function createConsentService(deps: { orm: MikroORM; temporal: Client; secret: string; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  function claimOf(token: string) {
    try {
      const claim = verifyConsentToken(token, deps.secret, now());
      if (claim.expired) throw new Problem('consent-link-expired', 'ask for the signup to be made again');
      return claim;
    } catch (error) {
      if (error instanceof InvalidConsentTokenError) throw new Problem('consent-link-invalid');
      throw error;
    }
  }

  return {
    async describe(token: string): Promise<ConsentRequestView> {
      const claim = claimOf(token);
      const em = deps.orm.em.fork();
      const signup = await em.findOne(Signup, claim.signupId, { populate: ['event'] });
      if (!signup) throw new Problem('consent-link-invalid');
      const translation = await em.findOne(EventTranslation, { event: signup.event, locale: signup.locale })
        ?? (await em.findOne(EventTranslation, { event: signup.event, locale: signup.event.defaultLocale }));
      const attendees = await em.find(Attendee, { signup }, { orderBy: { firstName: 'asc' } });
      return {
        eventTitle: translation?.title ?? '',
        eventStartsAt: signup.event.startsAt.toISOString(),
        attendees: attendees.map((attendee) => attendee.firstName),
        expiresAt: claim.expiresAt.toISOString(),
        decision: signup.guardianDecision ?? null,
      };
    },

    async decide(token: string, decision: GuardianDecision): Promise<{ decision: GuardianDecision }> {
      const claim = claimOf(token);
      // Temporal down: refused before anything is locked or written.
      await withRequestDeadline(deps.temporal, () => deps.temporal.workflowService.getSystemInfo({}));
      // The decision is recorded and signalled in one transaction: if Temporal cannot be reached
      // (503, within the request deadline) the record is rolled back, so the link still works when
      // the guardian tries again, instead of answering "already given" for a decision the workflow
      // never heard of. The row lock is held for the signal only (at most the request deadline).
      await deps.orm.em.fork().transactional(async (em) => {
        const recorded = await em.execute<QueryResult>(
          `update signup set guardian_decision = ?, guardian_decided_at = ?, updated_at = now()
            where id = ? and status = 'awaiting_consent' and guardian_decision is null`,
          [decision, now(), claim.signupId],
          'run',
        );
        if (recorded.affectedRows !== 1) {
          const signup = await em.findOne(Signup, claim.signupId);
          if (!signup) throw new Problem('consent-link-invalid');
          throw new Problem('consent-already-given', signup.guardianDecision ? `the answer was: ${signup.guardianDecision}` : `the signup is ${signup.status}`);
        }
        const signup = await em.findOneOrFail(Signup, claim.signupId);
        // Should the commit fail after the signal, the workflow has the decision and the link answers
        // by the signup's status from then on.
        await withRequestDeadline(deps.temporal, () => deps.temporal.workflow.getHandle(signup.workflowId).signal(guardianDecisionSignal, decision));
      });
      return { decision };
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
