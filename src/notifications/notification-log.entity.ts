import { defineEntity, p } from '@mikro-orm/core';

export const notificationStates = ['sending', 'sent'] as const;

/**
 * One row per notification we mean to send and channel it goes out on, keyed so that a retried
 * activity or a replayed workflow finds the row and does not send again. One message may go out on
 * several channels (e-mail and a webhook), each sent once: hence unique on (key, channel).
 * Recipients are referred to by user id only.
 */
export const NotificationLogSchema = defineEntity({
  name: 'NotificationLog',
  tableName: 'notification_log',
  indexes: [{ properties: ['eventId', 'kind'] }],
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
  },
});

export class NotificationLog extends NotificationLogSchema.class {}
NotificationLogSchema.setClass(NotificationLog);
