/**
 * /metrics is for scrapers only: with METRICS_TOKEN or METRICS_ALLOWED_ADDRESSES set (and always
 * in production) anyone else gets a 404; the worker's own metrics server listens on loopback by
 * default and follows the same rule.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../src/config.js';
import { startMetricsServer } from '../../src/observability/metrics.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const token = 'metrics-token-for-the-tests-0123456789';
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { METRICS_TOKEN: token } });
});

afterAll(async () => {
  await stack?.stop();
});

describe('/metrics access', () => {
  it('on the API: 404 problem without the token, the metrics with it', async () => {
    const refused = await fetch(`${stack.api.baseUrl}/metrics`);
    expect(refused.status).toBe(404);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect((await fetch(`${stack.api.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(404);
    const allowed = await fetch(`${stack.api.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toMatch(/^# HELP eventbook_/m);
  });

  it('on the worker: loopback by default, by allowed address or token', async () => {
    const byAddress = await startMetricsServer(0, undefined, { open: false, addresses: ['127.0.0.0/8'] });
    const byToken = await startMetricsServer(0, undefined, { open: false, addresses: ['10.0.0.0/8'], token });
    try {
      const address = byAddress.address() as AddressInfo;
      expect(address.address).toBe('127.0.0.1');
      expect((await fetch(`http://127.0.0.1:${address.port}/metrics`)).status).toBe(200);
      const tokenPort = (byToken.address() as AddressInfo).port;
      expect((await fetch(`http://127.0.0.1:${tokenPort}/metrics`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${tokenPort}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      byAddress.close();
      byToken.close();
    }
  });

  it('production without METRICS_* lets nobody in; development without them is open', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_JWKS_URL: 'https://idp.example.com/jwks',
      CONSENT_TOKEN_SECRET: 'c'.repeat(40),
      STRIPE_SECRET_KEY: `sk_live_${'k'.repeat(24)}`,
      STRIPE_WEBHOOK_SECRET: `whsec_${'w'.repeat(24)}`,
    };
    expect(loadConfig(production).observability.metricsAccess).toEqual({ open: false, addresses: [] });
    expect(loadConfig({}).observability.metricsAccess.open).toBe(true);
    expect(loadConfig({}).observability.workerAppMetricsHost).toBe('127.0.0.1');
  });
});
