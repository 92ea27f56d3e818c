/**
 * The rate limits (src/limits/) on the real app and PostgreSQL: 429 problem+json with Retry-After
 * and the RateLimit headers after the configured burst; separate budgets per user and per client
 * address; X-Forwarded-For believed only from a trusted proxy; one write budget shared by two API
 * instances on one database, public reads counted per instance; PostgreSQL ending the limiter's
 * idle connections does not end the process. The file has a database of its own, so budgets spent
 * by other test files (all from 127.0.0.1) cannot leak in.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { Express } from 'express';
import { pino } from 'pino';
import { createTokenVerifier, mintDevToken } from '../../src/auth/tokens.js';
import { dropDatabase, ensureDatabase, withDatabaseName } from '../../src/db/admin.js';
import { migrateToLatest, openOrm, type MikroORM } from '../../src/db/orm.js';
import { createApp, rateLimitsOf, statusFeedOf, workflowStarterOf } from '../../src/http/app.js';
import { createApiServer } from '../../src/http/server.js';
import { RATE_LIMITS_APPLICATION_NAME } from '../../src/limits/rate-limits.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { Config } from '../../src/config.js';
import { requireEnv } from '../support/environment.js';
import { request } from '../support/http.js';
import { connectTestClient, eventually, testConfig } from '../support/stack.js';

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

async function startInstance(env: Record<string, string>, logger: Logger = createLogger('silent', 'api-limits')): Promise<Instance> {
  const config = testConfig({ DATABASE_URL: databaseUrl, ...env });
  const app = createApp({
    orm,
    temporal,
    verifyToken: await createTokenVerifier(config.jwt),
    logger,
    taskQueue: `limits-${randomUUID()}`,
    config,
    databaseUrl,
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
});
