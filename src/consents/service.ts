import type { QueryResult } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import { EventTranslation } from '../events/event-translation.entity.js';
import { Problem } from '../http/problem.js';
import { Attendee } from '../signups/attendee.entity.js';
import { Signup } from '../signups/signup.entity.js';
import { withRequestDeadline } from '../temporal/client.js';
import { guardianDecisionSignal } from '../temporal/contract.js';
import { ConsentRecord } from './consent-record.entity.js';
import { truncatedNetwork } from './client-address.js';
import { InvalidConsentTokenError, verifyConsentToken } from './consent-token.js';

export type GuardianDecision = 'approved' | 'denied';

export interface ConsentRequestView {
  eventTitle: string;
  eventStartsAt: string;
  /** The event's IANA time zone, the one its dates are shown in. */
  timezone: string;
  venue: string | null;
  attendees: string[];
  children: { firstName: string; age: number }[];
  price: { amountMinor: number; currency: string } | null;
  organizer: string;
  expiresAt: string;
  decision: GuardianDecision | null;
}

/** About the request that answered: what the guardian was shown and from where (for the consent record). */
export interface ConsentAnswerMeta {
  via: 'page' | 'api';
  textVersion: string;
  userAgent?: string;
  /** As Express sees it (req.ip, behind trusted proxies); stored truncated only. */
  clientAddress?: string;
}

export interface ConsentRecordView {
  signupId: string;
  eventId: string;
  guardianEmail: string | null;
  linkSentAt: string | null;
  linkExpiresAt: string | null;
  decision: GuardianDecision | null;
  answeredAt: string | null;
  answeredVia: 'page' | 'api' | null;
  textVersion: string | null;
  userAgent: string | null;
  clientNetwork: string | null;
  anonymizedAt: string | null;
}

/** Where a link stands, for the guardian's page (which shows each case its own way). */
export type ConsentLinkState =
  | { state: 'invalid' }
  | { state: 'expired'; locale?: string }
  | { state: 'used'; decision: GuardianDecision | null; locale: string }
  | { state: 'open'; view: ConsentRequestView; locale: string };

/**
 * The guardian's side of consent. The link's token names the signup; the decision is recorded by a
 * conditional UPDATE (only a signup still awaiting consent, with no decision yet), which makes the
 * link single-use even when it is clicked twice at once, and then handed to the workflow.
 */
