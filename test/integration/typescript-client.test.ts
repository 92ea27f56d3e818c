/**
 * The generated TypeScript client (clients/typescript) against the real API and worker: the
 * catalog, a signup and its problems, typed end to end; and the package's example, run through
 * bash with the commands its header gives (so the header cannot drift from what works).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createEventbookClient, type EventbookClient, type EventbookClientOptions } from '../../clients/typescript/src/index.js';
import { insertEvent, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
});

afterAll(() => stack.stop());

const client = (token?: EventbookClientOptions['token']): EventbookClient => createEventbookClient({ baseUrl: stack.api.baseUrl, token });

describe('the TypeScript client', () => {
  it('reads the catalog', async () => {
    const category = `client-${randomUUID().slice(0, 8)}`;
    const event = await insertEvent(stack.orm, { category, title: 'Client day' });
    const { data, error, response } = await client().GET('/v1/events', { params: { query: { category } } });
    expect(response.status).toBe(200);
    expect(error).toBeUndefined();
    expect(data?.items.map((item) => [item.id, item.title])).toEqual([[event.id, 'Client day']]);

    const one = await client().GET('/v1/events/{eventId}', { params: { path: { eventId: event.id } } });
    expect(one.data).toMatchObject({ id: event.id, cancellation: null, signupState: 'open' });
  });

  it('signs up, reads the signup, and answers problems as typed errors', async () => {
    const event = await insertEvent(stack.orm, { capacity: 5 });
    const token = await stack.api.token(`client-${randomUUID()}`);
    const api = client(() => token);
    const created = await api.POST('/v1/events/{eventId}/signups', {
      params: { path: { eventId: event.id }, header: { 'Idempotency-Key': randomUUID() } },
      body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
    });
    expect(created.response.status).toBe(202);
    const signup = created.data;
    if (!signup) throw new Error(`no signup: ${JSON.stringify(created.error)}`);
    expect(signup.status).toBe('confirmed');

    const read = await api.GET('/v1/signups/{signupId}', { params: { path: { signupId: signup.id } } });
    expect(read.data?.attendees[0]?.ticketCode).toMatch(/^[0-9A-Z]{20}$/);

    const again = await api.POST('/v1/events/{eventId}/signups', {
      params: { path: { eventId: event.id } },
      body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
    });
    expect(again.data).toBeUndefined();
    expect(again.error).toMatchObject({ type: '/problems/signup-exists', status: 409 });

    const anonymous = await client().GET('/v1/signups/{signupId}', { params: { path: { signupId: signup.id } } });
    expect(anonymous.error).toMatchObject({ status: 401 });
  });

  it('runs its example as the example\'s header says', async () => {
    const examplePath = 'clients/typescript/examples/first-signup.ts';
    // The indented lines of the header comment are the commands, as a reader would paste them.
    const header = /^\/\*\*\n([\s\S]*?)\*\//.exec(readFileSync(examplePath, 'utf8'))?.[1] ?? '';
    const commands = header
      .split('\n')
      .map((line) => /^ \* {3}(\s*\S.*)$/.exec(line)?.[1])
      .filter((line): line is string => line !== undefined);
    expect(commands.join('\n')).toContain(`npx tsx ${examplePath}`);
    const script = ['set -eo pipefail', ...commands.map((command) => command.replaceAll('localhost:3000', stack.api.baseUrl.replace(/^http:\/\//, '')))].join('\n');
    const child = spawn('bash', ['-c', script], { cwd: process.cwd(), env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // The header's event (the seeded one), confirmed for the header's user.
    expect(stdout).toContain('signing up for Lego build day');
    const signupId = /^signup ([0-9a-f-]{36}): confirmed /m.exec(stdout)?.[1];
    if (!signupId) throw new Error(`no confirmed signup in the example's output:\n${stdout}`);
    const [row] = await stack.orm.em.fork().getConnection().execute<{ user_id: string; status: string }[]>(
      `select s.user_id, s.status from signup s join event_translation t on t.event_id = s.event_id and t.locale = 'en' where s.id = ? and t.title = 'Lego build day'`,
      [signupId],
    );
    expect(row).toEqual({ user_id: 'u2', status: 'confirmed' });
  }, 120_000);
});
