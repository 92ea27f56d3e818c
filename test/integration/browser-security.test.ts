/**
 * What browsers see, in the system's Chromium (never a downloaded browser): the security headers
 * on API answers, Swagger UI at /docs working under its Content-Security-Policy (every operation
 * rendered, no violation reported), and CORS: a page from an allowed origin calls the API (a
 * simple GET and a preflighted POST with a bearer token, reading exposed headers), a page from
 * another origin is refused by the browser.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { apiOperations } from '../../src/http/api-operations.js';
import { insertEvent, startTestStack, type TestStack } from '../support/stack.js';

const chromiumPath = '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
if (!haveChromium) {
  console.warn(`browser-security.test.ts: SKIPPED, no browser at ${chromiumPath} (apt-get install chromium to run it)`);
}
const describeWithBrowser = haveChromium ? describe : describe.skip;

/** A web app's origin: serves one empty page. */
async function startPageServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface CallResult {
  ok: boolean;
  status?: number;
  location?: string | null;
  requestId?: string | null;
  error?: string;
}

/** Runs fetch in the page (so the browser's CORS rules apply) and reports what the page's script saw. */
async function callFrom(page: Page, url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<CallResult> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const response = await fetch(url, init);
        return { ok: true, status: response.status, location: response.headers.get('Location'), requestId: response.headers.get('X-Request-Id') };
      } catch (error) {
        return { ok: false, error: String(error) };
      }
    },
    { url, init },
  );
}

describeWithBrowser('browser security (Chromium)', () => {
  let stack: TestStack;
  let browser: Browser;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };
  let token: string;
  let eventId: string;

  beforeAll(async () => {
    [allowed, other] = await Promise.all([startPageServer(), startPageServer()]);
    [stack, browser] = await Promise.all([
      startTestStack({ env: { CORS_ORIGINS: allowed.origin } }),
      chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
      }),
    ]);
    token = await stack.api.token('browser-user');
    eventId = (await insertEvent(stack.orm)).id;
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    allowed?.server.close();
    other?.server.close();
  });

  it('sends the security headers on answers, errors and the document', async () => {
    for (const path of ['/v1/events', '/openapi.json', '/v1/signups/nope']) {
      const response = await fetch(`${stack.api.baseUrl}${path}`);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });

  it('Swagger UI at /docs renders every operation with no CSP violation', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    try {
      // Before any of the page's own scripts: every violation is reported on the console.
      await page.addInitScript({
        content: "document.addEventListener('securitypolicyviolation', (e) => console.error('Refused (Content Security Policy): ' + e.violatedDirective + ' ' + e.blockedURI));",
      });
      await page.goto(`${stack.api.baseUrl}/docs`, { waitUntil: 'domcontentloaded' });
      // Swagger UI draws one .opblock per operation, expanded under its tag.
      await page.locator('.opblock').nth(apiOperations.length - 1).waitFor({ state: 'attached', timeout: 30_000 });
      expect(await page.locator('.opblock').count()).toBe(apiOperations.length);
      const policy = (await page.request.get(`${stack.api.baseUrl}/docs`)).headers()['content-security-policy'];
      expect(policy).toContain("script-src 'self'");
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('a page from an allowed origin calls the API; a page from another origin is refused', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(allowed.origin);
      const read = await callFrom(page, `${stack.api.baseUrl}/v1/events/${eventId}`, { method: 'GET' });
      expect(read).toMatchObject({ ok: true, status: 200 });
      expect(read.requestId).toMatch(/.+/); // exposed to the page's script

      // Authorization and a JSON body make the browser send a preflight first.
      const write = await callFrom(page, `${stack.api.baseUrl}/v1/events/${eventId}/notify-me`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(write).toMatchObject({ ok: true, status: 201 });

      await page.goto(other.origin);
      const refusedRead = await callFrom(page, `${stack.api.baseUrl}/v1/events/${eventId}`, { method: 'GET' });
      expect(refusedRead).toMatchObject({ ok: false });
      const refusedWrite = await callFrom(page, `${stack.api.baseUrl}/v1/events/${eventId}/notify-me`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(refusedWrite).toMatchObject({ ok: false });
    } finally {
      await page.close();
    }

    // What the browser was answered: the preflight allows the origin, the other origin gets no CORS headers.
    const preflight = await fetch(`${stack.api.baseUrl}/v1/events/${eventId}/notify-me`, {
      method: 'OPTIONS',
      headers: { Origin: allowed.origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(allowed.origin);
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const exposed = (await fetch(`${stack.api.baseUrl}/v1/events`, { headers: { Origin: allowed.origin } })).headers.get('access-control-expose-headers');
    expect(exposed?.split(',')).toEqual(expect.arrayContaining(['Location', 'ETag', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed']));
    const refused = await fetch(`${stack.api.baseUrl}/v1/events`, { headers: { Origin: other.origin } });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});
