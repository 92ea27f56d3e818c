import type { EntityManager } from '@mikro-orm/postgresql';
import type { NotificationKind, NotificationTexts } from '../events/event-data.js';
import type { Mailer } from './mailer.js';
import { NotificationLog } from './notification-log.entity.js';
import { renderNotification, type RenderContext } from './render.js';

export interface NotificationRequest {
  /** Unique per intended message (kind, event, recipient, schedule version). */
  key: string;
  kind: NotificationKind;
  eventId?: string;
  signupId?: string;
  recipient: { userId: string; email: string; locale: string };
  context: RenderContext;
  overrides?: NotificationTexts;
}

export type SendOutcome = 'sent' | 'already-sent';

/**
 * Sends a notification at most once per key. The key is claimed in the log before the SMTP call
 * and marked sent after it, so a retry after success finds `sent` and stops. The one window left
 * (the process dies after the SMTP server accepted the message, before the row says sent) resends
 * with the same X-Eventbook-Notification header, which lets a mail pipeline drop the duplicate.
 */
export async function sendNotificationOnce(
  em: EntityManager,
  mailer: Mailer,
  request: NotificationRequest,
): Promise<SendOutcome> {
  const claimed = await em.transactional(async (tx) => {
    await tx.execute(
      `insert into notification_log (key, kind, channel, event_id, signup_id, recipient_user_id, state, attempts, created_at)
       values (?, ?, 'email', ?, ?, ?, 'sending', 0, now()) on conflict (key) do nothing`,
      [request.key, request.kind, request.eventId ?? null, request.signupId ?? null, request.recipient.userId],
    );
    // One activity attempt runs at a time per key (Temporal's guarantee), so no row lock is needed.
    const row = await tx.findOneOrFail(NotificationLog, { key: request.key });
    if (row.state === 'sent') return undefined;
    row.attempts += 1;
    return row;
  });
  if (!claimed) return 'already-sent';

  const message = renderNotification({
    kind: request.kind,
    locale: request.recipient.locale,
    context: request.context,
    overrides: request.overrides,
  });
  const { messageId } = await mailer.send({ to: request.recipient.email, ...message, notificationKey: request.key });
  await em.nativeUpdate(NotificationLog, { key: request.key }, { state: 'sent', messageId, sentAt: new Date() });
  return 'sent';
}
