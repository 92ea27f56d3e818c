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
  if (!contactFromToken(contact)) return;
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
  await em.execute(contactUpsertSql(`values (?, ?, ?, ?, now())`), [
    contact.userId,
    contact.email ?? null,
    contact.locale ?? null,
    contact.guardianEmail ?? null,
  ]);
}

/** A user_contact row as a token gives it (contactUpsertSql's columns). */
export interface TokenContactRow {
  user_id: string;
  email: string | null;
  locale: string | null;
  guardian_email: string | null;
}

/** What a token says about how to reach its user, as rememberContact keeps it; undefined when it says nothing. */
export function contactFromToken(contact: { userId: string; email?: string; locale?: string; guardianEmail?: string }): TokenContactRow | undefined {
  if (!contact.email && !contact.locale && !contact.guardianEmail) return undefined;
  return { user_id: contact.userId, email: contact.email ?? null, locale: contact.locale ?? null, guardian_email: contact.guardianEmail ?? null };
}

/**
 * The one upsert of user_contact from a token (last token wins; what it leaves out keeps its value),
 * over `rows`: VALUES or a SELECT of (user_id, email, locale, guardian_email, updated_at). Also run
 * inside the door's batch statement (writeDoorBatch in src/signups/seats.ts) for the signups it places.
 */
export function contactUpsertSql(rows: string): string {
  return `insert into user_contact (user_id, email, locale, guardian_email, updated_at)
     ${rows}
     on conflict (user_id) do update set
       email = coalesce(excluded.email, user_contact.email),
       locale = coalesce(excluded.locale, user_contact.locale),
       guardian_email = coalesce(excluded.guardian_email, user_contact.guardian_email),
       updated_at = now()`;
}
