import type { EntityManager } from '@mikro-orm/postgresql';
import type { NotificationKind } from '../events/event-data.js';
import { UserContact } from './contact.entity.js';

export interface Contact {
  userId: string;
  email: string | null;
  locale: string | null;
  guardianEmail: string | null;
  /** Marketing consent, on every channel: announcements go only to followers who gave it. */
  emailMarketingConsent: boolean;
  /** Notifications are POSTed here as well as e-mailed (a user may have only one of the two). */
  webhookUrl?: string | null;
  /** Absent: on. */
  emailEnabled?: boolean;
  /** Optional kinds turned off; absent: none. */
  optedOutKinds?: readonly NotificationKind[];
}

/**
 * Where contact details come from. The real one is another service; this one reads the
 * user_contact table. Notifications ask only this interface, so swapping it touches nothing else.
 */
export interface ContactProvider {
  contactOf(userId: string): Promise<Contact | undefined>;
}

export function tableContactProvider(em: () => EntityManager): ContactProvider {
  return {
    async contactOf(userId) {
      const row = await em().findOne(UserContact, userId);
      if (!row) return undefined;
      return {
        userId,
        email: row.email ?? null,
        locale: row.locale ?? null,
        guardianEmail: row.guardianEmail ?? null,
        emailMarketingConsent: row.emailMarketingConsent,
        webhookUrl: row.webhookUrl ?? null,
        emailEnabled: row.emailEnabled,
        optedOutKinds: row.optedOutKinds,
      };
    },
  };
}

/** Records what the caller's token says about how to reach them (upsert, last token wins). */
export async function rememberContact(
  em: EntityManager,
  contact: { userId: string; email?: string; locale?: string; guardianEmail?: string },
): Promise<void> {
  if (!contact.email && !contact.locale && !contact.guardianEmail) return;
  await upsertContact(em, contact);
}

/**
 * The row of the user, made if missing (a preferences change needs it even when the token names no
 * address), with the token's addresses; everything else keeps its value or its column default.
 */
export async function upsertContact(
  em: EntityManager,
  contact: { userId: string; email?: string; locale?: string; guardianEmail?: string },
): Promise<void> {
  await em.execute(
    `insert into user_contact (user_id, email, locale, guardian_email, updated_at)
     values (?, ?, ?, ?, now())
     on conflict (user_id) do update set
       email = coalesce(excluded.email, user_contact.email),
       locale = coalesce(excluded.locale, user_contact.locale),
       guardian_email = coalesce(excluded.guardian_email, user_contact.guardian_email),
       updated_at = now()`,
    [contact.userId, contact.email ?? null, contact.locale ?? null, contact.guardianEmail ?? null],
  );
}
