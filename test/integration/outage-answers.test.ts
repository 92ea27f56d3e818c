/**
 * Honest answers while a dependency is down: the API talks to PostgreSQL and Temporal through TCP
 * proxies this file cuts (the shared database and dev server keep running for everyone else; the
 * worker uses them directly). Every answer is then problem+json 503 with Retry-After, within 2 s,
 * and nothing is half-written; once the proxy is restored the same request works. One command needs
 * no Temporal: a free signup confirmed at the door, with no workflow of its own yet, is cancelled by
 * the API, and its workflow is started (as cancelled) when Temporal is back.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { createConsentToken } from '../../src/consents/consent-token.js';
import { openOrm, type MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { searchAttributes, workflowIds } from '../../src/temporal/contract.js';
import { requireEnv } from '../support/environment.js';
import { request, type JsonResponse } from '../support/http.js';
import { adult, child, newUser, signUp, waitForStatus, type TestUser } from '../support/signup-steps.js';
import { countersAndRows, eventually, insertEvent, openTestOrm, startTestApi, startTestWorker, testConfig, type RunningApi, type RunningWorker } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let orm: MikroORM;
let apiOrm: MikroORM;
let temporalProxy: TcpProxy;
let databaseProxy: TcpProxy;
let apiClient: Client;
let worker: RunningWorker;
let api: RunningApi;

beforeAll(async () => {
  orm = await openTestOrm();
  const databaseUrl = new URL(requireEnv('DATABASE_URL'));
  databaseProxy = await startTcpProxy(`${databaseUrl.hostname}:${databaseUrl.port || '5432'}`);
  const proxiedUrl = new URL(databaseUrl);
  proxiedUrl.host = databaseProxy.address;
  // The API's pool as src/api-main.ts opens it: a short wait for a connection (DATABASE_ACQUIRE_TIMEOUT_MS)
  // and for each answer (API_DATABASE_QUERY_TIMEOUT_MS).
  const { acquireTimeoutMs, apiQueryTimeoutMs } = testConfig().database;
  apiOrm = await openOrm({ url: proxiedUrl.toString(), poolMax: 10, acquireTimeoutMs, queryTimeoutMs: apiQueryTimeoutMs });
  temporalProxy = await startTcpProxy(requireEnv('TEMPORAL_ADDRESS'));
  // Connected as src/api-main.ts connects (its retry settings), through the proxy.
  apiClient = await connectTemporalClient({ address: temporalProxy.address, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  worker = await startTestWorker(orm);
  api = await startTestApi({ orm: apiOrm, temporal: apiClient, taskQueue: worker.taskQueue });
});

afterAll(async () => {
  temporalProxy?.restore();
  databaseProxy?.restore();
  await api?.close();
  await worker?.stop();
  await apiClient?.connection.close();
  await apiOrm?.close(true);
  await temporalProxy?.close();
  await databaseProxy?.close();
  await orm?.close(true);
});

const ANSWER_BOUND_MS = 2_000;

/**
 * The request, timed, with the longest stretch this process's event loop could not run meanwhile
 * (the API, its pool's timers and this test share it): a machine busy elsewhere can freeze the
 * process for longer than the design's margin, which says nothing of the design.
 */
async function timed(run: () => Promise<JsonResponse>): Promise<JsonResponse & { ms: number; frozenMs: number }> {
  const frozen = monitorEventLoopDelay({ resolution: 10 });
  frozen.enable();
  const started = Date.now();
  const response = await run();
  const ms = Date.now() - started;
  frozen.disable();
  return { ...response, ms, frozenMs: Math.round(frozen.max / 1e6) };
}

function expectOutageAnswer(response: JsonResponse & { ms: number; frozenMs: number }, what: string) {
  expect({ what, status: response.status, type: response.body.type, retryAfter: response.headers.get('retry-after') }).toEqual({
    what,
    status: 503,
    type: '/problems/service-unavailable',
    retryAfter: '5',
  });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  // The design answers in about 1.2 s with Temporal down (its 1 s deadline, a last retry sleep of at
  // most 200 ms) and 1.5 s with PostgreSQL stalled (the pool's wait, or the query's). Time the
  // process was frozen does not count (a clean-clone run once saw 2.9 s for a 1.5 s wait); both
  // figures are in the message.
  const { ms, frozenMs } = response;
  expect({ what, ms, frozenMs, fast: ms - frozenMs < ANSWER_BOUND_MS }).toEqual({ what, ms, frozenMs, fast: true });
}

