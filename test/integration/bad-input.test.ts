/**
 * Each class of bad input that once answered 500 (or an empty body, or nothing) now answers a 4xx
 * problem+json naming what was wrong, and writes nothing: undecodable percent-encoding in path
 * parameters, a body whose Content-Encoding is not applied, NUL and lone surrogates in bodies,
 * queries and path parameters, requests Node's own parser refuses (raw sockets), CONNECT, and a
 * wrong method on a known path (405 with Allow). The fuzz test (input-fuzz.test.ts) looks for more.
 */
import http from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KEEP_ALIVE_TIMEOUT_MS } from '../../src/http/server.js';
import { request } from '../support/http.js';
import { insertEvent, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let token: string;
let eventId: string;

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.api.token('bad-input-user');
  eventId = (await insertEvent(stack.orm, { capacity: 5 })).id;
});

afterAll(async () => {
  await stack?.stop();
});

async function signupCount(): Promise<number> {
  const [row] = await stack.orm.em.getConnection().execute<{ n: number }[]>('select count(*)::int as n from signup where event_id = ?', [eventId]);
  return Number(row?.n);
}

/** Sends raw bytes and reads until the server closes (or 10 s pass: then it fails). */
async function rawExchange(bytes: string): Promise<string> {
  const { port, hostname } = new URL(stack.api.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect({ port: Number(port), host: hostname });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within 10 s; got: ${Buffer.concat(chunks).toString()}`));
    }, 10_000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    socket.write(bytes);
  });
}

function parseRaw(answer: string): { status: number; headers: string; body: Record<string, unknown> } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) as Record<string, unknown> };
}

describe('bad input answers 4xx problem+json', () => {
  it.each(['%ZZ', '%C0%AF', '%ED%A0%80', '%'])('a path parameter %s that does not decode: 400 naming the path', async (bad) => {
    const answer = await request(stack.api.baseUrl, 'POST', `/v1/events/${bad}/signups`, {
      token,
      body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }] },
    });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body).toMatchObject({ type: '/problems/validation-error', errors: [expect.objectContaining({ in: 'path' })] });
  });

  it.each(['gzip', 'deflate', 'br'])('a body labelled Content-Encoding %s that is not compressed: 400, on every route', async (encoding) => {
    // fetch sends no body with GET: a raw request does.
    const body = '{"a":1}';
    const health = parseRaw(
      await rawExchange(
        `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ),
    );
    expect({ status: health.status, type: health.body.type }).toEqual({ status: 400, type: '/problems/body-not-decodable' });
    for (const [method, path] of [
      ['POST', `/v1/events/${eventId}/signups`],
      ['POST', '/v1/webhooks/stripe'],
    ] as const) {
      const answer = await request(stack.api.baseUrl, method, path, {
        token,
        rawBody: JSON.stringify({ attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }] }),
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      });
      expect({ path, status: answer.status, type: answer.body.type }).toEqual({ path, status: 400, type: '/problems/body-not-decodable' });
    }
    expect(await signupCount()).toBe(0);
  });

  it('NUL and lone surrogates in a body, a query or a path parameter: 400 naming the field', async () => {
    const nulName = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
      token,
      body: { attendees: [{ firstName: 'A\u0000da', age: 9, kind: 'child' }] },
    });
    expect(nulName.status).toBe(400);
    expect(nulName.body.errors).toEqual([{ in: 'body', field: 'attendees.0.firstName', message: 'must not contain NUL characters' }]);

    // JSON may spell a lone surrogate; JSON.stringify does so for '\ud800'.
    const surrogate = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
      token,
      rawBody: '{"attendees":[{"firstName":"\\ud800","age":9,"kind":"child"}]}',
      headers: { 'content-type': 'application/json' },
    });
    expect(surrogate.status).toBe(400);
    expect(surrogate.body.errors).toEqual([expect.objectContaining({ in: 'body', field: 'attendees.0.firstName' })]);
    expect(await signupCount()).toBe(0);

    for (const query of ['q=%00', 'category=%00', 'q=a%00b']) {
      const answer = await request(stack.api.baseUrl, 'GET', `/v1/events?${query}`);
      expect({ query, status: answer.status, errors: answer.body.errors }).toEqual({
        query,
        status: 400,
        errors: [expect.objectContaining({ in: 'query', field: query.split('=')[0] })],
      });
    }

    const opsToken = await stack.api.token('bad-input-ops', ['ops']);
    const nulPath = await request(stack.api.baseUrl, 'GET', '/v1/ops/flows/signup-%00', { token: opsToken });
    expect(nulPath.status).toBe(400);
    expect(nulPath.body.errors).toEqual([expect.objectContaining({ in: 'path', field: 'workflowId' })]);
    const nulReason = await request(stack.api.baseUrl, 'POST', '/v1/ops/flows/signup-x/retry', { token: opsToken, body: { reason: 'why\u0000' } });
    expect(nulReason.status).toBe(400);
    expect(nulReason.body.errors).toEqual([expect.objectContaining({ in: 'body', field: 'reason' })]);
  });

  it('a wrong method on a known path: 405 with Allow from the API document', async () => {
    const put = await request(stack.api.baseUrl, 'PUT', `/v1/events/${eventId}/signups`, { token, body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST');
    expect(put.body).toMatchObject({ type: '/problems/method-not-allowed', status: 405 });

    const patch = await request(stack.api.baseUrl, 'PATCH', `/v1/events/${eventId}`);
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('GET, HEAD');

    const notify = await request(stack.api.baseUrl, 'GET', `/v1/events/${eventId}/notify-me`, { token });
    expect(notify.headers.get('allow')).toBe('DELETE, POST');
    // An unknown path stays a 404.
    expect((await request(stack.api.baseUrl, 'PUT', '/v1/nothing-here')).status).toBe(404);
  });

  it("requests Node's parser refuses get a problem document on the socket", async () => {
    const badMethod = parseRaw(await rawExchange('FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(badMethod.status).toBe(400);
    expect(badMethod.headers).toContain('content-type: application/problem+json');
    expect(badMethod.body).toMatchObject({ type: '/problems/malformed-request', status: 400 });

    const huge = parseRaw(await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`));
    expect(huge.status).toBe(431);
    expect(huge.body).toMatchObject({ type: '/problems/headers-too-large', status: 431 });

    const badLength = parseRaw(await rawExchange('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'));
    expect(badLength.status).toBe(400);
    expect(badLength.body).toMatchObject({ type: '/problems/malformed-request' });

    const tunnel = parseRaw(await rawExchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'));
    expect(tunnel.status).toBe(405);
    expect(tunnel.body).toMatchObject({ type: '/problems/method-not-allowed' });
  });
});

describe('kept-alive connections', () => {
  it('stay open longer than the idle timeout of the clients and proxies that reuse them', async () => {
    // A server that closes first resets a request sent on the connection as it closes; Node's
    // default (5 s) did that to a client reusing its connection (bench:signup-burst's streams).
    const agent = new http.Agent({ keepAlive: true });
    try {
      const keepAlive = await new Promise<string | undefined>((resolve, reject) => {
        http
          .get(`${stack.api.baseUrl}/healthz`, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(String(res.headers['keep-alive'])));
          })
          .on('error', reject);
      });
      expect(keepAlive).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
      expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    } finally {
      agent.destroy();
    }
  });
});
