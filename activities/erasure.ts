import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { LockMode } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ErasureRequest, type ErasureCounts } from '../src/privacy/erasure.entity.js';
import { activeSignupStatuses } from '../src/signups/status.js';
import { createSignupWorkflowStarter } from '../src/signups/workflow-starts.js';
import { cancelSignupUpdate } from '../src/temporal/contract.js';

/**
 * The erasure workflow's steps (workflows/erasure.ts). Both are idempotent: a retried activity
 * finds cancelled signups already ended, and rows already anonymized or deleted.
 */
export function createErasureActivities(deps: { orm: MikroORM; temporal: Client }) {
  const starter = createSignupWorkflowStarter({ orm: deps.orm, temporal: deps.temporal });

  async function pendingUserOf(erasureId: string): Promise<string | undefined> {
    const row = await deps.orm.em.fork().findOneOrFail(ErasureRequest, erasureId);
    return row.pendingUserId ?? undefined;
  }

  return {
    /**
     * Every active signup of the person is cancelled through its own workflow, as if they had
     * cancelled it themselves: the seats go to the waiting list, and what was paid is refunded by
     * the event's refund policy (the same rule as a participant's cancellation).
     */
    async cancelSignupsOfErasedUser(input: { erasureId: string }): Promise<{ cancelled: number }> {
      const userId = await pendingUserOf(input.erasureId);
      if (!userId) return { cancelled: 0 };
      const rows = await deps.orm.em.fork().getConnection().execute<{ id: string; workflow_id: string }[]>(
        `select id, workflow_id from signup where user_id = ? and status in (${activeSignupStatuses.map(() => '?').join(', ')})`,
        [userId, ...activeSignupStatuses],
      );
      let cancelled = 0;
      for (const row of rows) {
        try {
          await starter.update({ id: row.id, workflowId: row.workflow_id }, cancelSignupUpdate, [{ by: 'participant', reason: 'account erased' }]);
          const workflow = deps.temporal.workflow.getHandle(row.workflow_id);
          // Its workflow ends after the refund and the cancellation mail: waiting for it means no
          // message about this signup is still on its way when the data goes.
          await workflow.result();
          cancelled += 1;
        } catch (error) {
          // Ended meanwhile (or never started): nothing to cancel.
          if (!(error instanceof WorkflowUpdateFailedError || error instanceof WorkflowNotFoundError)) throw error;
        }
      }
      return { cancelled };
    },

    /**
     * One transaction: the person's contact, interests and notification-log rows are deleted; their
     * signups keep only what the books need (amount, currency, Stripe reference, counts), with the
     * user id replaced by `erased:<signupId>`; attendees lose names and notes; consent records lose
     * the guardian's address, user agent and network. Then the request forgets the user id.
     */
    async anonymizeErasedUser(input: { erasureId: string; signupsCancelled: number }): Promise<ErasureCounts> {
      const em = deps.orm.em.fork();
      return em.transactional(async (tx) => {
        const request = await tx.findOneOrFail(ErasureRequest, input.erasureId, { lockMode: LockMode.PESSIMISTIC_WRITE });
        if (!request.pendingUserId) return request.counts ?? emptyCounts(input.signupsCancelled);
        const userId = request.pendingUserId;
        const connection = tx.getConnection();
        const run = async (sql: string, params: unknown[]) =>
          (await connection.execute<{ affectedRows: number }>(sql, params, 'run')).affectedRows;
        const counts: ErasureCounts = {
          signupsCancelled: input.signupsCancelled,
          attendeesAnonymized: await run(
            `update signup_attendee set first_name = '-', needs_note = null
              where signup_id in (select id from signup where user_id = ?)`,
            [userId],
          ),
          consentRecordsAnonymized: await run(
            `update consent_record set user_id = 'erased:' || signup_id, guardian_email = null, user_agent = null,
                    client_network = null, anonymized_at = now()
              where user_id = ?`,
            [userId],
          ),
          signupsAnonymized: await run(
            `update signup set user_id = 'erased:' || id, cancellation_reason = null, payment_client_secret = null,
                    idempotency_key = null, updated_at = now()
              where user_id = ?`,
            [userId],
          ),
          notificationLinksDeleted: await run('delete from notification_log where recipient_user_id = ?', [userId]),
          interestsDeleted: await run('delete from interest where user_id = ?', [userId]),
          contactsDeleted: await run('delete from user_contact where user_id = ?', [userId]),
        };
        request.pendingUserId = null;
        request.status = 'done';
        request.completedAt = new Date();
        request.counts = counts;
        return counts;
      });
    },
  };
}

function emptyCounts(signupsCancelled: number): ErasureCounts {
  return {
    signupsCancelled,
    signupsAnonymized: 0,
    attendeesAnonymized: 0,
    contactsDeleted: 0,
    interestsDeleted: 0,
    notificationLinksDeleted: 0,
    consentRecordsAnonymized: 0,
  };
}