async function flowStarted(signupId: string): Promise<void> {
  await eventually('the signup workflow start', async () => {
    // Started, or kept under the door-confirmations flow that stands for it (started when a command
    // needs it): a kept row is never due once that flow has started.
    const [row] = await orm.em
      .getConnection()
      .execute<{ n: number }[]>(
        `select count(*)::int as n from signup_workflow_start where signup_id = ? and (door_flow_id is null or next_attempt_at <> 'infinity')`,
        [signupId],
      );
    return row?.n === 0 ? true : undefined;
  });
}

function bornYearsAgo(years: number): string {
  const day = new Date();
  day.setUTCFullYear(day.getUTCFullYear() - years, day.getUTCMonth(), 1);
  return day.toISOString().slice(0, 10);
}

describe('while Temporal is unreachable', () => {
  it('refuses commands that need a workflow with a fast 503, writing nothing, and takes them once it is back', async () => {
    // Waitlisted signups have workflows of their own (only free signups confirmed at the door go without).
    const full = await insertEvent(orm, { capacity: 0, waitlistEnabled: true });
    const event = await insertEvent(orm, { capacity: 10, guardianConsentBelowAge: 16 });
    const participant = await newUser(api, { birthdate: bornYearsAgo(30), name: 'cancel' });
    const removed = await newUser(api, { birthdate: bornYearsAgo(30), name: 'removed' });
    const minor: TestUser = await newUser(api, { birthdate: bornYearsAgo(12), guardian: true, name: 'minor' });
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const signupId = await signUp(api, participant, full.id, { attendees: [adult()] });
    const removedId = await signUp(api, removed, full.id, { attendees: [adult('Rem')] });
    const minorId = await signUp(api, minor, event.id, { attendees: [child('Kim', 12)] });
    await waitForStatus(api, participant, signupId, 'waitlisted');
    await waitForStatus(api, removed, removedId, 'waitlisted');
    await waitForStatus(api, minor, minorId, 'awaiting_consent');
    for (const id of [signupId, removedId, minorId]) await flowStarted(id);
    const consentToken = createConsentToken({ signupId: minorId, expiresAt: new Date(Date.now() + 3_600_000) }, api.config.signup.consentTokenSecret);

    temporalProxy.cut();
    const cancel = () => request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: participant.token, body: { reason: 'ill' } });
    expectOutageAnswer(await timed(cancel), 'cancel');
    expectOutageAnswer(
      await timed(() =>
        request(api.baseUrl, 'DELETE', `/v1/admin/events/${full.id}/participants/${removedId}`, { token: organizer.token, body: { reason: 'double booking' } }),
      ),
      'admin removal',
    );
    const consent = () => request(api.baseUrl, 'POST', `/v1/consents/${consentToken}`, { body: { decision: 'approved' } });
    expectOutageAnswer(await timed(consent), 'consent answer');
    const ready = await timed(() => request(api.baseUrl, 'GET', '/readyz'));
    expect({ status: ready.status, checks: ready.body.checks }).toEqual({ status: 503, checks: { database: 'ok', temporal: 'unreachable' } });
    expect(ready.ms).toBeLessThan(ANSWER_BOUND_MS);

    // Nothing half-written: no cancellation, no removal, no recorded consent.
    const em = orm.em.fork();
    expect((await em.findOneOrFail(Signup, signupId)).status).toBe('waitlisted');
    expect((await em.findOneOrFail(Signup, removedId)).status).toBe('waitlisted');
    const waiting = await em.findOneOrFail(Signup, minorId);
    expect({ status: waiting.status, decision: waiting.guardianDecision ?? null }).toEqual({ status: 'awaiting_consent', decision: null });

    temporalProxy.restore();
    // The same requests, sent again, now go through (the client's connection reconnects first).
    const cancelled = await eventually('the cancel to go through', async () => {
      const answer = await cancel();
      return answer.status === 503 ? undefined : answer;
    }, 30_000, 500);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await consent()).status).toBe(200);
  });

  it('cancels a free signup confirmed at the door at once, and its workflow follows as cancelled once Temporal is back', async () => {
    const event = await insertEvent(orm, { capacity: 10 });
    const participant = await newUser(api, { birthdate: bornYearsAgo(30), name: 'door-cancel' });
    const removed = await newUser(api, { birthdate: bornYearsAgo(30), name: 'door-removed' });
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const signupId = await signUp(api, participant, event.id, { attendees: [adult()] });
    const removedId = await signUp(api, removed, event.id, { attendees: [adult('Rem')] });
    for (const id of [signupId, removedId]) await flowStarted(id);
    const kept = await orm.em
      .fork()
      .getConnection()
      .execute<{ n: number }[]>('select count(*)::int as n from signup_workflow_start where signup_id in (?, ?) and door_flow_id is not null', [signupId, removedId]);
    expect(kept[0]?.n).toBe(2); // no workflow of their own: a door-confirmations flow stands for them

    temporalProxy.cut();
    const cancelled = await timed(() => request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: participant.token, body: { reason: 'ill' } }));
    const removal = await timed(() =>
      request(api.baseUrl, 'DELETE', `/v1/admin/events/${event.id}/participants/${removedId}`, { token: organizer.token, body: { reason: 'double booking' } }),
    );
    for (const [what, answer] of [['cancel', cancelled], ['admin removal', removal]] as const) {
      expect({ what, status: answer.status, signup: answer.body.status }).toEqual({ what, status: 200, signup: 'cancelled' });
      expect({ what, fast: answer.ms - answer.frozenMs < ANSWER_BOUND_MS }).toEqual({ what, fast: true });
    }
    expect(await countersAndRows(orm, event.id)).toMatchObject({ confirmed: 0, confirmedRows: 0, held: 0 });

    temporalProxy.restore();
    // The background start failed meanwhile; the row waits for a sweep, which starts the workflow as cancelled.
    for (const [id, by] of [[signupId, 'participant'], [removedId, 'organizer']] as const) {
      const handle = apiClient.workflow.getHandle(workflowIds.signup(id));
      await eventually(`the workflow of ${by}'s cancel`, async () => {
        await api.relay?.sweep(10_000);
        const [row] = await orm.em.fork().getConnection().execute<{ n: number }[]>('select count(*)::int as n from signup_workflow_start where signup_id = ?', [id]);
        return row?.n === 0 ? true : undefined;
      }, 60_000, 1_000);
      expect(await handle.result()).toEqual({ signupId: id, status: 'cancelled' });
      const description = await handle.describe();
      expect(description.typedSearchAttributes.get(searchAttributes.signupStatus)).toBe('cancelled');
      const signup = await orm.em.fork().findOneOrFail(Signup, id);
      expect({ status: signup.status, by: signup.cancelledBy }).toEqual({ status: 'cancelled', by });
    }
  });
});

