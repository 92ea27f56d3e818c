/**
 * Graceful shutdown, shown: SIGTERM to a worker process while an activity is under way (the
 * activity finishes, the process exits 0 after it, and the flow goes on on another worker), and
 * SIGTERM to the API process (src/api-main.ts) while requests are in flight (each gets its answer;
 * new connections are refused).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { freePort, waitFor } from '../../scripts/lib/ports.js';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { request } from '../support/http.js';
import { newUser, postSignup } from '../support/signup-steps.js';
import {
  connectTestClient,
  eventually,
  insertEvent,
  openTestOrm,
  startTestApi,
  testConfig,
  type RunningApi,
} from '../support/stack.js';
import { spawnWorker, type ChildWorker } from '../support/worker-child.js';

let orm: MikroORM;
let client: Awaited<ReturnType<typeof connectTestClient>>;
const workers: ChildWorker[] = [];

/** Mail as this file's SMTP server took it; a message to a held address waits for `release`. */
const received: { to: string; subject: string }[] = [];
const held = new Map<string, { arrived: () => void; release: Promise<void> }>();
let smtp: SMTPServer;
let smtpPort: number;

beforeAll(async () => {
  orm = await openTestOrm();
  client = await connectTestClient();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (chunk: Buffer) => (data += chunk.toString()));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()).join(',');
        const hold = held.get(to);
        held.delete(to);
        hold?.arrived();
        void (hold?.release ?? Promise.resolve()).then(() => {
          received.push({ to, subject: /^Subject: (.*)$/im.exec(data)?.[1]?.trim() ?? '' });
          callback();
        });
      });
    },
  });
  smtp.listen(0, '127.0.0.1');
  await once(smtp.server, 'listening');
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const worker of workers) await worker.kill();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  await client.connection.close();
  await orm.close(true);
});

/** Holds the next message to `address` at the end of its DATA until `release()`; `arrived` once it is there. */
function holdNextMail(address: string) {
  let arrived!: () => void;
  let release!: () => void;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  held.set(address.toLowerCase(), { arrived, release: released });
  return { arrival, release };
}

describe('SIGTERM to a worker during an activity', () => {
  let api: RunningApi;
  const taskQueue = `shutdown-${randomUUID()}`;
  const workerEnv = () => ({ SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtpPort) });

  beforeAll(async () => {
    api = await startTestApi({ orm, temporal: client, taskQueue });
  });
  afterAll(() => api.close());

  it('lets the activity finish, exits 0 after it, and the flow goes on on another worker', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const user = await newUser(api, { name: 'sigterm' });
    const mail = holdNextMail(user.email);
    const first = await spawnWorker(taskQueue, 30_000, workerEnv());
    workers.push(first);

    // A free signup is confirmed at the door; the worker's activity mails the confirmation.
    const accepted = await postSignup(api, user, event.id);
    expect(accepted.status).toBe(202);
    const signupId = (accepted.body as { id: string }).id;
    await mail.arrival;
    // The confirmation activity is inside its SMTP conversation: the worker is told to stop.
    const stopping = first.stop();
    // Long enough for the signal to reach the worker before its activity can finish.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const releasedAt = Date.now();
    mail.release();
    await stopping;
    const exit = await first.exited;
    expect(exit.code).toBe(0);
    expect(exit.at).toBeGreaterThanOrEqual(releasedAt);
    expect(received.filter((message) => message.to === user.email.toLowerCase()).map((message) => message.subject)).toEqual([
      expect.stringMatching(/^You're in/),
    ]);
    const [logged] = await orm.em.getConnection().execute<{ state: string }[]>(
      `select state from notification_log where signup_id = ? and kind = 'confirmation'`,
      [signupId],
    );
    expect(logged?.state).toBe('sent');

    // The flow goes on with the next worker: the participant cancels, the workflow ends.
    workers.push(await spawnWorker(taskQueue, 30_000, workerEnv()));
    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token: user.token, body: { reason: 'ill' } });
    expect(cancelled.status).toBe(200);
    const signup = await orm.em.fork().findOneOrFail(Signup, signupId);
    await client.workflow.getHandle(signup.workflowId).result();
    expect((await orm.em.fork().findOneOrFail(Signup, signupId)).status).toBe('cancelled');
    await eventually('the cancellation mail', () =>
      Promise.resolve(received.some((message) => message.to === user.email.toLowerCase() && /^Cancelled:/.test(message.subject)) ? true : undefined),
    );
  }, 120_000);
});

describe('SIGTERM to the API with requests in flight', () => {
  const apiMain = fileURLToPath(new URL('../../src/api-main.ts', import.meta.url));

  it('answers every request it has, refuses new connections, and exits 0', async () => {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), TEMPORAL_TASK_QUEUE: `shutdown-api-${randomUUID()}`, LOG_LEVEL: 'info' };
    delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not for this process
    const child = spawn(process.execPath, ['--import', 'tsx', apiMain], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(
        'the API process',
        async () => {
          if (child.exitCode !== null) throw new Error(`the API exited: ${output}`);
          return fetch(`${baseUrl}/healthz`).then((answer) => answer.ok, () => false);
        },
        30_000,
      );
      // An event each: signups for one event are placed in batches (one in flight per event), so
      // only separate events put all eight on the database at once.
      const events = await Promise.all(Array.from({ length: 8 }, () => insertEvent(orm, { capacity: 20 })));
      // The api's config is this one (same environment): its tokens are ours.
      const users = await Promise.all(Array.from({ length: 8 }, () => newUser({ config: testConfig() } as RunningApi, { name: 'inflight' })));

      // Every signup takes seats with an update of its event's row: lock the rows and they all wait.
      const locker = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await locker.connect();
      let answers: Promise<{ status: number }[]>;
      try {
        await locker.query('begin');
        await locker.query('select id from event where id = any($1) for update', [events.map((event) => event.id)]);
        answers = Promise.all(users.map((user, index) => postSignup({ baseUrl, config: testConfig() } as RunningApi, user, events[index]!.id)));
        // Asked on another connection: inside the locking transaction pg_stat_activity is a snapshot.
        await eventually('every signup waiting on its event row', async () => {
          const [row] = await orm.em.getConnection().execute<{ n: number }[]>(
            `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%held_count%'`,
          );
          return (row?.n ?? 0) >= users.length ? true : undefined;
        });

        child.kill('SIGTERM');
        // Stopped listening: a new connection is refused, while the requests above still wait.
        await eventually('new connections refused', async () => ((await connectionRefused(port)) ? true : undefined), 10_000);
        expect(child.exitCode).toBeNull();
      } finally {
        await locker.query('commit');
        await locker.end();
      }
      expect((await answers).map((answer) => answer.status)).toEqual(users.map(() => 202));
      expect(await exited).toBe(0);
      expect(output).toContain('stopped');
      const rows = await orm.em.fork().count(Signup, { event: { $in: events.map((event) => event.id) } });
      expect(rows).toBe(users.length);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});

/** Whether a new TCP connection to the port is refused. */
function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
