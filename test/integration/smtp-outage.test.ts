/**
 * SMTP down, or hanging, while a paid signup is confirmed: the payment becomes a ticket at once (the
 * row, the counters and the API say confirmed, with a ticket code), nothing is sent meanwhile, and
 * once SMTP is back the receipt and the confirmation go out, each exactly once. The worker reaches the
 * real SMTP sink through a TCP proxy the test cuts (connections refused) or stalls (accepted, then
 * silence: only SMTP_TIMEOUT_SECONDS ends an attempt), so the sink stays up for the other files.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MikroORM } from '../../src/db/orm.js';
import { workflowIds } from '../../src/temporal/contract.js';
import {
  deliverWebhook,
  mailsMatching,
  newUser,
  paymentIntentOf,
  signUp,
  stripeEvent,
  subjects,
  waitForMail,
  waitForStatus,
} from '../support/signup-steps.js';
import { countersAndRows, eventually, insertEvent, startTestStack, testConfig, workflowIdle, type TestStack } from '../support/stack.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

let stack: TestStack;
let orm: MikroORM;
let smtp: TcpProxy;

beforeAll(async () => {
  const { host, port } = testConfig().smtp;
  smtp = await startTcpProxy(`${host}:${port}`);
  stack = await startTestStack({
    worker: true,
    env: { SIGNUP_HOLD_SECONDS: '120', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port), SMTP_TIMEOUT_SECONDS: '2' },
  });
  ({ orm } = stack);
});

afterAll(async () => {
  await stack?.stop();
  await smtp?.close();
});

async function notificationRows(signupId: string): Promise<{ kind: string; state: string; last_error: string | null }[]> {
  return orm.em
    .fork()
    .getConnection()
    .execute(`select kind, state, last_error from notification_log where signup_id = ? and channel = 'email'`, [signupId]);
}

async function notificationStates(signupId: string): Promise<Record<string, string>> {
  return Object.fromEntries((await notificationRows(signupId)).map((row) => [row.kind, row.state]));
}

describe('SMTP out of reach during a paid confirmation', () => {
  it.each([
    ['refuses connections', (proxy: TcpProxy) => proxy.cut(), /ECONNREFUSED|ECONNRESET|closed|socket/i],
    ['takes connections and never answers', (proxy: TcpProxy) => proxy.stall(), /greeting never received|timeout/i],
  ])('confirms the payment at once while SMTP %s, and sends the receipt and the confirmation once when it is back', async (_, outage, expected) => {
    const { api } = stack;
    const event = await insertEvent(orm, { capacity: 3, title: 'Paid robotics', ticketTypes: [{ code: 'standard', amountMinor: 18_000 }] });
    const user = await newUser(api);
    const signupId = await signUp(api, user, event.id);
    const intentId = await paymentIntentOf(orm, signupId);
    await waitForMail(user.email, subjects.received);

    outage(smtp);
    try {
      expect((await deliverWebhook(api, stripeEvent('payment_intent.succeeded', signupId, intentId))).status).toBe(200);
      // The ticket does not wait for the mail.
      const confirmed = await waitForStatus(api, user, signupId, 'confirmed', 15_000);
      expect((confirmed.attendees as { ticketCode: string | null }[])[0]?.ticketCode).toEqual(expect.any(String));
      expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 1, confirmedRows: 1 });
      // The receipt's attempt failed against the outage (for a hang, only after SMTP_TIMEOUT_SECONDS),
      // and left the row to its retry; nothing went out.
      const failed = await eventually('the receipt attempt to fail', async () => {
        const receipt = (await notificationRows(signupId)).find((row) => row.kind === 'payment-receipt');
        return receipt?.state === 'retrying' ? receipt : undefined;
      }, 20_000);
      expect(failed.last_error).toMatch(expected);
      expect(await mailsMatching(user.email, subjects.receipt)).toHaveLength(0);
    } finally {
      smtp.restore();
    }

    // Back: the retries send both, and the flow settles with nothing left under way.
    await waitForMail(user.email, subjects.receipt, 1, 60_000);
    await waitForMail(user.email, subjects.confirmation, 1, 60_000);
    await workflowIdle(stack.client, workflowIds.signup(signupId), 60_000);
    expect(await notificationStates(signupId)).toMatchObject({ 'payment-receipt': 'sent', confirmation: 'sent' });
    expect(await mailsMatching(user.email, subjects.receipt)).toHaveLength(1);
    expect(await mailsMatching(user.email, subjects.confirmation)).toHaveLength(1);
    expect(await mailsMatching(user.email, subjects.received)).toHaveLength(1);
  }, 120_000);
});
