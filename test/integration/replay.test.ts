import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Signup } from '../../src/signups/signup.entity.js';
import { cancelSignupUpdate, confirmSignupUpdate, doorSignupLeftSignal, eventFinishedSignal, searchAttributes, workflowIds, workflowTypes } from '../../src/temporal/contract.js';
import { request } from '../support/http.js';
import { deliverWebhook, paymentIntentOf, stripeEvent } from '../support/signup-steps.js';
import { mintDevToken } from '../../src/auth/tokens.js';
import { createConsentToken } from '../../src/consents/consent-token.js';
import { findOrBuildTemporalCli } from '../../scripts/lib/tools.js';
import { requireEnv } from '../support/environment.js';
import { payAtStripe } from '../support/stripe-control.js';
import { startSignupWorkflow } from '../support/signup-flows.js';
import { eventually, insertEvent, startTestApi, startTestStack, type TestStack } from '../support/stack.js';

/**
 * Replay safety. The histories in test/histories/ were recorded from real runs of the signup
 * workflow; every change to workflows/ must still replay them (or sit behind patched()).
 * `npm run histories:export` records them again (only for a deliberate, reviewed change); record
 * only new ones with a name filter, e.g. `npm run histories:export -- -t signup-exact`, so the
 * released histories stay as they were recorded.
 */
const historiesDir = join(process.cwd(), 'test/histories');
const exporting = process.env.EXPORT_HISTORIES === '1';
const execFileAsync = promisify(execFile);