describe('while PostgreSQL is unreachable', () => {
  // Refused (a restart: connections reset, new ones refused) or stalled (a host gone: nothing answers,
  // and the pool's open connections wait on replies that never come).
  it.each([['refuses connections', 'cut'], ['answers nothing', 'stall']] as const)('(it %s) answers 503 with Retry-After within 2 s, and records nothing', async (_how, outage) => {
    const event = await insertEvent(orm, { capacity: 10 });
    const user = await newUser(api, { name: 'pg' });
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const signupId = await signUp(api, user, event.id, { attendees: [adult()] });
    await waitForStatus(api, user, signupId, 'confirmed');

    databaseProxy[outage]();
    const other = await newUser(api, { name: 'pg-other' });
    const answers = {
      'GET signup': await timed(() => request(api.baseUrl, 'GET', `/v1/signups/${signupId}`, { token: user.token })),
      'GET my signups': await timed(() => request(api.baseUrl, 'GET', '/v1/me/signups', { token: user.token })),
      'POST signup': await timed(() => request(api.baseUrl, 'POST', `/v1/events/${event.id}/signups`, { token: other.token, body: { attendees: [adult('Cy')], platform: 'web' } })),
      'POST cancel': await timed(() => request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: {} })),
      'GET admin events': await timed(() => request(api.baseUrl, 'GET', '/v1/admin/events', { token: organizer.token })),
    };
    for (const [what, answer] of Object.entries(answers)) expectOutageAnswer(answer, what);
    const ready = await timed(() => request(api.baseUrl, 'GET', '/readyz'));
    expect({ status: ready.status, database: (ready.body.checks as Record<string, string>).database }).toEqual({ status: 503, database: 'unreachable' });
    expect(ready.ms).toBeLessThan(ANSWER_BOUND_MS);

    databaseProxy.restore();
    const [row] = await orm.em.getConnection().execute<{ n: number }[]>('select count(*)::int as n from signup where event_id = ?', [event.id]);
    expect(row?.n).toBe(1);
    const back = await eventually('the API to read again', async () => {
      const answer = await request(api.baseUrl, 'GET', `/v1/signups/${signupId}`, { token: user.token });
      return answer.status === 503 ? undefined : answer;
    }, 30_000, 500);
    expect(back.status).toBe(200);
  }, 60_000);
});
