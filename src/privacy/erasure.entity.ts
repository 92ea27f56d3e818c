import { defineEntity, p } from '@mikro-orm/core';

export const erasureStatuses = ['running', 'done'] as const;

/** What an erasure did, in counts only. */
export interface ErasureCounts {
  signupsCancelled: number;
  signupsAnonymized: number;
  attendeesAnonymized: number;
  contactsDeleted: number;
  interestsDeleted: number;
  notificationLinksDeleted: number;
  consentRecordsAnonymized: number;
}

/**
 * The audit of one erasure (DELETE /v1/me), without the erased data: the subject only as a SHA-256
 * digest (so a second request for the same person is recognised), when it was asked and finished,
 * and what was done, in counts. The user id itself is held in `pendingUserId` only while the
 * erasure workflow runs, and cleared by its last step. Kept for accountability (GDPR art. 5(2)).
 */
export const ErasureRequestSchema = defineEntity({
  name: 'ErasureRequest',
  tableName: 'erasure_request',
  indexes: [{ properties: ['subjectDigest'] }],
  properties: {
    id: p.uuid().primary(),
    subjectDigest: p.string().length(64),
    pendingUserId: p.string().length(200).nullable(),
    status: p.enum(erasureStatuses).default('running'),
    workflowId: p.string().length(200),
    requestedAt: p.datetime().onCreate(() => new Date()),
    completedAt: p.datetime().nullable(),
    counts: p.json<ErasureCounts>().nullable(),
  },
});

export class ErasureRequest extends ErasureRequestSchema.class {}
ErasureRequestSchema.setClass(ErasureRequest);
