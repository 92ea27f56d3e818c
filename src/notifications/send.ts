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
 * Another sender holds the claim on this notification and is sending it now (a group's flow and the
 * signup's own workflow, say). Retried like a delivery failure: by then it is sent, or the claim has
 * gone stale (its sender died) and the retry takes it over.
 */
export class NotificationInFlightError extends DeliveryFailedError {
  constructor(key: string, channel: string) {
    super(`${key} on ${channel} is being sent by another sender; tried again later`, { cause: undefined });
    this.name = 'NotificationInFlightError';
  }
}

/**
 * How long a claim is its sender's alone. Shorter than any sender's retry after a timeout (a mail
 * activity's start-to-close, a workflow task's timeout for one run inside the task), so a sender
 * that died is taken over by its own retry; a send that outlasts it may go out twice.
 */
const CLAIM_SECONDS = 5;

/**
 * Sends a notification at most once per key and channel. The (key, channel) pair is claimed in the
 * log before the channel is called and marked sent after it, so a retry after success finds `sent`
 * and stops, while the same message on another channel has a row of its own. The claim is one
 * conditional write (insert, or take over a row that is not sent and not claimed by a live sender
 * within CLAIM_SECONDS): two senders of one key at once (a retry is not the only one: two workflows
 * may mail the same confirmation) cannot both call the channel; the second gets
 * NotificationInFlightError and retries. The one window left (the process dies after the channel
 * accepted the message, before the row says sent) resends with the same key
 * (X-Eventbook-Notification on both channels), which lets a receiver drop the duplicate.
 */
export async function sendNotificationOnce(
  em: EntityManager,
  delivery: Delivery,
  request: NotificationRequest,
): Promise<SendOutcome> {
  const channel = delivery.channel.name;
  const claim = await em.transactional(async (tx) => {
    const inserted = await tx.execute<{ id: string }[]>(
      `insert into notification_log (key, kind, channel, event_id, signup_id, recipient_user_id, state, attempts, created_at, claimed_at)
       values (?, ?, ?, ?, ?, ?, 'sending', 1, now(), now()) on conflict (key, channel) do nothing returning id`,
      [request.key, request.kind, channel, request.eventId ?? null, request.signupId ?? null, request.recipient.userId],
    );
    if (inserted.length > 0) return 'claimed' as const;
    // Raw SQL: the claim is a conditional write, decided by the row itself under its lock.
    const taken = await tx.execute<{ id: string }[]>(
      `update notification_log set state = 'sending', attempts = attempts + 1, claimed_at = now()
        where key = ? and channel = ? and state <> 'sent'
          and (state <> 'sending' or claimed_at is null or claimed_at < now() - make_interval(secs => ?))
        returning id`,
      [request.key, channel, CLAIM_SECONDS],
    );
    if (taken.length > 0) return 'claimed' as const;
    const row = await tx.findOneOrFail(NotificationLog, { key: request.key, channel });
    return row.state === 'sent' ? ('sent' as const) : ('in-flight' as const);
  });
  if (claim === 'sent') return 'already-sent';
  if (claim === 'in-flight') throw new NotificationInFlightError(request.key, channel);

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
