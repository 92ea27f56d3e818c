/**
 * The event lifecycle outbox against the real PostgreSQL, Temporal dev server, worker and SMTP
 * sink. Temporal "goes down" for the API only: its client talks through a TCP proxy this file cuts
 * and restores (the run's dev server and the worker keep running; other files use them).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { eventLifecycleQuery, workflowIds } from '../../src/temporal/contract.js';
import { requireEnv } from '../support/environment.js';
import { request } from '../support/http.js';
import { consentToAnnouncements, newUser, waitForMail, type TestUser } from '../support/signup-steps.js';
import {
  connectTestClient,
  eventually,
  openTestOrm,
  startTestApi,
  startTestWorker,
  type RunningApi,
  type RunningWorker,
} from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import type { MikroORM } from '../../src/db/orm.js';

let orm: MikroORM;
let direct: Client;
let proxied: Client;
let proxy: TcpProxy;
let worker: RunningWorker;
let api: RunningApi;

beforeAll(async () => {
  orm = await openTestOrm();
  direct = await connectTestClient();
  proxy = await startTcpProxy(requireEnv('TEMPORAL_ADDRESS'));
  proxied = new Client({ connection: await Connection.connect({ address: proxy.address }), namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
  worker = await startTestWorker(orm);
  api = await startTestApi({ orm, temporal: proxied, taskQueue: worker.taskQueue });
});

afterAll(async () => {
  proxy.restore();
  await api?.close();
  await worker?.stop();
  await proxied?.connection.close();
  await proxy?.close();
  await direct?.connection.close();
  await orm?.close(true);
});

const at = (secondsFromNow: number) => new Date(Date.now() + secondsFromNow * 1000).toISOString();

async function createEvent(organizer: TestUser, category: string, dates: Record<string, string>) {
  const created = await request(api.baseUrl, 'POST', '/v1/admin/events', {
    token: organizer.token,
    body: {
      defaultLocale: 'en',
      translations: { en: { title: `Outbox ${category}`, description: 'Published during an outage' } },
      category,
      market: 'NO',
      timezone: 'Europe/Oslo',
      capacity: 10,
      refundPolicy: { kind: 'none' },
      publish: true,
      ...dates,
    },
  });
  if (created.status !== 201) throw new Error(`event not created: ${created.status} ${JSON.stringify(created.body)}`);
  return { id: created.body.id as string, etag: created.headers.get('etag') ?? '' };
}

async function pendingCommands(eventId: string) {
  return orm.em
    .getConnection()
    .execute<{ kind: string; attempts: number }[]>('select kind, attempts from event_lifecycle_command where event_id = ? order by id', [eventId]);
}

/** Sweeps by hand (the test API has no timer) until the event's outbox is empty; throws when it does not empty. */
async function sweepUntilDelivered(eventId: string): Promise<void> {
  await eventually(`the lifecycle outbox of ${eventId} to be delivered`, async () => {
    await api.relay?.sweep();
    return (await pendingCommands(eventId)).length === 0 ? true : undefined;
  }, 60_000, 500);
}

async function isNotFound(eventId: string): Promise<boolean> {
  try {
    await direct.workflow.getHandle(workflowIds.eventLifecycle(eventId)).describe();
    return false;
  } catch (error) {
    return error instanceof WorkflowNotFoundError;
  }
}