(exporting ? describe : describe.skip)('recording the scenario histories', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // Lifecycle dates seconds apart, so its history is recorded in seconds.
    // Free signups through the API get a workflow each, as the signup scenarios were recorded.
    stack = await startTestStack({ worker: true, env: { LIFECYCLE_REMINDER_OFFSETS_SECONDS: '3', DATA_RETENTION_SECONDS: '1', SIGNUP_DOOR_CONFIRMATIONS: 'each' } });
  });
  afterAll(() => stack.stop());

  const confirmed = async (signupId: string) =>
    eventually(`${signupId} confirmed`, async () =>
      (await stack.orm.em.fork().findOneOrFail(Signup, signupId)).status === 'confirmed' ? true : undefined,
    );
  const scenarios: [string, (eventId: string) => Promise<{ workflowId: string }>][] = [
    ['signup-confirmed', async (eventId) => {
      const { signupId, handle } = await startSignupWorkflow(flowDeps(), eventId, 60);
      await confirmed(signupId);
      await handle.signal(eventFinishedSignal);
      await handle.result();
      return handle;
    }],
    ['signup-paid-hold-expired', async (eventId) => {
      const { handle } = await startSignupWorkflow(flowDeps(), eventId, 1, { paid: { amountMinor: 15_000, currency: 'NOK' } });
      await handle.result();
      return handle;
    }],
    ['signup-sold-out', async () => {
      const full = await insertEvent(stack.orm, { capacity: 0 });
      const { handle } = await startSignupWorkflow(flowDeps(), full.id, 60);
      await handle.result();
      return handle;
    }],
    ['signup-cancelled', async (eventId) => {
      const { signupId, handle } = await startSignupWorkflow(flowDeps(), eventId, 60);
      await confirmed(signupId);
      await handle.executeUpdate(cancelSignupUpdate, { args: [{ by: 'participant', reason: 'ill' }] });
      await handle.result();
      return handle;
    }],
    ['signup-waitlist-handover', async () => {
      const { waiting } = await firstCancelsForTheWaiting(60);
      await eventually('offered', async () =>
        (await stack.orm.em.fork().findOneOrFail(Signup, waiting.signupId)).status === 'held' ? true : undefined,
      );
      await waiting.handle.executeUpdate(confirmSignupUpdate);
      await waiting.handle.signal(eventFinishedSignal);
      await waiting.handle.result();
      return waiting.handle;
    }],
    // Through the API, which takes the seats itself: recorded with the `seats-held-by-api` patch.
    ['signup-held-by-api', async (eventId) => {
      const token = await stack.api.token(`replay-${eventId}`);
      const accepted = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
        token,
        body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
      });
      const signupId = accepted.body.id as string;
      await confirmed(signupId);
      const handle = stack.client.workflow.getHandle(workflowIds.signup(signupId));
      await handle.signal(eventFinishedSignal);
      await handle.result();
      return handle;
    }],
    // A free signup through the API since the outbox: confirmed at the door, started with `confirmedByApi`.
    ['signup-confirmed-by-api', async (eventId) => {
      const token = await stack.api.token(`replay-free-${eventId}`);
      const accepted = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
        token,
        body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
      });
      const handle = stack.client.workflow.getHandle(workflowIds.signup(accepted.body.id as string));
      // Started from the outbox just after the answer; the confirmation mail is its first step.
      await eventually('the workflow at rest after its confirmation mail', async () => {
        const description = await handle.describe().catch(() => undefined);
        return description && !description.raw.pendingWorkflowTask && (description.raw.pendingActivities ?? []).length === 0 && description.historyLength > 3
          ? true
          : undefined;
      });
      await handle.signal(eventFinishedSignal);
      await handle.result();
      return handle;
    }],
    ['signup-paid-then-refunded', () => paidThenRefunded()],
    // A held paid signup, paid at Stripe and then cancelled: the signup flow hands the payment to its
    // refund flow (the `unhonoured-payments-handed-over` patch), which refunds it and mails once.
    ['signup-cancelled-while-paying', async () => (await cancelledWhilePaying()).signup],
    ['payment-refund-cancelled-while-paying', async () => (await cancelledWhilePaying()).refund],
    // Exact holds (the `hold-until-stored-deadline` patch). A paid hold taken at the door whose
    // workflow got going late: its timer counts down to the stored deadline (3 s away), not a whole
    // hold (60 s); unpaid, the intent is cancelled and the seat released.
    ['signup-exact-hold-expired', (eventId) => paidHoldEndingAt(eventId, 3_000)],
    // The same, started once its deadline had passed (queued behind a backlog): no hold timer at all.
    ['signup-exact-hold-passed', (eventId) => paidHoldEndingAt(eventId, -1_000)],
    // The same two since an unpaid hold ends in one step (patch unpaid-hold-ends-in-one-step): cancel
    // and release in one activity, and no intent at all for a hold that had passed.
    ['signup-unpaid-hold-ended', (eventId) => paidHoldEndingAt(eventId, 3_000)],
    ['signup-unpaid-hold-passed', (eventId) => paidHoldEndingAt(eventId, -1_000)],
    // Since seat moves run on the seat task queue (patch seat-moves-on-own-queue) and a cancel's
    // move inside its workflow task (cancel-seat-move-in-task): a paid signup confirmed, then
    // cancelled and refunded, and an unpaid hold ended at its deadline.
    ['signup-seat-queue-paid-then-refunded', () => paidThenRefunded()],
    ['signup-seat-queue-hold-ended', (eventId) => paidHoldEndingAt(eventId, 3_000)],
    // A door-confirmations flow for two free signups (as the relay starts it): both mailed, one leaves
    // (its own workflow was started for a cancel), then the event is over.
    ['door-confirmations-one-left', async (eventId) => {
      const signupIds: string[] = [];
      for (const name of ['replay-door-a', 'replay-door-b']) {
        const accepted = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
          token: await stack.api.token(`${name}-${eventId}`),
          body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
        });
        signupIds.push(accepted.body.id as string);
      }
      const handle = await stack.client.workflow.start(workflowTypes.doorConfirmations, {
        workflowId: workflowIds.doorConfirmations(signupIds[0]!),
        taskQueue: stack.worker!.taskQueue,
        args: [{ eventId, signupIds }],
        typedSearchAttributes: [{ key: searchAttributes.signupIds, value: signupIds }],
      });
      await eventually('both mailed', async () =>
        (await handle.fetchHistory()).events?.some((event) => event.activityTaskCompletedEventAttributes) ? true : undefined,
      );
      await handle.signal(doorSignupLeftSignal, signupIds[1]!);
      await handle.signal(eventFinishedSignal);
      await handle.result();
      return handle;
    }],
    // A free signup confirmed at the door (grouped, as by default), cancelled by its owner before it
    // needed a workflow: the API cancels it, and its workflow starts as cancelled to tell them.
    ['signup-cancelled-at-door', async (eventId) => {
      const grouped = await startTestApi({ orm: stack.orm, temporal: stack.client, taskQueue: stack.worker!.taskQueue }, { SIGNUP_DOOR_CONFIRMATIONS: 'grouped' });
      try {
        const token = await grouped.token(`replay-door-cancel-${eventId}`);
        const accepted = await request(grouped.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
          token,
          body: { attendees: [{ firstName: 'Ada', age: 9, kind: 'child' }], platform: 'web' },
        });
        const signupId = accepted.body.id as string;
        await eventually('its row under a door-confirmations flow', async () => {
          // Its flow started: the kept row names it and is never due.
          const [row] = await stack.orm.em
            .fork()
            .getConnection()
            .execute<{ door_flow_id: string | null }[]>(`select door_flow_id from signup_workflow_start where signup_id = ? and next_attempt_at = 'infinity'`, [signupId]);
          return row?.door_flow_id ? true : undefined;
        });
        const cancelled = await request(grouped.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token, body: { reason: 'ill' } });
        if (cancelled.status !== 200) throw new Error(`cancel refused: ${cancelled.status}`);
        const handle = await eventually('its workflow', async () => {
          const [row] = await stack.orm.em.fork().getConnection().execute<{ n: number }[]>('select count(*)::int as n from signup_workflow_start where signup_id = ?', [signupId]);
          return row?.n === 0 ? stack.client.workflow.getHandle(workflowIds.signup(signupId)) : undefined;
        });
        await handle.result();
        return handle;
      } finally {
        await grouped.close();
      }
    }],
    // The same since step 5 runs in the one workflow task that saw the payment (patch confirmation-in-one-task).
    ['signup-paid-confirmed-in-one-task', () => paidConfirmedUntilTheEnd('replay-one-task-payer')],
    // The same since the receipt and the confirmation go out in one activity (patch confirmation-mails-together).
    ['signup-paid-mails-together', () => paidConfirmedUntilTheEnd('replay-mails-together-payer')],
    // A paid hold through the API, paid before its stored deadline: confirmed, until the event is over.
    ['signup-exact-hold-paid', () => paidConfirmedUntilTheEnd('replay-exact-payer')],
    // A waiting-list offer not taken: its timer counts down to the offer's stored deadline (the
    // freeing flow's 3 s offer), not the waiting flow's own 60 s window; then the seat goes back.
    ['signup-exact-offer-expired', async () => {
      const { waiting } = await firstCancelsForTheWaiting(3);
      await waiting.handle.result();
      return waiting.handle;
    }],
    // Cancels that find the flow waiting before any seat is held: on the waiting list, and for a guardian.
    ['signup-waitlist-cancelled', async () => {
      const small = await insertEvent(stack.orm, { capacity: 1 });
      await stack.orm.em.getConnection().execute('update "event" set waitlist_enabled = true where id = ?', [small.id]);
      const first = await startSignupWorkflow(flowDeps(), small.id, 60);
      await confirmed(first.signupId);
      const waiting = await startSignupWorkflow(flowDeps(), small.id, 60);
      await eventually('waitlisted', async () =>
        (await stack.orm.em.fork().findOneOrFail(Signup, waiting.signupId)).status === 'waitlisted' ? true : undefined,
      );
      await waiting.handle.executeUpdate(cancelSignupUpdate, { args: [{ by: 'participant', reason: 'found another' }] });
      await waiting.handle.result();
      return waiting.handle;
    }],
    ['signup-consent-cancelled', async (eventId) => {
      await stack.orm.em.getConnection().execute('update "event" set guardian_consent_below_age = 16 where id = ?', [eventId]);
      const token = await mintDevToken(stack.api.config.jwt, {
        sub: `replay-minor-cancel-${eventId}`,
        roles: ['participant'],
        extraClaims: { birthdate: '2015-01-01', guardian_email: 'guardian@replay.test' },
      });
      const accepted = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
        token,
        body: { attendees: [{ firstName: 'Liv', age: 11, kind: 'child' }], platform: 'web' },
      });
      const signupId = accepted.body.id as string;
      await eventually('awaiting consent', async () =>
        (await stack.orm.em.fork().findOneOrFail(Signup, signupId)).status === 'awaiting_consent' ? true : undefined,
      );
      await request(stack.api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token, body: { reason: 'changed plans' } });
      const handle = stack.client.workflow.getHandle(workflowIds.signup(signupId));
      await handle.result();
      return handle;
    }],
    ['signup-consent-denied', async (eventId) => {
      await stack.orm.em.getConnection().execute('update "event" set guardian_consent_below_age = 16 where id = ?', [eventId]);
      const token = await mintDevToken(stack.api.config.jwt, {
        sub: `replay-minor-${eventId}`,
        roles: ['participant'],
        extraClaims: { birthdate: '2015-01-01', guardian_email: 'guardian@replay.test' },
      });
      const accepted = await request(stack.api.baseUrl, 'POST', `/v1/events/${eventId}/signups`, {
        token,
        body: { attendees: [{ firstName: 'Liv', age: 11, kind: 'child' }], platform: 'web' },
      });
      const signupId = accepted.body.id as string;
      const handle = stack.client.workflow.getHandle(workflowIds.signup(signupId));
      await eventually('awaiting consent', async () =>
        (await stack.orm.em.fork().findOneOrFail(Signup, signupId)).status === 'awaiting_consent' ? true : undefined,
      );
      const consent = createConsentToken({ signupId, expiresAt: new Date(Date.now() + 60_000) }, stack.api.config.signup.consentTokenSecret);
      await request(stack.api.baseUrl, 'POST', `/v1/consents/${consent}`, { body: { decision: 'denied' } });
      await handle.result();
      return handle;
    }],
    ['event-lifecycle-rescheduled', async () => {
      const admin = await stack.api.token('replay-admin', ['admin']);
      const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
      const created = await request(stack.api.baseUrl, 'POST', '/v1/admin/events', {
        token: admin,
        body: {
          defaultLocale: 'en',
          translations: { en: { title: 'Replay lifecycle' } },
          category: 'workshop',
          market: 'NO',
          timezone: 'Europe/Oslo',
          capacity: 5,
          refundPolicy: { kind: 'none' },
          announceAt: at(1),
          startsAt: at(8),
          endsAt: at(9),
          publish: true,
        },
      });
      const eventId = created.body.id as string;
      const read = await request(stack.api.baseUrl, 'GET', `/v1/admin/events/${eventId}`, { token: admin });
      await request(stack.api.baseUrl, 'PATCH', `/v1/admin/events/${eventId}`, {
        token: admin,
        body: { startsAt: at(10), endsAt: at(11) },
        headers: { 'if-match': read.headers.get('etag') ?? '' },
      });
      const handle = stack.client.workflow.getHandle(workflowIds.eventLifecycle(eventId));
      await handle.result();
      return handle;
    }],
    ['event-lifecycle-cancelled', async () => (await cancelledEvent()).lifecycle],
    ['event-retention-purged', async () => {
      const { retention } = await cancelledEvent();
      await retention.result();
      return retention;
    }],
  ];

  /** A published event cancelled: its lifecycle ends, and its retention flow (1 s here) purges it. */
  async function cancelledEvent() {
    const admin = await stack.api.token('replay-admin', ['admin']);
    const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
    const created = await request(stack.api.baseUrl, 'POST', '/v1/admin/events', {
      token: admin,
      body: {
        defaultLocale: 'en',
        translations: { en: { title: 'Replay cancelled lifecycle' } },
        category: 'workshop',
        market: 'NO',
        timezone: 'Europe/Oslo',
        capacity: 5,
        refundPolicy: { kind: 'none' },
        startsAt: at(86_400),
        endsAt: at(90_000),
        publish: true,
      },
    });
    const eventId = created.body.id as string;
    await request(stack.api.baseUrl, 'POST', `/v1/admin/events/${eventId}/cancel`, { token: admin, body: { reason: 'Replay' } });
    const lifecycle = stack.client.workflow.getHandle(workflowIds.eventLifecycle(eventId));
    await eventually('the cancelled lifecycle', async () => ((await lifecycle.describe().catch(() => undefined)) ? true : undefined));
    await lifecycle.result();
    return { lifecycle, retention: stack.client.workflow.getHandle(workflowIds.eventRetention(eventId)) };
  }
  const flowDeps = () => ({ orm: stack.orm, client: stack.client, taskQueue: stack.worker!.taskQueue });

  /**
   * One seat, confirmed for a first signup (its flow's windows `firstSeconds`, so its offers last
   * that long), a second one waitlisted behind it; then the first cancels and the seat is offered on.
   */
  async function firstCancelsForTheWaiting(firstSeconds: number) {
    const small = await insertEvent(stack.orm, { capacity: 1 });
    await stack.orm.em.getConnection().execute('update "event" set waitlist_enabled = true where id = ?', [small.id]);
    const first = await startSignupWorkflow(flowDeps(), small.id, firstSeconds);
    await confirmed(first.signupId);
    const waiting = await startSignupWorkflow(flowDeps(), small.id, 60);
    await eventually('waitlisted', async () =>
      (await stack.orm.em.fork().findOneOrFail(Signup, waiting.signupId)).status === 'waitlisted' ? true : undefined,
    );
    await first.handle.executeUpdate(cancelSignupUpdate, { args: [{ by: 'participant' }] });
    return { first, waiting };
  }

  /** A paid signup through the API (an event with 5 seats), paid by Stripe's webhook and confirmed. */
  async function paidAndConfirmed(who: string, event: { cancellationDeadline?: Date } = {}) {
    const paidEvent = await insertEvent(stack.orm, { capacity: 5, ...event, ticketTypes: [{ code: 'adult', amountMinor: 15_000, currency: 'NOK' }] });
    const token = await stack.api.token(`${who}-${paidEvent.id}`);
    const accepted = await request(stack.api.baseUrl, 'POST', `/v1/events/${paidEvent.id}/signups`, {
      token,
      body: { attendees: [{ firstName: 'Kari', age: 40, kind: 'adult' }], platform: 'ios' },
    });
    const signupId = accepted.body.id as string;
    const intentId = await paymentIntentOf(stack.orm, signupId);
    await deliverWebhook(stack.api, stripeEvent('payment_intent.succeeded', signupId, intentId));
    await confirmed(signupId);
    return { signupId, token };
  }

  /** The same, then the event is over. */
  async function paidConfirmedUntilTheEnd(who: string) {
    const { signupId } = await paidAndConfirmed(who);
    const handle = stack.client.workflow.getHandle(workflowIds.signup(signupId));
    await handle.signal(eventFinishedSignal);
    await handle.result();
    return handle;
  }

  /** The same, then cancelled by its owner and refunded. */
  async function paidThenRefunded() {
    const { signupId, token } = await paidAndConfirmed('replay-payer', { cancellationDeadline: new Date(Date.now() + 86_400_000) });
    await request(stack.api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token, body: { reason: 'ill' } });
    const handle = stack.client.workflow.getHandle(workflowIds.signup(signupId));
    await handle.result();
    return handle;
  }

  /** A paid hold the API took, with its deadline `inMs` from now, never paid. */
  async function paidHoldEndingAt(eventId: string, inMs: number) {
    const { handle } = await startSignupWorkflow(flowDeps(), eventId, 60, {
      paid: { amountMinor: 15_000, currency: 'NOK' },
      heldUntil: new Date(Date.now() + inMs),
    });
    await handle.result();
    return handle;
  }

  async function cancelledWhilePaying() {
    const paidEvent = await insertEvent(stack.orm, { capacity: 5, ticketTypes: [{ code: 'adult', amountMinor: 15_000, currency: 'NOK' }] });
    const token = await stack.api.token(`replay-cancel-paying-${paidEvent.id}`);
    const accepted = await request(stack.api.baseUrl, 'POST', `/v1/events/${paidEvent.id}/signups`, {
      token,
      body: { attendees: [{ firstName: 'Kari', age: 40, kind: 'adult' }], platform: 'web' },
    });
    const signupId = accepted.body.id as string;
    const intentId = await paymentIntentOf(stack.orm, signupId);
    await payAtStripe(intentId);
    await request(stack.api.baseUrl, 'POST', `/v1/signups/${signupId}/cancel`, { token, body: { reason: 'ill' } });
    const signup = stack.client.workflow.getHandle(workflowIds.signup(signupId));
    await signup.result();
    const refund = stack.client.workflow.getHandle(workflowIds.paymentRefund(intentId));
    await refund.result();
    return { signup, refund };
  }

  it.each(scenarios)('%s', async (name, runScenario) => {
    const event = await insertEvent(stack.orm, { capacity: 5 });
    const { workflowId } = await runScenario(event.id);
    // The CLI writes the proto3 JSON the SDK's replayer reads (the SDK's own historyToJSON trips over
    // jest's separate module registry).
    const cli = findOrBuildTemporalCli();
    if (!cli) throw new Error('recording histories needs the Temporal CLI');
    const { stdout } = await execFileAsync(cli, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', requireEnv('TEMPORAL_ADDRESS')]);
    mkdirSync(historiesDir, { recursive: true });
    const saved = { workflowId, history: JSON.parse(stdout) as unknown };
    writeFileSync(join(historiesDir, `${name}.json`), `${JSON.stringify(saved, null, 1)}\n`);
  });
});

