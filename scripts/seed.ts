/**
 * Puts one published demo event in the database and prints its id, for the README's first steps.
 *   npm run seed [-- --capacity 10 --title "Lego build day"]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { openOrm } from '../src/db/orm.js';
import { LiveEvent } from '../src/events/event.entity.js';
import { configOrExit } from '../src/main-support.js';

const { values } = parseArgs({ options: { capacity: { type: 'string' }, title: { type: 'string' } } });
const config = configOrExit();
const orm = await openOrm(config.database);
try {
  const em = orm.em.fork();
  const startsAt = new Date(Date.now() + 14 * 86_400_000);
  const event = em.create(LiveEvent, {
    id: randomUUID(),
    title: values.title ?? 'Lego build day',
    market: 'NO',
    timezone: 'Europe/Oslo',
    status: 'published',
    startsAt,
    endsAt: new Date(startsAt.getTime() + 3 * 3_600_000),
    capacity: Number(values.capacity ?? 10),
  });
  await em.flush();
  console.log(event.id);
} finally {
  await orm.close(true);
}
