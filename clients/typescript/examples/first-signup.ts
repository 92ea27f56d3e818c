/**
 * The README's first signup, with the typed client:
 *   EVENTBOOK_URL=http://localhost:3000 EVENTBOOK_TOKEN=$(npm run -s token -- --sub u1 --email u1@example.test) \
 *     npx tsx clients/typescript/examples/first-signup.ts
 */
import { randomUUID } from 'node:crypto';
import { createEventbookClient } from '../src/index.js';

const api = createEventbookClient({
  baseUrl: process.env.EVENTBOOK_URL ?? 'http://localhost:3000',
  token: process.env.EVENTBOOK_TOKEN,
});

// The catalog: typed query parameters, typed items.
const { data: page, error: listError } = await api.GET('/v1/events', { params: { query: { limit: '5', age: '9' } } });
if (listError) throw new Error(`listing failed: ${listError.title}`);
const event = page.items[0];
if (!event) throw new Error('no event open to a 9-year-old: run `npm run seed` first');
console.log(`${event.title} (${event.startsAt}): ${event.spotsLeft} spots left`);

// A signup: the body is checked by the compiler; errors are problem documents.
const { data: signup, error } = await api.POST('/v1/events/{eventId}/signups', {
  params: { path: { eventId: event.id }, header: { 'Idempotency-Key': randomUUID() } },
  body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
});
if (error) throw new Error(`${error.status} ${error.title}: ${error.detail ?? ''}`);
console.log(`signup ${signup.id}: ${signup.status}`, signup.attendees.map((attendee) => attendee.ticketCode));