/** The script's one line per history (the SDK core logs its own warnings in between). */
const verdicts = (output: string) => output.split('\n').filter((line) => /^(ok|FAIL) /.test(line));

/** Runs scripts/replay-histories.ts in its own process: the SDK's replayer trips over jest's module registry. */
async function replay(args: string[]): Promise<{ code: number; lines: string[] }> {
  try {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'scripts/replay-histories.ts', ...args]);
    return { code: 0, lines: verdicts(stdout) };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string };
    return { code: failure.code ?? -1, lines: verdicts(failure.stdout ?? '') };
  }
}

(exporting ? describe.skip : describe)('replaying recorded histories', () => {
  it('has a recorded history of every scenario', () => {
    expect(readdirSync(historiesDir).filter((file) => file.endsWith('.json')).sort()).toEqual([
      'door-confirmations-one-left.json',
      'event-lifecycle-cancelled.json',
      'event-lifecycle-rescheduled.json',
      'event-retention-purged.json',
      'payment-refund-cancelled-while-paying.json',
      'signup-cancelled-at-door.json',
      'signup-cancelled-while-paying.json',
      'signup-cancelled.json',
      'signup-confirmed-by-api.json',
      'signup-confirmed.json',
      'signup-consent-cancelled.json',
      'signup-consent-denied.json',
      'signup-exact-hold-expired.json',
      'signup-exact-hold-paid.json',
      'signup-exact-hold-passed.json',
      'signup-exact-offer-expired.json',
      'signup-held-by-api.json',
      'signup-paid-confirmed-in-one-task.json',
      'signup-paid-hold-expired.json',
      'signup-paid-mails-together.json',
      'signup-paid-then-refunded.json',
      'signup-seat-queue-hold-ended.json',
      'signup-seat-queue-paid-then-refunded.json',
      'signup-sold-out.json',
      'signup-unpaid-hold-ended.json',
      'signup-unpaid-hold-passed.json',
      'signup-waitlist-cancelled.json',
      'signup-waitlist-handover.json',
    ]);
  });

  it('replays every recorded history with the current workflow code', async () => {
    const result = await replay([]);
    expect(result.lines.filter((line) => !line.startsWith('ok '))).toEqual([]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.lines).toHaveLength(28);
  });

  it('catches a non-deterministic change to the workflow', async () => {
    const result = await replay(['--workflows', 'test/fixtures/nondeterministic-workflows.ts']);
    expect(result.code).toBe(1);
    expect(result.lines).toHaveLength(28);
    // The fixture reorders the signup workflow's steps (and has no lifecycle or payment refund workflow at all).
    for (const line of result.lines.filter((l) => l.includes('signup-'))) expect(line).toMatch(/^FAIL .*DeterminismViolationError/);
    expect(result.lines.every((line) => line.startsWith('FAIL '))).toBe(true);
  });
});
