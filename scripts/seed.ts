/**
 * Puts one published demo event in the database (through the same service and outbox the admin
 * API uses, so its lifecycle workflow starts like any published event's) and prints its id, for
 * the README's first steps.
 *   npm run seed [-- --capacity 10 --title "Lego build day"]
 * The lifecycle start is delivered here right after the commit; if Temporal cannot be reached it
 * stays in the outbox and the API's sweep starts it.
 */
import { parseArgs } from 'node:util';
import { seedDemoEvent } from './lib/seed.js';
import { configOrExit } from '../src/main-support.js';

const { values } = parseArgs({ options: { capacity: { type: 'string' }, title: { type: 'string' } } });
const config = configOrExit();
const { eventId, delivered } = await seedDemoEvent(config, { capacity: Number(values.capacity ?? 10), title: values.title });
if (!delivered) console.error(`Temporal at ${config.temporal.address} not reached: the event's lifecycle starts when the API's outbox sweep reaches it`);
console.log(eventId);
