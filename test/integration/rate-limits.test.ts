/**
 * The rate limits (src/limits/) on the real app and PostgreSQL: 429 problem+json with Retry-After
 * and the RateLimit headers after the configured burst; separate budgets per user and per client
 * address; X-Forwarded-For believed only from a trusted proxy; one write budget shared by two API
 * instances on one database, public reads counted per instance; PostgreSQL ending the limiter's
 * idle connections does not end the process, and PostgreSQL out of reach leaves the limits counting
 * in memory. A write costs one statement on the limiter's connections (both budgets), and the writes
 * waiting in one process share one, each with its own count; an address
 * over its budget is refused before its token is looked at, with none; requests without a valid
 * token spend no write budget; the write route that takes no token (a guardian's decision) spends
 * its address's. The file has a database of its own, so budgets spent by other test files (all
 * from 127.0.0.1) cannot leak in.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import pg from 'pg';
import { pino } from 'pino';
import { createTokenVerifier, mintDevToken } from '../../src/auth/tokens.js';
import { dropDatabase, ensureDatabase, withDatabaseName } from '../../src/db/admin.js';
import { migrateToLatest, openOrm, type MikroORM } from '../../src/db/orm.js';
import { createApp, rateLimitsOf, statusFeedOf, workflowStarterOf } from '../../src/http/app.js';
import { createApiServer } from '../../src/http/server.js';
import { createWriteCounter, RATE_LIMITS_APPLICATION_NAME, type CountedBudget, type Outcome } from '../../src/limits/rate-limits.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { Config } from '../../src/config.js';
import { requireEnv } from '../support/environment.js';
import { request } from '../support/http.js';
import { connectTestClient, eventually, insertEvent, testConfig } from '../support/stack.js';

const limits = {
  RATE_LIMIT_SIGNUP_PER_USER: '3/60',
  RATE_LIMIT_SIGNUP_PER_ADDRESS: '5/60',
  RATE_LIMIT_PUBLIC_READS_PER_ADDRESS: '4/60',
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '2/60',
};

interface Instance {
  app: Express;
  server: Server;
  baseUrl: string;
  config: Config;
}

let databaseUrl: string;
let orm: MikroORM;
let temporal: Client;
const instances: Instance[] = [];

async function startInstance(
  env: Record<string, string>,
  logger: Logger = createLogger('silent', 'api-limits'),
  limiterDatabaseUrl = databaseUrl,
): Promise<Instance> {
  const config = testConfig({ DATABASE_URL: databaseUrl, ...env });
  const app = createApp({
    orm,
    temporal,
    verifyToken: await createTokenVerifier(config.jwt),
    logger,
    taskQueue: `limits-${randomUUID()}`,
    config,
    databaseUrl: limiterDatabaseUrl,
  });
  const server = createApiServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const instance = { app, server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, config };
  instances.push(instance);
  return instance;
}

beforeAll(async () => {
  databaseUrl = withDatabaseName(requireEnv('DATABASE_URL'), `eventbook_limits_${process.pid}_${Date.now().toString(36)}`);
  await ensureDatabase(databaseUrl);
  orm = await openOrm({ url: databaseUrl, poolMax: 4 });
  await migrateToLatest(orm);
  temporal = await connectTestClient();
});

afterAll(async () => {
  for (const { server, app } of instances) {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    await statusFeedOf(app)?.close();
    await workflowStarterOf(app)?.stop();
    await rateLimitsOf(app)?.close();
  }
  await temporal?.connection.close();
  await orm?.close(true);
  if (databaseUrl) await dropDatabase(databaseUrl);
});

/** A signup write that changes nothing: cancelling a signup that does not exist (404), still a signup write. */
function cancelNothing(api: Instance, token: string, from: string) {
  return request(api.baseUrl, 'POST', `/v1/signups/${randomUUID()}/cancel`, { token, body: {}, headers: { 'x-forwarded-for': from } });
}

/**
 * Counts the statements sent on the limiter's connections (application_name
 * eventbook-rate-limits) from here on, at pg's client: the app's other connections are not counted.
 */
function limiterStatements() {
  const spy = jest.spyOn(pg.Client.prototype, 'query');
  const ours = (client: unknown) => (client as { connectionParameters?: { application_name?: string } }).connectionParameters?.application_name === RATE_LIMITS_APPLICATION_NAME;
  return {
    count: () => spy.mock.contexts.filter(ours).length,
    stop: () => spy.mockRestore(),
  };
}

