import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { freePort, waitFor } from '../../scripts/lib/ports.js';
import { insertEvent, openTestOrm } from '../support/stack.js';
import { insertSignupRow } from '../support/signup-rows.js';

/**
 * The API as production starts it (src/api-main.ts, NODE_ENV=production, a real identity provider key),
 * in a process of its own: the configuration is read there, at start, exactly as in a deployment.
 */
const apiMain = fileURLToPath(new URL('../../src/api-main.ts', import.meta.url));
const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

function productionEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: process.env.DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE,
    TEMPORAL_TASK_QUEUE: `production-config-${randomUUID()}`,
    STRIPE_API_BASE: process.env.STRIPE_API_BASE,
    JWT_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    CONSENT_TOKEN_SECRET: `consent-${randomUUID()}-${randomUUID()}`,
    ...extra,
  };
  return env;
}

function startApi(env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', apiMain], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The attack that was seen: a payment_intent.succeeded for a held signup, signed with the published dev secret. */
function forgedSucceeded(signupId: string, paymentIntentId: string): { body: string; signature: string } {
  const body = JSON.stringify({
    id: `evt_${randomUUID()}`,
    object: 'event',
    type: 'payment_intent.succeeded',
    data: { object: { id: paymentIntentId, object: 'payment_intent', status: 'succeeded', metadata: { signupId } } },
  });
  const stripe = new Stripe('sk_test_unused');
  return { body, signature: stripe.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_dev_only' }) };
}

describe('production configuration', () => {
  it('refuses to start without Stripe secrets of its own, naming each one', async () => {
    const api = startApi(productionEnv({ PORT: String(await freePort()) }));
    const code = await api.exited;
    expect(code).toBe(78);
    expect(api.output()).toMatch(/STRIPE_SECRET_KEY: required in production/);
    expect(api.output()).toMatch(/STRIPE_WEBHOOK_SECRET: required in production/);
  });

  it('refuses to start with the development webhook secret set explicitly', async () => {
    const api = startApi(
      productionEnv({ PORT: String(await freePort()), STRIPE_SECRET_KEY: 'sk_live_x0123456789', STRIPE_WEBHOOK_SECRET: 'whsec_dev_only' }),
    );
    expect(await api.exited).toBe(78);
    expect(api.output()).toMatch(/STRIPE_WEBHOOK_SECRET: is a value published in this repository/);
  });

  describe('started with real secrets', () => {
    let orm: MikroORM;
    let api: ReturnType<typeof startApi>;
    let baseUrl: string;

    beforeAll(async () => {
      orm = await openTestOrm();
      const port = await freePort();
      baseUrl = `http://127.0.0.1:${port}`;
      api = startApi(
        productionEnv({
          PORT: String(port),
          STRIPE_SECRET_KEY: `sk_test_${randomUUID().replaceAll('-', '')}`,
          STRIPE_WEBHOOK_SECRET: `whsec_${randomUUID().replaceAll('-', '')}`,
        }),
      );
      await waitFor(
        `the production API (${api.output()})`,
        async () => {
          if (api.child.exitCode !== null) throw new Error(`the production API exited: ${api.output()}`);
          return fetch(`${baseUrl}/healthz`).then((answer) => answer.ok, () => false);
        },
        30_000,
      );
    });

    afterAll(async () => {
      if (api.child.exitCode === null) {
        api.child.kill('SIGTERM');
        await api.exited;
      }
      await orm.close(true);
    });

    it('answers the forged webhook 400 and leaves the unpaid signup held', async () => {
      const event = await insertEvent(orm, { ticketTypes: [{ code: 'standard', amountMinor: 25_000, currency: 'NOK' }] });
      const signupId = await insertSignupRow(orm, event.id, {
        status: 'held',
        ticketCode: 'standard',
        amountMinor: 25_000,
        currency: 'NOK',
        attendees: [{ firstName: 'Ada', age: 9 }],
      });
      const paymentIntentId = `pi_${randomUUID().replaceAll('-', '')}`;
      await orm.em.fork().nativeUpdate(Signup, { id: signupId }, { paymentIntentId });

      const forged = forgedSucceeded(signupId, paymentIntentId);
      const answer = await fetch(`${baseUrl}/v1/webhooks/stripe`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': forged.signature },
        body: forged.body,
      });
      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await answer.json()).toMatchObject({ type: '/problems/webhook-signature-invalid' });
      const signup = await orm.em.fork().findOneOrFail(Signup, signupId);
      expect(signup.status).toBe('held');
      expect(signup.paidAt).toBeNull();
    });
  });
});