export function createConsentService(deps: {
  orm: MikroORM;
  temporal: Client;
  secret: string;
  /** Who organizes events, as the guardian is told (the sender's name of our mail). */
  organizer: string;
  now?: () => Date;
}) {
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

  async function viewOf(signupId: string, expiresAt: Date): Promise<{ signup: Signup; view: ConsentRequestView } | undefined> {
    const em = deps.orm.em.fork();
    const signup = await em.findOne(Signup, signupId, { populate: ['event'] });
    if (!signup) return undefined;
    const translation =
      (await em.findOne(EventTranslation, { event: signup.event, locale: signup.locale })) ??
      (await em.findOne(EventTranslation, { event: signup.event, locale: signup.event.defaultLocale }));
    const attendees = await em.find(Attendee, { signup }, { orderBy: { firstName: 'asc' } });
    const venue = signup.event.venue;
    return {
      signup,
      view: {
        eventTitle: translation?.title ?? '',
        eventStartsAt: signup.event.startsAt.toISOString(),
        timezone: signup.event.timezone,
        venue: venue ? [venue.name, venue.address.line1, venue.address.city].join(', ') : null,
        attendees: attendees.map((attendee) => attendee.firstName),
        children: attendees.map((attendee) => ({ firstName: attendee.firstName, age: attendee.age })),
        price: signup.amountMinor > 0 && signup.currency ? { amountMinor: signup.amountMinor, currency: signup.currency } : null,
        organizer: deps.organizer,
        expiresAt: expiresAt.toISOString(),
        decision: signup.guardianDecision ?? null,
      },
    };
  }

  return {
    /** The consent trail of one signup, for admins (GET /v1/admin/signups/{signupId}/consent). */
    async recordOf(signupId: string): Promise<ConsentRecordView> {
      const em = deps.orm.em.fork();
      const record = await em.findOne(ConsentRecord, { signupId });
      if (!record) throw new Problem('not-found', 'no consent was asked for this signup');
      const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);
      return {
        signupId: record.signupId,
        eventId: record.eventId,
        guardianEmail: record.guardianEmail ?? null,
        linkSentAt: iso(record.linkSentAt),
        linkExpiresAt: iso(record.linkExpiresAt),
        decision: record.decision ?? null,
        answeredAt: iso(record.answeredAt),
        answeredVia: record.answeredVia ?? null,
        textVersion: record.textVersion ?? null,
        userAgent: record.userAgent ?? null,
        clientNetwork: record.clientNetwork ?? null,
        anonymizedAt: iso(record.anonymizedAt),
      };
    },

    async describe(token: string): Promise<ConsentRequestView> {
      const claim = claimOf(token);
      const found = await viewOf(claim.signupId, claim.expiresAt);
      if (!found) throw new Problem('consent-link-invalid');
      return found.view;
    },

    /** The page's view of a link: never throws for a bad, old or used link, but says which it is. */
    async linkState(token: string): Promise<ConsentLinkState> {
      let claim;
      try {
        claim = verifyConsentToken(token, deps.secret, now());
      } catch (error) {
        if (error instanceof InvalidConsentTokenError) return { state: 'invalid' };
        throw error;
      }
      const found = await viewOf(claim.signupId, claim.expiresAt);
      if (!found) return { state: 'invalid' };
      const { signup, view } = found;
      if (signup.guardianDecision) return { state: 'used', decision: signup.guardianDecision, locale: signup.locale };
      // A request that ran out ends its signup too: the guardian is told it expired, not that it was used.
      if (claim.expired) return { state: 'expired', locale: signup.locale };
      if (signup.status !== 'awaiting_consent') return { state: 'used', decision: null, locale: signup.locale };
      return { state: 'open', view, locale: signup.locale };
    },

    async decide(token: string, decision: GuardianDecision, answer: ConsentAnswerMeta): Promise<{ decision: GuardianDecision }> {
      const claim = claimOf(token);
      // Temporal down: refused before anything is locked or written.
      await withRequestDeadline(deps.temporal, () => deps.temporal.workflowService.getSystemInfo({}));
      const at = now();
      // The decision, its consent record and the signal in one transaction: if Temporal cannot be
      // reached (503, within the request deadline) both are rolled back, so the link still works when
      // the guardian tries again, instead of answering "already given" for a decision the workflow
      // never heard of. The row lock is held for the signal only (at most the request deadline).
      await deps.orm.em.fork().transactional(async (tx) => {
        const updated = await tx.execute<QueryResult>(
          `update signup set guardian_decision = ?, guardian_decided_at = ?, updated_at = now()
            where id = ? and status = 'awaiting_consent' and guardian_decision is null`,
          [decision, at, claim.signupId],
          'run',
        );
        if (updated.affectedRows !== 1) {
          const signup = await tx.findOne(Signup, claim.signupId);
          if (!signup) throw new Problem('consent-link-invalid');
          throw new Problem('consent-already-given', signup.guardianDecision ? `the answer was: ${signup.guardianDecision}` : `the signup is ${signup.status}`);
        }
        // The trail of the answer, with the decision: one without the other never exists. Upsert: the
        // request's row is normally there (written when the mail went out).
        await tx.execute(
          `insert into consent_record (id, signup_id, event_id, user_id, guardian_email, decision, answered_at, answered_via,
                                       text_version, user_agent, client_network, created_at)
           select gen_random_uuid(), s.id, s.event_id, s.user_id, c.guardian_email, ?, ?, ?, ?, ?, ?, now()
             from signup s left join user_contact c on c.user_id = s.user_id where s.id = ?
           on conflict (signup_id) do update set decision = excluded.decision, answered_at = excluded.answered_at,
             answered_via = excluded.answered_via, text_version = excluded.text_version, user_agent = excluded.user_agent,
             client_network = excluded.client_network`,
          [decision, at, answer.via, answer.textVersion.slice(0, 64), answer.userAgent?.slice(0, 500) ?? null, truncatedNetwork(answer.clientAddress), claim.signupId],
        );
        const signup = await tx.findOneOrFail(Signup, claim.signupId);
        // Should the commit fail after the signal, the workflow has the decision and the link answers
        // by the signup's status from then on.
        await withRequestDeadline(deps.temporal, () => deps.temporal.workflow.getHandle(signup.workflowId).signal(guardianDecisionSignal, decision));
      });
      return { decision };
    },
  };
}

export type ConsentService = ReturnType<typeof createConsentService>;
