import { LockMode } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal.js';
import type { NotificationKind } from '../events/event-data.js';
import { Problem } from '../http/problem.js';
import { UserContact } from './contact.entity.js';
import { preferenceViolations } from './preferences.js';
import { upsertContact } from './provider.js';

export interface NotificationPreferencesView {
  channels: {
    email: { enabled: boolean; address: string | null };
    webhook: { url: string | null };
  };
  optedOut: NotificationKind[];
  marketing: { consent: boolean; givenAt: string | null; withdrawnAt: string | null };
  updatedAt: string | null;
}

export interface NotificationPreferencesInput {
  channels: { email: { enabled: boolean }; webhook: { url: string | null } };
  optedOut: NotificationKind[];
  marketing: { consent: boolean };
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

function viewOf(row: UserContact | null, principal: Principal): NotificationPreferencesView {
  return {
    channels: {
      email: { enabled: row?.emailEnabled ?? true, address: row?.email ?? principal.profile?.email ?? null },
      webhook: { url: row?.webhookUrl ?? null },
    },
    optedOut: [...(row?.optedOutKinds ?? [])],
    marketing: {
      consent: row?.emailMarketingConsent ?? false,
      givenAt: iso(row?.marketingConsentGivenAt),
      withdrawnAt: iso(row?.marketingConsentWithdrawnAt),
    },
    updatedAt: iso(row?.updatedAt),
  };
}

/** GET/PUT /v1/me/notification-preferences: the caller's channels, opt-outs and marketing consent (user_contact). */
export function createNotificationPreferencesService(deps: {
  orm: MikroORM;
  /** Production: webhook URLs must be https. */
  production: boolean;
  /** The deployment signs and sends webhooks (NOTIFICATION_WEBHOOK_SECRET): a webhook URL can be used. */
  webhooks: boolean;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  return {
    async get(principal: Principal): Promise<NotificationPreferencesView> {
      return viewOf(await deps.orm.em.fork().findOne(UserContact, principal.userId), principal);
    },

    /**
     * Replaces the preferences. The consent times move only when the consent changes, so saving
     * the same preferences again changes nothing but `updatedAt`.
     */
    async put(principal: Principal, input: NotificationPreferencesInput): Promise<NotificationPreferencesView> {
      const optedOutKinds = [...new Set(input.optedOut)];
      const violations = preferenceViolations(
        { emailEnabled: input.channels.email.enabled, webhookUrl: input.channels.webhook.url, optedOutKinds: input.optedOut },
        deps,
      );
      if (violations.length > 0) {
        throw new Problem('rule-violation', violations.map((violation) => violation.message).join('; '), {
          errors: violations.map((violation) => ({ in: 'body' as const, ...violation })),
        });
      }
      const row = await deps.orm.em.fork().transactional(async (tx) => {
        await upsertContact(tx, { userId: principal.userId, ...principal.profile });
        // Locked: two PUTs at once must not both see the consent unchanged and skip its time.
        const contact = await tx.findOneOrFail(UserContact, principal.userId, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
        const at = now();
        if (input.marketing.consent && !contact.emailMarketingConsent) {
          contact.marketingConsentGivenAt = at;
          contact.marketingConsentWithdrawnAt = null;
        } else if (!input.marketing.consent && contact.emailMarketingConsent) {
          contact.marketingConsentWithdrawnAt = at;
        }
        contact.emailMarketingConsent = input.marketing.consent;
        contact.emailEnabled = input.channels.email.enabled;
        contact.webhookUrl = input.channels.webhook.url;
        contact.optedOutKinds = optedOutKinds;
        contact.updatedAt = at;
        return contact;
      });
      return viewOf(row, principal);
    },
  };
}

export type NotificationPreferencesService = ReturnType<typeof createNotificationPreferencesService>;
