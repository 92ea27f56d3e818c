/**
 * Puts one published demo event in the database (through the same service the admin API uses)
 * and prints its id, for the README's first steps.
 *   npm run seed [-- --capacity 10 --title "Lego build day"]
 */
import { parseArgs } from 'node:util';
import { openOrm } from '../src/db/orm.js';
import { newEventSchema } from '../src/events/event-input.js';
import { createEventAdminService } from '../src/events/admin-service.js';
import { configOrExit } from '../src/main-support.js';

const { values } = parseArgs({ options: { capacity: { type: 'string' }, title: { type: 'string' } } });
const config = configOrExit();
const orm = await openOrm(config.database);
try {
  const day = 86_400_000;
  const startsAt = new Date(Date.now() + 14 * day);
  const input = newEventSchema.parse({
    defaultLocale: 'en',
    translations: {
      en: { title: values.title ?? 'Lego build day', description: 'Build, test and race your own Lego cars.' },
      nb: { title: 'Legobyggedag', description: 'Bygg, test og kjør dine egne Lego-biler.' },
    },
    category: 'workshop',
    market: 'NO',
    timezone: 'Europe/Oslo',
    startsAt: startsAt.toISOString(),
    endsAt: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
    cancellationDeadline: new Date(startsAt.getTime() - day).toISOString(),
    capacity: Number(values.capacity ?? 10),
    // Children from 6, with their grown-ups (no upper age): the README signs up a child and an adult.
    ageRules: { minAge: 6, guardianConsentBelowAge: 13 },
    publish: true,
  });
  const event = await createEventAdminService({ orm }).createEvent({ userId: 'seed', roles: ['admin'], markets: [] }, input);
  console.log(event.id);
} finally {
  await orm.close(true);
}
