import type { MikroORM } from '@mikro-orm/postgresql';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import type { Logger } from '../logger.js';
import { webhookDeliveryWorkflowId, webhookDeliveryWorkflowType, type WebhookDeliveryInput } from '../temporal/contract.js';

/** Retry and disabling policy of deliveries; the defaults retry for about a day. */
export interface WebhookDeliverySettings {
  retryInitialSeconds: number;
  maxAttempts: number;
  disableAfterFailures: number;
}

export const defaultWebhookDeliverySettings: WebhookDeliverySettings = {
  // 10 s doubling (capped at an hour by the workflow): the 12th attempt is about 13 hours after the first.
  retryInitialSeconds: 10,
  maxAttempts: 12,
  disableAfterFailures: 5,
};

/**
 * Moves integration events on (runs in every API process, like the signup workflow starts): fans
 * each new `integration_event` row out to the endpoints that want it (one `webhook_delivery` row
 * each), then starts a delivery workflow for every delivery round Temporal does not have yet. The
 * business transaction only wrote the outbox row (a trigger), so a slow or dead receiver, or
 * Temporal being down, never delays a signup or an event change.
 */
export function createWebhookRelay(deps: {
  orm: MikroORM;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
  settings?: WebhookDeliverySettings;
  everyMs?: number;
}) {
  const settings = deps.settings ?? defaultWebhookDeliverySettings;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  /**
   * One statement: claims unrelayed rows (SKIP LOCKED, so API processes share the work), inserts a
   * delivery per matching enabled endpoint, marks the rows relayed. Raw SQL for the claim and the
   * insert-select in one round trip; `on conflict do nothing` keeps a repeated fan-out harmless.
   */
  async function fanOut(): Promise<number> {
    const rows = await deps.orm.em.fork().getConnection().execute<{ id: string }[]>(
      `with claimed as (
         select id, type, market, category from integration_event
          where relayed_at is null order by occurred_at limit 500 for update skip locked),
       deliveries as (
         insert into webhook_delivery (id, endpoint_id, message_id, status, attempts, round, created_at)
         select gen_random_uuid(), w.id, c.id, 'pending', 0, 1, clock_timestamp()
           from claimed c join webhook_endpoint w
             on w.enabled and c.type = any(w.event_types)
            and (w.market is null or w.market = c.market) and (w.category is null or w.category = c.category)
         on conflict (endpoint_id, message_id) do nothing)
       update integration_event set relayed_at = clock_timestamp() where id in (select id from claimed) returning id`,
    );
    return rows.length;
  }

  async function startPending(): Promise<void> {
    const em = deps.orm.em.fork();
    const pending = await em.getConnection().execute<{ id: string; round: number }[]>(
      `select id, round from webhook_delivery where status = 'pending' and started_at is null order by created_at limit 100`,
    );
    for (const delivery of pending) {
      const input: WebhookDeliveryInput = { deliveryId: delivery.id, ...settings };
      try {
        await deps.temporal.workflow.start(webhookDeliveryWorkflowType, {
          workflowId: webhookDeliveryWorkflowId(delivery.id, delivery.round),
          taskQueue: deps.taskQueue,
          args: [input],
          // A second start of the same round (another process, a lost answer) is refused, never run twice.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      await em.getConnection().execute(`update webhook_delivery set started_at = clock_timestamp() where id = ? and round = ?`, [delivery.id, delivery.round]);
    }
  }

  async function runOnce(): Promise<void> {
    while ((await fanOut()) > 0) {
      // drain bursts before starting deliveries
    }
    await startPending();
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      running = runOnce()
        .catch((error: unknown) => deps.logger.warn({ err: error }, 'webhook relay pass failed; retrying'))
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, deps.everyMs ?? 1000);
    timer.unref();
  }

  return {
    runOnce,
    start(): void {
      stopped = false;
      schedule();
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type WebhookRelay = ReturnType<typeof createWebhookRelay>;
