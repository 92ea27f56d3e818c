import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { WebhookDeliveryInput } from '../src/temporal/contract.js';

/**
 * One delivery round of one message to one endpoint (id `webhook-delivery-<deliveryId>-<round>`).
 * The HTTP attempts are the activity's attempts: Temporal retries them with exponential backoff
 * (durable across worker restarts); when the policy gives up, the delivery is marked failed and
 * the endpoint's run of failures grows (possibly disabling it).
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<'delivered' | 'skipped' | 'failed'> {
  const { deliverWebhook } = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: input.retryInitialSeconds * 1000,
      backoffCoefficient: 2,
      maximumInterval: '1 hour',
      maximumAttempts: input.maxAttempts,
    },
  });
  const { webhookDeliveryFailed } = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 30 },
  });
  try {
    return await deliverWebhook({ deliveryId: input.deliveryId });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    await webhookDeliveryFailed({ deliveryId: input.deliveryId, disableAfterFailures: input.disableAfterFailures });
    return 'failed';
  }
}
