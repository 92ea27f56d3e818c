/**
 * Operations on real workflows (src/ops, npm run ops, /v1/ops): list by visibility query, show,
 * retry (the retryStep signal), reset to a workflow task, batch reset, the audit log, and who may call.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { OpsAudit } from '../../src/ops/audit.entity.js';
import { createOpsService, defaultFlowQuery, type OpsService } from '../../src/ops/service.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { searchAttributes, workflowIds, workflowTypes, type SignupWorkflowInput } from '../../src/temporal/contract.js';
import type { signupWorkflow } from '../../workflows/signup.js';
import { requireEnv } from '../support/environment.js';
import { request } from '../support/http.js';
import { startSignupWorkflow } from '../support/signup-flows.js';
import { eventually, insertEvent, startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let ops: OpsService;
let fixtureWorker: { queue: string; stop(): Promise<void> };
const actor = `ops-test-${randomUUID()}`;

beforeAll(async () => {
  stack = await startTestStack({ worker: true });
  ops = createOpsService({ orm: stack.orm, temporal: stack.client });
  // A worker for the test-only failing workflow, on a task queue of its own.
  const queue = `ops-fixture-${randomUUID()}`;
  const connection = await NativeConnection.connect({ address: requireEnv('TEMPORAL_ADDRESS') });
  const bundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../fixtures/failing-workflows.ts', import.meta.url)),
    logger: { trace: () => {}, debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, log: () => {} },
  });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: queue,
    workflowBundle: bundle,
  });
  const running = worker.run();
  fixtureWorker = {
    queue,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}, 120_000);

afterAll(async () => {
  await fixtureWorker?.stop();
  await stack?.stop();
});

const deps = () => ({ orm: stack.orm, client: stack.client, taskQueue: stack.worker!.taskQueue });

/** A free signup's flow: confirmed at once, then waiting for the event to finish. */
async function confirmedSignupFlow() {
  const event = await insertEvent(stack.orm, { capacity: 5 });
  const { signupId, handle } = await startSignupWorkflow(deps(), event.id, 600);
  await eventually('confirmed', async () => ((await stack.orm.em.fork().findOne(Signup, signupId))?.status === 'confirmed' ? true : undefined));
  return { signupId, workflowId: handle.workflowId };
}

async function historyTypes(workflowId: string): Promise<string[]> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).map((event) => Object.keys(event).find((key) => key.endsWith('EventAttributes') && (event as Record<string, unknown>)[key]) ?? '');
}

async function auditRows(target: string) {
  return stack.orm.em.fork().find(OpsAudit, { target, actor }, { orderBy: { at: 'asc' } });
}

