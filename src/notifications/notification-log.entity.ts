import { defineEntity, p } from '@mikro-orm/core';

/**
 * sending: claimed, the channel is being called; sent; retrying: the last try failed (last_error), a
 * retry is due (the activity's, or the notification's own retry workflow for fan-outs); failed:
 * given up after the bounded retries, listed by the ops API (GET /v1/ops/notifications/failed).
 */
export const notificationStates = ['sending', 'sent', 'retrying', 'failed'] as const;

/**
 * One row per notification we mean to send and channel it goes out on, keyed so that a retried
 * activity or a replayed workflow finds the row and does not send again. One message may go out on
 * several channels (e-mail and a webhook), each sent once: hence unique on (key, channel).
 * Recipients are referred to by user id only.
 */
export const NotificationLogSchema = defineEntity({
  name: 'NotificationLog',
  tableName: 'notification_log',
  indexes: [
    { properties: ['eventId', 'kind'] },
    // The ops API lists the failed ones, newest first; few among the sent.
    { name: 'notification_log_failed_idx', properties: ['failedAt'], where: `state = 'failed'` },
  ],
  uniques: [{ properties: ['key', 'channel'] }],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    /** e.g. `reminder:<eventId>:<userId>:v3` — unique per channel, the whole point of the table. */
    key: p.string().length(300),
    kind: p.string().length(64),
    /** `email` or `webhook` (src/notifications/channels.ts). */
    channel: p.string().length(16),
    eventId: p.uuid().nullable(),
    signupId: p.uuid().nullable(),
    recipientUserId: p.string().length(200),
    state: p.enum(notificationStates),
    attempts: p.integer().default(0),
    messageId: p.string().length(300).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    sentAt: p.datetime().nullable(),
    /** When its sender claimed it (state sending): another sender waits CLAIM_SECONDS before taking it over (src/notifications/send.ts). */
    claimedAt: p.datetime().nullable(),
    /** What the channel answered the last time it failed. */
    lastError: p.text().nullable(),
    /** When it was given up on (state failed). */
    failedAt: p.datetime().nullable(),
  },
});

export class NotificationLog extends NotificationLogSchema.class {}
NotificationLogSchema.setClass(NotificationLog);
