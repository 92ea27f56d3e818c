import { connectTemporalClient } from '../../src/temporal/client.js';
import type { Config } from '../../src/config.js';
import { openOrm } from '../../src/db/orm.js';
import { newEventSchema } from '../../src/events/event-input.js';
import { createEventAdminService } from '../../src/events/admin-service.js';
import { createLifecycleOutbox } from '../../src/events/lifecycle-client.js';

/**
 * The demo event of `npm run seed`: created and published by the admin service, its lifecycle
 * start written to the outbox in the same transaction, then delivered to Temporal (as the API's
 * relay does). `delivered` is false when Temporal was not reachable: the row waits for a sweep.
 */
export async function seedDemoEvent(config: Config, options: { capacity: number; title?: string | undefined }): Promise<{ eventId: string; delivered: boolean }> {
  const orm = await openOrm(config.database);
  try {
    const day = 86_400_000;
    const startsAt = new Date(Date.now() + 14 * day);
    const input = newEventSchema.parse({
      defaultLocale: 'en',
      translations: {
        en: { title: options.title ?? 'Lego build day', description: 'Build, test and race your own Lego cars.' },
        nb: { title: 'Legobyggedag', description: 'Bygg, test og kjør dine egne Lego-biler.' },
      },
      category: 'workshop',
      market: 'NO',
      timezone: 'Europe/Oslo',
      startsAt: startsAt.toISOString(),
      endsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
      cancellationDeadline: new Date(startsAt.getTime() - day).toISOString(),
      capacity: options.capacity,
      // Children from 6, with their grown-ups (no upper age): the README signs up a child and an adult.
      ageRules: { minAge: 6, guardianConsentBelowAge: 13 },
      publish: true,
    });
    const service = createEventAdminService({
      orm,
      lifecycle: { settings: { taskQueue: config.temporal.taskQueue, lifecycle: config.lifecycle } },
    });
    const event = await service.createEvent({ userId: 'seed', roles: ['admin'], markets: [] }, input);
    let delivered = false;
    try {
      const temporal = await connectTemporalClient(config.temporal);
      try {
        await createLifecycleOutbox({ orm, temporal }).deliver(event.id);
        delivered = true;
      } finally {
        await temporal.connection.close();
      }
    } catch {
      // Left in the outbox: the API's sweep delivers it.
    }
    return { eventId: event.id, delivered };
  } finally {
    await orm.close(true);
  }
}
