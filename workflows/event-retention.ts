import { proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { searchAttributes } from '../src/temporal/contract.js';

// The purge is one transaction, safe to run again (a retry finds nothing left to change).
const retention = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 20 },
});

/**
 * A cancelled event's personal data, purged `retentionSeconds` after the cancellation (its lifecycle
 * started this flow once it had cancelled every signup, and ended). A completed event's purge is a
 * step of its lifecycle instead.
 */
export async function eventRetentionWorkflow(input: { eventId: string; retentionSeconds: number }): Promise<{ eventId: string; phase: 'purged' }> {
  upsertSearchAttributes([{ key: searchAttributes.eventPhase, value: 'cancelled' }]);
  await sleep(input.retentionSeconds * 1000);
  await retention.purgePersonalData({ eventId: input.eventId });
  upsertSearchAttributes([{ key: searchAttributes.eventPhase, value: 'purged' }]);
  return { eventId: input.eventId, phase: 'purged' };
}
