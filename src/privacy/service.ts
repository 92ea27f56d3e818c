import { createHash, randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { Problem } from '../http/problem.js';
import { flowKinds, searchAttributes, workflowIds, workflowTypes } from '../temporal/contract.js';
import type { erasureWorkflow } from '../../workflows/erasure.js';
import { ErasureRequest, type ErasureCounts } from './erasure.entity.js';
import { createPersonalDataExport } from './export.js';

export interface ErasureView {
  id: string;
  status: 'running' | 'done';
  requestedAt: string;
  completedAt: string | null;
  counts: ErasureCounts | null;
}

/** The subject as the erasure audit keeps it: a digest, never the id itself. */
export function subjectDigest(userId: string): string {
  return createHash('sha256').update(`eventbook-subject.${userId}`).digest('hex');
}

const viewOf = (row: ErasureRequest): ErasureView => ({
  id: row.id,
  status: row.status,
  requestedAt: row.requestedAt.toISOString(),
  completedAt: row.completedAt ? row.completedAt.toISOString() : null,
  counts: row.counts ?? null,
});

/** The caller's own data: what is stored about them (export), and its erasure. */
export function createPrivacyService(deps: { orm: MikroORM; temporal: Client; taskQueue: string }) {
  async function start(row: ErasureRequest): Promise<void> {
    try {
      await deps.temporal.workflow.start<typeof erasureWorkflow>(workflowTypes.erasure, {
        taskQueue: deps.taskQueue,
        workflowId: row.workflowId,
        args: [{ erasureId: row.id }],
        typedSearchAttributes: [{ key: searchAttributes.flowKind, value: flowKinds.erasure }],
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return;
      // The request is recorded: the same DELETE again starts it.
      throw new Problem('service-unavailable', 'the erasure could not be started; send the request again', {
        headers: { 'Retry-After': '10' },
        cause: error,
      });
    }
  }

  return {
    exportFor: createPersonalDataExport({ orm: deps.orm }),

    /** Idempotent: while an erasure of this person runs, asking again answers that one. */
    async requestErasure(userId: string): Promise<ErasureView> {
      const em = deps.orm.em.fork();
      const digest = subjectDigest(userId);
      let row = await em.findOne(ErasureRequest, { subjectDigest: digest, status: 'running' });
      if (!row) {
        const id = randomUUID();
        row = em.create(ErasureRequest, { id, subjectDigest: digest, pendingUserId: userId, workflowId: workflowIds.erasure(id) });
        await em.flush();
      }
      await start(row);
      return viewOf(row);
    },

    /** Only the person it erases (or erased) can read it: their token's subject has the digest. */
    async erasureStatus(userId: string, erasureId: string): Promise<ErasureView> {
      const row = await deps.orm.em.fork().findOne(ErasureRequest, { id: erasureId, subjectDigest: subjectDigest(userId) });
      if (!row) throw new Problem('not-found', 'no erasure of yours with this id');
      return viewOf(row);
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;
