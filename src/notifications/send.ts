import type { EntityManager } from '@mikro-orm/postgresql';
import type { NotificationKind, NotificationTexts } from '../events/event-data.js';
import type { NotificationChannel } from './channels.js';
import { NotificationLog } from './notification-log.entity.js';
import { renderNotification, type RenderContext } from './render.js';

export interface NotificationRequest {
  /** Unique per intended message (kind, event, recipient, schedule version); the same on every channel. */
  key: string;
  kind: NotificationKind;
  eventId?: string;
  signupId?: string;
  recipient: { userId: string; locale: string };
  context: RenderContext;
  overrides?: NotificationTexts;
}

/** Where one notification goes: a channel and the recipient's address on it (e-mail address, webhook URL). */
export interface Delivery {
  channel: NotificationChannel;
  to: string;
}

export type SendOutcome = 'sent' | 'already-sent';

/** The channel itself refused or could not be reached (not our database): the message can be retried later. */
export class DeliveryFailedError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = 'DeliveryFailedError';
  }
}

/**
 * Sends a notification at most once per key and channel. The (key, channel) pair is claimed in the
 * log before the channel is called and marked sent after it, so a retry after success finds `sent`
 * and stops, while the same message on another channel has a row of its own. The one window left
 * (the process dies after the channel accepted the message, before the row says sent) resends with
 * the same key (X-Eventbook-Notification on both channels), which lets a receiver drop the duplicate.
 */
export async function sendNotificationOnce(
  em: EntityManager,
  delivery: Delivery,
  request: NotificationRequest,
): Promise<SendOutcome> {
  const channel = delivery.channel.name;
  const claimed = await em.transactional(async (tx) => {
    await tx.execute(
      `insert into notification_log (key, kind, channel, event_id, signup_id, recipient_user_id, state, attempts, created_at)
       values (?, ?, ?, ?, ?, ?, 'sending', 0, now()) on conflict (key, channel) do nothing`,
      [request.key, request.kind, channel, request.eventId ?? null, request.signupId ?? null, request.recipient.userId],
    );
    // One activity attempt runs at a time per key (Temporal's guarantee), so no row lock is needed.
    const row = await tx.findOneOrFail(NotificationLog, { key: request.key, channel });
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
  // message.locale is the language the text was rendered in (English when the reader's has no template).
  let messageId: string;
  try {
    ({ messageId } = await delivery.channel.send({ to: delivery.to, ...message, notificationKey: request.key, kind: request.kind }));
  } catch (error) {
    // Kept on the row for the ops API; a retry (or the bounded retry workflow) tries again.
    const lastError = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
    await em.nativeUpdate(NotificationLog, { key: request.key, channel }, { state: 'retrying', lastError });
    throw new DeliveryFailedError(lastError, { cause: error });
  }
  await em.nativeUpdate(NotificationLog, { key: request.key, channel }, { state: 'sent', messageId, sentAt: new Date() });
  return 'sent';
}