describe('the ops service on real workflows', () => {
  it('lists a flow by query and shows its state and history', async () => {
    const { signupId, workflowId } = await confirmedSignupFlow();
    const query = `${searchAttributes.signupId.name} = "${signupId}" OR WorkflowId = "${workflowId}"`;
    const listed = await eventually('listed', async () => {
      const result = await ops.list(actor, { query });
      return result.items.length ? result : undefined;
    });
    expect(listed.items[0]).toMatchObject({ workflowId, type: workflowTypes.signup, status: 'RUNNING', attention: null });

    const shown = await ops.show(actor, workflowId);
    expect(shown).toMatchObject({ workflowId, status: 'RUNNING', type: workflowTypes.signup, stateError: null });
    expect(shown.state).toMatchObject({ status: 'confirmed' });
    expect(shown.history.lastEvents.map((event) => event.type)).toContain('WorkflowTaskCompleted');
    expect(shown.history.lastEvents.at(-1)?.eventId).toBe(shown.historyLength);

    const audit = await auditRows(workflowId);
    expect(audit.map((row) => [row.action, row.outcome])).toEqual([['show', 'ok']]);
  });

  it('retries a waiting flow with the retryStep signal, audited with the reason', async () => {
    const { workflowId } = await confirmedSignupFlow();
    const result = await ops.retry(actor, workflowId, { reason: 'stripe is back' });
    expect(result.workflowId).toBe(workflowId);
    await eventually('signalled', async () => ((await historyTypes(workflowId)).includes('workflowExecutionSignaledEventAttributes') ? true : undefined));
    const [row] = await auditRows(workflowId);
    expect(row).toMatchObject({ action: 'retry', actor, reason: 'stripe is back', outcome: 'ok' });
    await expect(ops.retry(actor, workflowId, { reason: ' ' })).rejects.toMatchObject({ kind: 'reason-required' });
  });

  it('finds a failed flow in the default list, and resets it to its first workflow task', async () => {
    const workflowId = `ops-failing-${randomUUID()}`;
    const handle = await stack.client.workflow.start('failingWorkflow', { workflowId, taskQueue: fixtureWorker.queue, args: ['no such signup'] });
    await expect(handle.result()).rejects.toThrow();
    const listed = await eventually('in the default list', async () => {
      const result = await ops.list(actor, { limit: 1000 });
      return result.items.find((flow) => flow.workflowId === workflowId);
    });
    expect(listed.status).toBe('FAILED');
    expect((await ops.list(actor, { limit: 1 })).query).toBe(defaultFlowQuery);

    const shown = await ops.show(actor, workflowId);
    expect(shown.lastFailure).toContain('bad input: no such signup');
    expect(shown.stateError).toContain('no query known');

    const reset = await ops.reset(actor, workflowId, { to: 'first-workflow-task', reason: 'input fixed' });
    expect(reset.previousRunId).toBe(handle.firstExecutionRunId);
    const described = await stack.client.workflow.getHandle(workflowId).describe();
    expect(described.runId).toBe(reset.newRunId);
    expect(described.runId).not.toBe(reset.previousRunId);

    await expect(ops.reset(actor, workflowId, { to: 2, reason: 'not a task end' })).rejects.toMatchObject({ kind: 'bad-reset-point' });
    const rows = await auditRows(workflowId);
    expect(rows.map((row) => [row.action, row.outcome, row.reason])).toEqual([
      ['show', 'ok', null],
      ['reset', 'ok', 'input fixed'],
      ['reset', 'error', 'not a task end'],
    ]);
  });

  it('resets a running signup flow to its first workflow task: a new run that goes on', async () => {
    const { signupId, workflowId } = await confirmedSignupFlow();
    const before = await stack.client.workflow.getHandle(workflowId).describe();
    const reset = await ops.reset(actor, workflowId, { to: 'first-workflow-task', reason: 'replay from the start' });
    const after = await stack.client.workflow.getHandle(workflowId).describe();
    expect(after.runId).toBe(reset.newRunId);
    expect(after.runId).not.toBe(before.runId);
    // The new run runs the idempotent steps again and ends where the first did.
    await eventually('state answered', async () => {
      const shown = await ops.show(actor, workflowId);
      return shown.state?.status === 'confirmed' ? true : undefined;
    });
    expect((await stack.orm.em.fork().findOneOrFail(Signup, signupId)).status).toBe('confirmed');
  });

  it('concurrent resets and retries of one flow answer 200 or 409 over HTTP, never 500', async () => {
    const { workflowId } = await confirmedSignupFlow();
    const opsToken = await stack.api.token(actor, ['ops']);
    const flow = `/v1/ops/flows/${encodeURIComponent(workflowId)}`;
    const calls = [
      ...Array.from({ length: 4 }, (_, index) => ['reset', { to: 'last-workflow-task', reason: `race ${index}` }] as const),
      ...Array.from({ length: 4 }, (_, index) => ['retry', { reason: `race ${index}` }] as const),
    ];
    const answers = await Promise.all(calls.map(([action, body]) => request(stack.api.baseUrl, 'POST', `${flow}/${action}`, { token: opsToken, body })));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    expect(statuses.slice(0, 4)).toContain(200);
    for (const answer of answers.filter((one) => one.status === 409)) {
      expect(['/problems/flow-changed', '/problems/flow-not-running']).toContain(answer.body.type);
    }
  });

  it('batch-resets what a query matches, reporting each', async () => {
    const { signupId, workflowId } = await confirmedSignupFlow();
    const query = `${searchAttributes.signupId.name} = "${signupId}" OR WorkflowId = "${workflowId}"`;
    await eventually('listed', async () => ((await ops.list(actor, { query })).items.length ? true : undefined));
    const result = await ops.batchReset(actor, { query, to: 'last-workflow-task', reason: 'bad deploy' });
    expect(result.items).toEqual([expect.objectContaining({ workflowId, outcome: 'ok' })]);
    const rows = await stack.orm.em.fork().find(OpsAudit, { actor, action: { $in: ['batch-reset', 'reset'] }, reason: 'bad deploy' });
    expect(rows.map((row) => row.action).sort()).toEqual(['batch-reset', 'reset']);
  });

  it('a flow stuck on a step waits marked Attention, and retry reports the step', async () => {
    // Paid by its input, free by its row: creating the payment intent fails at once (nothing to pay).
    const event = await insertEvent(stack.orm, { capacity: 5 });
    const signupId = randomUUID();
    const workflowId = workflowIds.signup(signupId);
    const em = stack.orm.em.fork();
    em.create(Signup, { id: signupId, event: event.id, userId: `u-${signupId}`, seats: 1, workflowId, amountMinor: 0, currency: null });
    await em.flush();
    const input: SignupWorkflowInput = {
      signupId,
      eventId: event.id,
      holdTimeoutSeconds: 600,
      offerTimeoutSeconds: 600,
      consentTimeoutSeconds: 600,
      latePaymentGraceSeconds: 1,
      needsGuardianConsent: false,
      paid: true,
    };
    await stack.client.workflow.start<typeof signupWorkflow>(workflowTypes.signup, {
      workflowId,
      taskQueue: stack.worker!.taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: searchAttributes.eventId, value: event.id }],
    });
    const listed = await eventually('in the default list', async () => {
      const result = await ops.list(actor, { limit: 1000 });
      return result.items.find((flow) => flow.workflowId === workflowId);
    });
    expect(listed.attention).toBe('createPaymentIntent');
    const shown = await ops.show(actor, workflowId);
    expect(shown.lastFailure).toContain('nothing to pay');
    expect(shown.history.failures.map((failure) => failure.type)).toContain('ActivityTaskFailed');
    const retried = await ops.retry(actor, workflowId, { reason: 'row fixed' });
    expect(retried.attention).toBe('createPaymentIntent');
  });
});

