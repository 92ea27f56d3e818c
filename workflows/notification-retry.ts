import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { NotificationRetryInput } from '../src/temporal/contract.js';

/**
 * One notification a fan-out could not deliver on some channel (a webhook that is down, an address
 * the mail server refuses): tried again on its own schedule, with a bound, while the fan-out and the
 * event's lifecycle went on. Channels that went out answer already-sent from the notification log,
 * so only the failed ones are retried. When the tries run out, the failed channels are recorded as
 * failed (listed by the ops API, counted in eventbook_notification_deliveries_failed_total).
 */
export async function notificationRetryWorkflow(input: NotificationRetryInput): Promise<'sent' | 'failed'> {
  const delivery = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: {
      initialInterval: `${input.initialIntervalSeconds} seconds`,
      backoffCoefficient: 2,
      maximumInterval: '1 hour',
      maximumAttempts: input.maximumAttempts,
    },
  });
  // Recording the failure is one short statement: retried through database trouble.
  const record = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 50 },
  });
  const { notification } = input;
  try {
    if (notification.to === 'signup') {
      const { to: _to, ...signupInput } = notification;
      await delivery.sendSignupNotification(signupInput);
    } else {
      const { to: _to, ...userInput } = notification;
      await delivery.sendUserNotification(userInput);
    }
    return 'sent';
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    await record.recordNotificationFailed({ key: input.key });
    return 'failed';
  }
}
