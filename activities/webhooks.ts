import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Mailer } from '../src/notifications/mailer.js';
import { messageBody, postMessage, signedHeaders } from '../src/webhooks/delivery.js';
import { WebhookDelivery, WebhookEndpoint } from '../src/webhooks/webhook.entities.js';

/** Outbound webhook deliveries (src/webhooks/): one HTTP attempt per activity attempt; Temporal retries with backoff. */
export function createWebhookActivities(deps: { orm: MikroORM; mailer: Mailer }) {
  return {
    async deliverWebhook(input: { deliveryId: string }): Promise<'delivered' | 'skipped'> {
      const em = deps.orm.em.fork();
      const delivery = await em.findOne(WebhookDelivery, input.deliveryId, { populate: ['endpoint', 'message'] });
      // Gone with its endpoint (deleted while this round retried): nothing to send, nobody to count it against.
      if (!delivery) return 'skipped';
      if (delivery.status === 'delivered') return 'delivered';
      const endpoint = delivery.endpoint;
      if (!endpoint.enabled) {
        await em.nativeUpdate(WebhookDelivery, { id: delivery.id, status: 'pending' }, { status: 'skipped' });
        return 'skipped';
      }
      const body = messageBody(delivery.message);
      const at = new Date();
      const result = await postMessage(endpoint.url, signedHeaders(endpoint.secret, delivery.message.id, body, at), body);
      await em.getConnection().execute(
        `update webhook_delivery set attempts = attempts + 1, last_status_code = ?, last_error = ?, last_attempt_at = ?,
                status = case when ? then 'delivered' else status end, delivered_at = case when ? then ? else delivered_at end
          where id = ?`,
        [result.statusCode, result.error, at, result.ok, result.ok, at, delivery.id],
      );
      if (!result.ok) throw ApplicationFailure.retryable(`${endpoint.url}: ${result.error ?? 'failed'}`, 'WebhookAttemptFailed');
      await em.nativeUpdate(WebhookEndpoint, { id: endpoint.id }, { consecutiveFailures: 0 });
      return 'delivered';
    },

    /**
     * Every attempt of this round failed: the delivery is `failed`, and the endpoint's run of
     * failures grows; at `disableAfterFailures` it is disabled (conditionally, so only one
     * delivery does it) and its owner is mailed once.
     */
    async webhookDeliveryFailed(input: { deliveryId: string; disableAfterFailures: number }): Promise<{ disabled: boolean }> {
      const em = deps.orm.em.fork();
      const delivery = await em.findOne(WebhookDelivery, input.deliveryId, { populate: ['endpoint', 'message'] });
      if (!delivery || delivery.status !== 'pending') return { disabled: false };
      await em.nativeUpdate(WebhookDelivery, { id: delivery.id, status: 'pending' }, { status: 'failed' });
      const [row] = await em.getConnection().execute<{ consecutive_failures: number }[]>(
        `update webhook_endpoint set consecutive_failures = consecutive_failures + 1, updated_at = now() where id = ? returning consecutive_failures`,
        [delivery.endpoint.id],
      );
      if (!row || row.consecutive_failures < input.disableAfterFailures) return { disabled: false };
      const reason = `${row.consecutive_failures} messages in a row failed every attempt (last: ${delivery.lastError ?? 'no answer'})`.slice(0, 500);
      const disabled = await em.nativeUpdate(
        WebhookEndpoint,
        { id: delivery.endpoint.id, enabled: true },
        { enabled: false, disabledAt: new Date(), disabledReason: reason },
      );
      const owner = delivery.endpoint.ownerEmail;
      if (disabled === 1 && owner) {
        const endpoint = delivery.endpoint;
        const text =
          `Your webhook endpoint ${endpoint.url} was disabled: ${reason}.\n\n` +
          `Messages for it are no longer sent. When it works again, enable it with PATCH /v1/admin/webhook-endpoints/${endpoint.id} ` +
          `{"enabled": true}, and redeliver the messages that failed from its delivery log (GET /v1/admin/webhook-endpoints/${endpoint.id}/deliveries). ` +
          `Messages of the time it is disabled are not kept for it.`;
        await deps.mailer.send({
          to: owner,
          subject: `Webhook endpoint disabled: ${endpoint.url}`,
          text,
          html: `<p>${text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`).replace(/\n\n/g, '</p><p>')}</p>`,
          notificationKey: `webhook-disabled:${endpoint.id}:${delivery.id}`,
        });
      }
      return { disabled: disabled === 1 };
    },
  };
}