async function rowsFor(key: string): Promise<{ key: string; points: number }[]> {
  return orm.em.getConnection().execute<{ key: string; points: number }[]>('select key, points from rate_limit where key like ? order by key', [`%:${key}`]);
}

const address = () => `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;

describe('rate limits', () => {
  let api: Instance;

  beforeAll(async () => {
    // Behind a proxy on loopback (as the tests are): X-Forwarded-For names the client.
    api = await startInstance({ ...limits, TRUST_PROXY: 'loopback' });
  });

  it('refuses the user after the burst with 429, Retry-After and the RateLimit headers', async () => {
    const token = await mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const from = address();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await cancelNothing(api, token, from));
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 429]);
    expect(answers[0]?.headers.get('ratelimit-policy')).toBe('"signup-address";q=5;w=60, "signup-user";q=3;w=60');
    expect(answers[0]?.headers.get('ratelimit')).toMatch(/^"signup-address";r=4;t=\d+, "signup-user";r=2;t=\d+$/);
    const refused = answers[3]!;
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ type: '/problems/rate-limited', status: 429 });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit')).toMatch(/"signup-user";r=0;t=\d+$/);
  });

  it('spends a signup request\'s budget alongside its reads: over budget it is a 429 whatever else is wrong, and nothing is written', async () => {
    const token = await mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const from = address();
    const event = await insertEvent(orm, { capacity: 10 });
    const signUp = (eventId: string, body: unknown = { attendees: [{ firstName: 'Kid', age: 9, kind: 'child' }], platform: 'web' }) =>
      request(api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, { token, body, headers: { 'x-forwarded-for': from } });
    // Three requests the budget allows, each answered by the context it read: no such event.
    const allowed = [await signUp(randomUUID()), await signUp(randomUUID()), await signUp(randomUUID(), { attendees: 'none' })];
    expect(allowed.map((answer) => answer.status)).toEqual([404, 404, 400]);
    expect(allowed[0]?.headers.get('ratelimit')).toMatch(/^"signup-address";r=4;t=\d+, "signup-user";r=2;t=\d+$/);
    // Over budget: a body that does not parse, an event that does not exist, and one with seats.
    const refused = [await signUp(event.id, { attendees: 'none' }), await signUp(randomUUID()), await signUp(event.id)];
    expect(refused.map((answer) => answer.status)).toEqual([429, 429, 429]);
    for (const answer of refused) {
      expect(answer.body).toMatchObject({ type: '/problems/rate-limited', status: 429 });
      expect(answer.headers.get('ratelimit')).toMatch(/"signup-user";r=0;t=\d+$/);
    }
    expect(await orm.em.getConnection().execute('select id from signup where event_id = ?', [event.id])).toEqual([]);
  });

  it('keeps separate budgets per user and per address', async () => {
    const mint = () => mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const [first, second, third] = [await mint(), await mint(), await mint()];
    const shared = address();
    // first spends its own budget (3) and 3 of the address's 5
    for (let i = 0; i < 3; i++) expect((await cancelNothing(api, first, shared)).status).toBe(404);
    expect((await cancelNothing(api, first, shared)).status).toBe(429); // its 4th: the user's budget (the address's 4th)
    // Another user from the same address still has a budget of its own; the address has one left.
    expect((await cancelNothing(api, second, shared)).status).toBe(404);
    const addressSpent = await cancelNothing(api, third, shared);
    expect(addressSpent.status).toBe(429);
    expect(addressSpent.body.detail).toContain('signup-address');
    // The same users from another address are fine again (second has 2 of its own left).
    expect((await cancelNothing(api, second, address())).status).toBe(404);
  });

  it('limits public reads per address, and refused tokens per address', async () => {
    const from = address();
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push((await request(api.baseUrl, 'GET', `/v1/events/${randomUUID()}`, { headers: { 'x-forwarded-for': from } })).status);
    expect(reads).toEqual([404, 404, 404, 404, 429]);
    expect((await request(api.baseUrl, 'GET', `/v1/events/${randomUUID()}`, { headers: { 'x-forwarded-for': address() } })).status).toBe(404);

    const guesser = address();
    const bad = [];
    for (let i = 0; i < 3; i++) bad.push((await request(api.baseUrl, 'GET', '/v1/me/signups', { token: 'not.a.token', headers: { 'x-forwarded-for': guesser } })).status);
    expect(bad).toEqual([401, 401, 429]);
    // A good token from elsewhere is unaffected.
    const token = await mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    expect((await request(api.baseUrl, 'GET', '/v1/me/signups', { token, headers: { 'x-forwarded-for': address() } })).status).toBe(200);
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const direct = await startInstance({ ...limits, RATE_LIMIT_PUBLIC_READS_PER_ADDRESS: '3/60' });
    // No proxy trusted: every request counts for the socket's address, whatever the header says.
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(direct.baseUrl, 'GET', `/v1/events/${randomUUID()}`, { headers: { 'x-forwarded-for': address() } })).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it('is one budget for two API instances on one database', async () => {
    const other = await startInstance({ ...limits, TRUST_PROXY: 'loopback' });
    const token = await mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const from = address();
    const statuses = [];
    for (const instance of [api, other, api, other]) statuses.push((await cancelNothing(instance, token, from)).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it('counts public reads in each instance: another one has a budget of its own', async () => {
    const other = await startInstance({ ...limits, TRUST_PROXY: 'loopback' });
    const from = address();
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push((await request(api.baseUrl, 'GET', `/v1/events/${randomUUID()}`, { headers: { 'x-forwarded-for': from } })).status);
    expect(reads).toEqual([404, 404, 404, 404, 429]);
    // In memory per process (docs/architecture.md): N replicas let one address read N x the budget.
    const elsewhere = await request(other.baseUrl, 'GET', `/v1/events/${randomUUID()}`, { headers: { 'x-forwarded-for': from } });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.headers.get('ratelimit')).toMatch(/^"public-address";r=3;t=\d+$/);
  });

  it("keeps answering and counting when PostgreSQL ends the limiter's idle connections", async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const instance = await startInstance({ ...limits, TRUST_PROXY: 'loopback' }, logger);
    const token = await mintDevToken(instance.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const from = address();
    // A write spends from the PostgreSQL budgets: the limiter's pool now holds an idle connection.
    expect((await cancelNothing(instance, token, from)).status).toBe(404);
    // As a restart or failover would: PostgreSQL ends every connection of the limiters (this file's instances).
    const ended = await orm.em
      .getConnection()
      .execute<{ ended: boolean }[]>(
        // In the select list, not the WHERE clause: PostgreSQL may evaluate conditions in any order.
        'select pg_terminate_backend(pid) as ended from pg_stat_activity where application_name = ? and datname = current_database()',
        [RATE_LIMITS_APPLICATION_NAME],
      );
    expect(ended.length).toBeGreaterThan(0);
    expect(ended.every((row) => row.ended)).toBe(true);
    // The pool hears of it on its idle connection ('error'): unheard, that event ends the process.
    await eventually('the limiter to notice its ended connection', () =>
      Promise.resolve(warnings.some((line) => line.includes('PostgreSQL ended an idle connection')) ? true : undefined),
    );
    const after = await cancelNothing(instance, token, from);
    expect(after.status).toBe(404);
    // Still counted in PostgreSQL, on a new connection: the user's second of 3 (the in-memory
    // insurance limiter, which counts only while the store fails, would say r=2).
    expect(after.headers.get('ratelimit')).toMatch(/"signup-user";r=1;t=\d+$/);
  });

  it('spends both budgets of a write in one statement on the limiter\'s connections', async () => {
    const token = await mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const from = address();
    const statements = limiterStatements();
    try {
      const answer = await cancelNothing(api, token, from);
      expect(answer.status).toBe(404);
      expect(statements.count()).toBe(1);
      expect(answer.headers.get('ratelimit-policy')).toBe('"signup-address";q=5;w=60, "signup-user";q=3;w=60');
      expect(answer.headers.get('ratelimit')).toMatch(/^"signup-address";r=4;t=\d+, "signup-user";r=2;t=\d+$/);
      // The rows as rate-limiter-flexible's store writes them: `<prefix>:<key>`, points in the window.
      expect(await rowsFor(from)).toEqual([{ key: `signup-address:${from}`, points: 1 }]);
      const second = await cancelNothing(api, token, from);
      expect(second.headers.get('ratelimit')).toMatch(/^"signup-address";r=3;t=\d+, "signup-user";r=1;t=\d+$/);
      expect(statements.count()).toBe(2);
    } finally {
      statements.stop();
    }
  });

  it("refuses a user over budget from memory, and still counts the address's budget (one statement)", async () => {
    const token = await mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const from = address();
    for (let i = 0; i < 4; i++) await cancelNothing(api, token, from); // 3 and a refusal: the user is blocked in memory now
    const statements = limiterStatements();
    try {
      const refused = await cancelNothing(api, token, from);
      expect(refused.status).toBe(429);
      expect(refused.body.detail).toContain('signup-user');
      expect(refused.headers.get('ratelimit')).toMatch(/^"signup-address";r=0;t=\d+, "signup-user";r=0;t=\d+$/);
      expect(statements.count()).toBe(1);
      // The address counted all 5 (one point in this statement).
      expect(await rowsFor(from)).toEqual([{ key: `signup-address:${from}`, points: 5 }]);
    } finally {
      statements.stop();
    }
  });

  it('counts the writes waiting in one process in one statement, each with its own count, and stays exact across processes', async () => {
    // Two processes' counters on one database, each with its own pool, as two API replicas have.
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: RATE_LIMITS_APPLICATION_NAME }));
    try {
      const counters = pools.map((pool) => createWriteCounter<CountedBudget>(pool));
      const budget: CountedBudget = { name: 'signup-address', rate: { points: 30, seconds: 60 } };
      const from = address();
      const statements = limiterStatements();
      let first: Outcome<CountedBudget>[][];
      try {
        // 25 writes from one address, all waiting in one process at once: one statement, counts 1 to 25 in arrival order.
        first = await Promise.all(Array.from({ length: 25 }, () => counters[0]!([{ budget, key: from }])));
        expect(statements.count()).toBe(1);
      } finally {
        statements.stop();
      }
      expect(first.map(([outcome]) => outcome!.result.consumedPoints)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      expect(first.every(([outcome]) => !outcome!.refused)).toBe(true);
      // Then 10 more in each process at once: 5 of the 20 are within the budget, whichever process counted first.
      const both = await Promise.all(counters.flatMap((count) => Array.from({ length: 10 }, () => count([{ budget, key: from }]))));
      const counts = both.map(([outcome]) => outcome!.result.consumedPoints).sort((a, b) => a - b);
      expect(counts).toEqual(Array.from({ length: 20 }, (_, i) => 26 + i));
      expect(both.filter(([outcome]) => !outcome!.refused).length).toBe(5);
      expect(await rowsFor(from)).toEqual([{ key: `signup-address:${from}`, points: 45 }]);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuses an address over its budget before authentication, from memory: no statement, no failed-authentication point', async () => {
    const mint = () => mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const [first, second] = [await mint(), await mint()];
    const from = address();
    const statements = limiterStatements();
    try {
      // The address's 5, from two users (3 each): one statement per write.
      for (const token of [first, first, first, second, second]) expect((await cancelNothing(api, token, from)).status).toBe(404);
      expect(statements.count()).toBe(5);
      const over = await cancelNothing(api, second, from);
      expect(over.status).toBe(429);
      expect(over.body.detail).toContain('signup-address');
      expect(statements.count()).toBe(6);

      // Now known in memory: a bad token from there is 429, not 401, and costs nothing.
      const bad = await request(api.baseUrl, 'POST', `/v1/signups/${randomUUID()}/cancel`, { token: 'not.a.token', body: {}, headers: { 'x-forwarded-for': from } });
      expect(bad.status).toBe(429);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      expect(bad.body).toMatchObject({ type: '/problems/rate-limited', status: 429 });
      expect(bad.body.detail).toContain('signup-address');
      expect(Number(bad.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(bad.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(bad.headers.get('ratelimit-policy')).toBe('"signup-address";q=5;w=60');
      expect(bad.headers.get('ratelimit')).toMatch(/^"signup-address";r=0;t=\d+$/);
      // And so is a valid one.
      expect((await cancelNothing(api, await mint(), from)).status).toBe(429);
      expect(statements.count()).toBe(6);
      expect(await rowsFor(from)).toEqual([{ key: `signup-address:${from}`, points: 6 }]);
    } finally {
      statements.stop();
    }
  });

  it('spends no write budget for a request without a valid token', async () => {
    const from = address();
    const statements = limiterStatements();
    try {
      // More than the address's 5: without a token they are 401s that count for nothing.
      for (let i = 0; i < 6; i++) expect((await request(api.baseUrl, 'POST', `/v1/signups/${randomUUID()}/cancel`, { body: {}, headers: { 'x-forwarded-for': from } })).status).toBe(401);
      // A refused token spends the failed-authentication budget only.
      expect((await request(api.baseUrl, 'POST', `/v1/signups/${randomUUID()}/cancel`, { token: 'not.a.token', body: {}, headers: { 'x-forwarded-for': from } })).status).toBe(401);
      expect(statements.count()).toBe(1);
      expect(await rowsFor(from)).toEqual([{ key: `auth-failures-address:${from}`, points: 1 }]);
    } finally {
      statements.stop();
    }
    const token = await mintDevToken(api.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const answer = await cancelNothing(api, token, from);
    expect(answer.status).toBe(404);
    expect(answer.headers.get('ratelimit')).toMatch(/^"signup-address";r=4;t=\d+, "signup-user";r=2;t=\d+$/);
  });

  it("spends the address's budget for the write route that takes no token (a guardian's decision)", async () => {
    const from = address();
    const decide = () => request(api.baseUrl, 'POST', `/v1/consents/${randomUUID()}.not-signed`, { body: { decision: 'approved' }, headers: { 'x-forwarded-for': from } });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await decide());
    expect(statuses.map((answer) => answer.status)).toEqual([404, 404, 404, 404, 404, 429]);
    expect(statuses[0]?.headers.get('ratelimit-policy')).toBe('"signup-address";q=5;w=60');
    expect(statuses[0]?.headers.get('ratelimit')).toMatch(/^"signup-address";r=4;t=\d+$/);
    expect(statuses[5]?.body.detail).toContain('signup-address');
  });

  it("limits the guardian's HTML page like its JSON twin: the form's posts spend the address's write budget, the page's reads its read budget", async () => {
    const from = address();
    const page = `${api.baseUrl}/consent/${randomUUID()}.not-signed`;
    const post = () =>
      fetch(page, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
        body: new URLSearchParams({ decision: 'approved', guardian: 'yes', formToken: 'x' }),
      });
    const posted = [];
    for (let i = 0; i < 6; i++) posted.push(await post());
    // A link that is not ours is the "link not valid" page, until the address's budget is spent.
    expect(posted.map((answer) => answer.status)).toEqual([404, 404, 404, 404, 404, 429]);
    expect(posted[0]?.headers.get('ratelimit-policy')).toBe('"signup-address";q=5;w=60');
    expect(posted[5]?.headers.get('retry-after')).toMatch(/^\d+$/);
    const reader = address();
    const reads = [];
    for (let i = 0; i < 5; i++) reads.push((await fetch(page, { headers: { 'x-forwarded-for': reader } })).status);
    expect(reads).toEqual([404, 404, 404, 404, 429]);
  });

  it('counts in memory while PostgreSQL is out of reach: the API answers and still limits', async () => {
    // Nothing listens on port 1: every limiter statement fails at once.
    const instance = await startInstance({ ...limits, TRUST_PROXY: 'loopback' }, undefined, 'postgres://postgres@127.0.0.1:1/eventbook_unreachable');
    const token = await mintDevToken(instance.config.jwt, { sub: `limits-${randomUUID()}`, roles: ['participant'] });
    const from = address();
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await cancelNothing(instance, token, from));
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 429]);
    expect(answers[0]?.headers.get('ratelimit')).toMatch(/^"signup-address";r=4;t=\d+, "signup-user";r=2;t=\d+$/);
    expect(answers[3]?.headers.get('ratelimit')).toMatch(/"signup-user";r=0;t=\d+$/);
    // Refused tokens too (the library's insurance limiter).
    const guesser = address();
    const bad = [];
    for (let i = 0; i < 3; i++) bad.push((await request(instance.baseUrl, 'GET', '/v1/me/signups', { token: 'not.a.token', headers: { 'x-forwarded-for': guesser } })).status);
    expect(bad).toEqual([401, 401, 429]);
  });
});
