/**
 * The README's first signup, with the typed client. With the stack running (README, "Run it"), in
 * the repository root:
 *
 *   EVENT=$(npm run -s seed)
 *   TOKEN=$(npm run -s token -- --sub u2 --role participant --email u2@example.test --birthdate 1985-04-02)
 *   EVENTBOOK_URL=http://localhost:3000 EVENTBOOK_TOKEN=$TOKEN EVENTBOOK_EVENT=$EVENT npx tsx clients/typescript/examples/first-signup.ts
 *
 * The token is a grown-up's (the seeded event asks a guardian for anyone younger than 13, and for a
 * token without a birthdate). Without EVENTBOOK_EVENT it signs up for the first event in the
 * catalog open to a 9-year-old. test/integration/typescript-client.test.ts runs the lines above.
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
for (const item of page.items) console.log(`${item.title} (${item.startsAt}): ${item.spotsLeft} spots left`);

// One event, by its id (a path parameter).
const eventId = process.env.EVENTBOOK_EVENT ?? page.items[0]?.id;
if (!eventId) throw new Error('no event open to a 9-year-old: run `npm run seed` first');
const { data: event, error: readError } = await api.GET('/v1/events/{eventId}', { params: { path: { eventId } } });
if (readError) throw new Error(`${readError.status} ${readError.title}: ${readError.detail ?? ''}`);
console.log(`signing up for ${event.title}`);

// A signup: the body is checked by the compiler; errors are problem documents.
const { data: signup, error } = await api.POST('/v1/events/{eventId}/signups', {
  params: { path: { eventId }, header: { 'Idempotency-Key': randomUUID() } },
  body: {
    attendees: [
      { firstName: 'Ada', age: 9, kind: 'child' },
      { firstName: 'Kari', age: 41, kind: 'adult' },
    ],
    platform: 'web',
  },
});
if (error) throw new Error(`${error.status} ${error.title}: ${error.detail ?? ''}`);
console.log(`signup ${signup.id}: ${signup.status}`, signup.attendees.map((attendee) => attendee.ticketCode));