describe('lifecycle starts through the outbox', () => {
  it('publishes while Temporal is unreachable; once it is back the lifecycle runs, the move made meanwhile included', async () => {
    const category = `outbox${Date.now()}`;
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const follower = await newUser(api, { name: 'follower' });
    expect((await request(api.baseUrl, 'POST', '/v1/me/interests', { token: follower.token, body: { kind: 'category', value: category } })).status).toBe(201);
    await consentToAnnouncements(api, follower);

    proxy.cut();
    const event = await createEvent(organizer, category, { startsAt: at(3600), endsAt: at(7200) });
    // Moved while its start is still pending: the change must reach the workflow too.
    const moved = await request(api.baseUrl, 'PATCH', `/v1/admin/events/${event.id}`, {
      token: organizer.token,
      body: { startsAt: at(5400), endsAt: at(9000) },
      headers: { 'if-match': event.etag },
    });
    expect(moved.status).toBe(200);
    expect((await pendingCommands(event.id)).map((row) => row.kind)).toEqual(['start', 'changed']);
    // The API's own attempt fails (and is recorded), the rows stay.
    await eventually('the failed first attempt', async () => ((await pendingCommands(event.id))[0]?.attempts ?? 0) >= 1 || undefined, 40_000, 200);
    expect(await isNotFound(event.id)).toBe(true);

    proxy.restore();
    await sweepUntilDelivered(event.id);
    await waitForMail(follower.email, /^New: /, 1, 30_000);
    // The mail goes out inside the announce step, before the workflow records the step done: wait
    // for both the change and the announcement to be recorded.
    const state = await eventually('the change and the announcement to be handled', async () => {
      const query = await direct.workflow.getHandle(workflowIds.eventLifecycle(event.id)).query(eventLifecycleQuery);
      return query.changesAnnounced.length > 0 && query.done.includes('announce') ? query : undefined;
    });
    expect(state.changesAnnounced).toEqual([moved.body.version]);
    expect(state.done).toContain('announce');
  });

  it('keeps a withdrawal that cannot reach Temporal, and delivers it later', async () => {
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    const event = await createEvent(organizer, `withdraw${Date.now()}`, { announceAt: at(86_400), startsAt: at(2 * 86_400), endsAt: at(2 * 86_400 + 3600) });
    await eventually('the lifecycle to start', async () => ((await pendingCommands(event.id)).length === 0 ? true : undefined), 30_000);
    const handle = direct.workflow.getHandle(workflowIds.eventLifecycle(event.id));
    expect((await handle.describe()).status.name).toBe('RUNNING');

    proxy.cut();
    const unpublished = await request(api.baseUrl, 'POST', `/v1/admin/events/${event.id}/unpublish`, { token: organizer.token });
    expect(unpublished.status).toBe(200);
    expect((await pendingCommands(event.id)).map((row) => row.kind)).toEqual(['withdrawn']);
    await eventually('the failed first attempt', async () => ((await pendingCommands(event.id))[0]?.attempts ?? 0) >= 1 || undefined, 40_000, 200);
    expect((await handle.describe()).status.name).toBe('RUNNING');

    proxy.restore();
    await sweepUntilDelivered(event.id);
    expect(await handle.result()).toEqual({ eventId: event.id, phase: 'withdrawn' });
  });

  it('withdrawn while its start is pending: no lifecycle keeps running for the draft', async () => {
    const organizer = await newUser(api, { roles: ['organizer'], markets: ['NO'], name: 'org' });
    proxy.cut();
    const event = await createEvent(organizer, `draft${Date.now()}`, { announceAt: at(86_400), startsAt: at(2 * 86_400), endsAt: at(2 * 86_400 + 3600) });
    const unpublished = await request(api.baseUrl, 'POST', `/v1/admin/events/${event.id}/unpublish`, { token: organizer.token });
    expect(unpublished.status).toBe(200);
    expect((await pendingCommands(event.id)).map((row) => row.kind)).toEqual(['withdrawn']);
    proxy.restore();
    await sweepUntilDelivered(event.id);
    // The pending start was dropped; or, if the API's own attempt was already on the wire and got
    // through once Temporal was back, the withdrawal recorded after it ended that run.
    if (!(await isNotFound(event.id))) {
      expect(await direct.workflow.getHandle(workflowIds.eventLifecycle(event.id)).result()).toEqual({ eventId: event.id, phase: 'withdrawn' });
    }
  });
});

describe('npm run seed', () => {
  it('creates a published event whose lifecycle workflow Temporal knows', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_TASK_QUEUE: worker.taskQueue, LOG_LEVEL: 'warn' };
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', '--capacity', '5'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const eventId = stdout.trim().split('\n').pop() ?? '';
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);

    const description = await direct.workflow.getHandle(workflowIds.eventLifecycle(eventId)).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe(worker.taskQueue);
    expect(await pendingCommands(eventId)).toEqual([]);
  });
});