describe('/v1/ops over HTTP', () => {
  it('is for role ops only, validated, with problem documents', async () => {
    const { workflowId } = await confirmedSignupFlow();
    const opsToken = await stack.api.token(actor, ['ops']);
    const flow = `/v1/ops/flows/${encodeURIComponent(workflowId)}`;

    expect((await request(stack.api.baseUrl, 'GET', '/v1/ops/flows')).status).toBe(401);
    expect((await request(stack.api.baseUrl, 'GET', flow, { token: await stack.api.token('p1', ['participant']) })).status).toBe(403);
    expect((await request(stack.api.baseUrl, 'GET', flow, { token: await stack.api.token('a1', ['admin']) })).status).toBe(403);

    const shown = await request(stack.api.baseUrl, 'GET', flow, { token: opsToken });
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({ workflowId, status: 'RUNNING' });

    const unknown = await request(stack.api.baseUrl, 'GET', `/v1/ops/flows/signup-${randomUUID()}`, { token: opsToken });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');

    const noReason = await request(stack.api.baseUrl, 'POST', `${flow}/retry`, { token: opsToken, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.errors).toEqual([expect.objectContaining({ field: 'reason' })]);
    expect((await request(stack.api.baseUrl, 'POST', `${flow}/reset`, { token: opsToken, body: { to: 'last-workflow-task' } })).status).toBe(400);
    expect((await request(stack.api.baseUrl, 'POST', `${flow}/reset`, { token: opsToken, body: { to: 'yesterday', reason: 'x' } })).status).toBe(400);

    const retried = await request(stack.api.baseUrl, 'POST', `${flow}/retry`, { token: opsToken, body: { reason: 'over http' } });
    expect(retried.status).toBe(200);
    const badQuery = await request(stack.api.baseUrl, 'GET', `/v1/ops/flows?query=${encodeURIComponent('NoSuchThing ~~ 1')}`, { token: opsToken });
    expect(badQuery.status).toBe(400);

    const audit = await request(stack.api.baseUrl, 'GET', `/v1/ops/audit?target=${encodeURIComponent(workflowId)}`, { token: opsToken });
    expect(audit.status).toBe(200);
    expect(audit.body.items).toEqual([
      expect.objectContaining({ action: 'retry', actor, reason: 'over http', outcome: 'ok' }),
      expect.objectContaining({ action: 'show', actor, outcome: 'ok' }),
    ]);

    // A reset point that is no workflow task's end: the 422 names the body field.
    const badPoint = await request(stack.api.baseUrl, 'POST', `${flow}/reset`, { token: opsToken, body: { to: 2, reason: 'not a task end' } });
    expect({ status: badPoint.status, type: badPoint.body.type, errors: badPoint.body.errors }).toEqual({
      status: 422,
      type: '/problems/reset-point-invalid',
      errors: [expect.objectContaining({ in: 'body', field: 'to' })],
    });
  });
});
