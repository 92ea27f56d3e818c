/**
 * Door confirmations (SIGNUP_DOOR_CONFIRMATIONS=grouped, src/signups/workflow-starts.ts): free signups
 * the API confirmed at the door together get one door-confirmations flow per group, which mails each
 * of them once and stands for them in Temporal (EventId, SignupStatus, SignupIds); no signup of the
 * group has a workflow of its own until something needs one. A cancel is made by the API at the door
 * and starts the signup's workflow from its kept outbox row as cancelled (it mails the receipt), with
 * one confirmation mail in all; the group's flow stops listing it. One cancelled before the group's
 * mailing gets no confirmation. A group whose rows were left to the sweep (the API died before they said
 * so) still gets one confirmation each. The end of the event ends the flows and drops the kept rows.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { mintDevToken } from '../../src/auth/tokens.js';
import { createActivities } from '../../activities/index.js';
import type { MikroORM } from '../../src/db/orm.js';
import { seatMovesTotal } from '../../src/observability/metrics.js';
import { createActivityDependencies } from '../../src/temporal/worker.js';
import { DOOR_CONFIRMATIONS_PER_FLOW, flowKinds, searchAttributes, workflowIds } from '../../src/temporal/contract.js';
import { closedPortUrl, request } from '../support/http.js';
import { adult, mailsMatching, newUser, postSignup, subjects, waitForMail, type TestUser } from '../support/signup-steps.js';
import { connectTestClient, countersAndRows, eventually, insertEvent, openTestOrm, startTestApi, startTestWorker, testConfig, type RunningApi, type RunningWorker } from '../support/stack.js';

let orm: MikroORM;
let client: Client;
let worker: RunningWorker;
let api: RunningApi;

const ENV = {
  SIGNUP_DOOR_CONFIRMATIONS: 'grouped',
  // Users may name a push endpoint; a delivery that fails is retried twice, a second apart.
  NOTIFICATION_WEBHOOK_SECRET: 'door-confirmations-webhook-secret-0123456789',
  NOTIFICATION_RETRY_ATTEMPTS: '2',
  NOTIFICATION_RETRY_INITIAL_SECONDS: '1',
};

beforeAll(async () => {
  orm = await openTestOrm();
  client = await connectTestClient();
  worker = await startTestWorker(orm, undefined, ENV);
  api = await startTestApi({ orm, temporal: client, taskQueue: worker.taskQueue }, ENV);
});

afterAll(async () => {
  await api?.close();
  await worker?.stop();
  await client?.connection.close();
  await orm?.close(true);
});

interface KeptRow {
  signup_id: string;
  door_flow_id: string | null;
  /** Never due: its flow has started. */
  flow_started: boolean;
}

const keptRows = (eventId: string) =>
  orm.em
    .fork()
    .getConnection()
    .execute<KeptRow[]>(
      `select w.signup_id, w.door_flow_id, w.next_attempt_at = 'infinity' as flow_started from signup_workflow_start w join signup s on s.id = w.signup_id where s.event_id = ?`,
      [eventId],
    );

/** The event's door-confirmations flows as visibility lists them: id, status and the signups each stands for. */
async function doorFlows(eventId: string): Promise<{ id: string; status: string; signupIds: string[] }[]> {
  const flows = [];
  for await (const execution of client.workflow.list({ query: `EventId = "${eventId}" AND FlowKind = "${flowKinds.doorConfirmations}"` })) {
    flows.push({ id: execution.workflowId, status: execution.status.name, signupIds: [...(execution.typedSearchAttributes.get(searchAttributes.signupIds) ?? [])].sort() });
  }
  return flows.sort((a, b) => a.id.localeCompare(b.id));
}

/** Signs up every user at once (one door batch, or a few), all free and confirmed at the door. */
async function burst(users: TestUser[], eventId: string): Promise<string[]> {
  const answers = await Promise.all(users.map((user) => postSignup(api, user, eventId, { attendees: [adult()] })));
  for (const answer of answers) expect({ status: answer.status, signup: answer.body.status }).toEqual({ status: 202, signup: 'confirmed' });
  return answers.map((answer) => answer.body.id as string);
}

/** Until every row of the event names its flow (the relay has started them all). */
async function allKept(eventId: string, count: number): Promise<KeptRow[]> {
  return eventually('every signup under a door-confirmations flow', async () => {
    const rows = await keptRows(eventId);
    return rows.length === count && rows.every((row) => row.door_flow_id && row.flow_started) ? rows : undefined;
  });
}

/** Until each flow's mailing activity has completed (its history says so). */
async function mailed(flowIds: string[]): Promise<void> {
  for (const flowId of new Set(flowIds)) {
    await eventually(`the confirmations of ${flowId}`, async () => {
      const history = await client.workflow.getHandle(flowId).fetchHistory();
      return history.events?.some((event) => event.activityTaskCompletedEventAttributes) ? true : undefined;
    });
  }
}

async function hasOwnWorkflow(signupId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(workflowIds.signup(signupId)).describe();
    return true;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/**
 * Each group's mailing run here, by hand, as its flow's own activity (for flows on a queue no worker
 * serves): it mails the signups whose rows still name that flow. Answers how many were sent.
 */
async function mailGroupsByHand(rows: KeptRow[]): Promise<number> {
  const dependencies = createActivityDependencies(testConfig(), orm);
  try {
    const activities = createActivities(dependencies);
    let sent = 0;
    for (const flowId of new Set(rows.map((row) => row.door_flow_id as string))) {
      const signupIds = rows.filter((row) => row.door_flow_id === flowId).map((row) => row.signup_id);
      const result: { sent: number } = await new MockActivityEnvironment({ workflowExecution: { workflowId: flowId, runId: 'by-hand' } }).run(
        (input: { signupIds: string[] }) => activities.sendDoorConfirmations(input),
        { signupIds },
      );
      sent += result.sent;
    }
    return sent;
  } finally {
    await dependencies.close();
  }
}

/** eventbook_seat_moves_total's count of the API's cancels at the door (this process's API). */
async function cancelsAtDoorCounted(): Promise<number> {
  const metric = await seatMovesTotal.get();
  return metric.values.find((value) => value.labels.move === 'cancelAtDoor' && value.labels.status === 'cancelled')?.value ?? 0;
}

describe('free signups confirmed at the door together', () => {
  it('get one flow per group that mails each once and lists them; a cancel starts its own workflow, and the event end closes the flows', async () => {
    const count = DOOR_CONFIRMATIONS_PER_FLOW + 5;
    const event = await insertEvent(orm, { capacity: count });
    const users = await Promise.all(Array.from({ length: count }, (_, i) => newUser(api, { name: `door-${i}` })));
    const signupIds = await burst(users, event.id);

    const rows = await allKept(event.id, count);
    const flowIds = [...new Set(rows.map((row) => row.door_flow_id as string))];
    await mailed(flowIds);
    // Each flow stands for at most DOOR_CONFIRMATIONS_PER_FLOW signups, and together for every one, once.
    const listed = await eventually('visibility to list every flow', async () => {
      const flows = await doorFlows(event.id);
      return flows.length === flowIds.length ? flows : undefined;
    });
    for (const flow of listed) expect(flow.signupIds.length).toBeLessThanOrEqual(DOOR_CONFIRMATIONS_PER_FLOW);
    expect(listed.flatMap((flow) => flow.signupIds).sort()).toEqual([...signupIds].sort());
    // One confirmation each, and no signup workflow of their own.
    for (const user of users) expect((await mailsMatching(user.email, subjects.confirmation)).length).toBe(1);
    expect((await Promise.all(signupIds.map(hasOwnWorkflow))).filter(Boolean)).toEqual([]);

    // A cancel: the API cancels it at the door (no update to wait for), and its workflow is started
    // from the kept row as cancelled, to mail the receipt; the group's confirmation stays the only one.
    const [leaving, leavingId] = [users[0]!, signupIds[0]!];
    const movesBefore = await cancelsAtDoorCounted();
    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${leavingId}/cancel`, { token: leaving.token, body: { reason: 'ill' } });
    expect({ status: cancelled.status, signup: cancelled.body.status }).toEqual({ status: 200, signup: 'cancelled' });
    expect(await cancelsAtDoorCounted()).toBe(movesBefore + 1);
    await waitForMail(leaving.email, subjects.cancellation);
    expect((await mailsMatching(leaving.email, subjects.confirmation)).length).toBe(1);
    expect(await hasOwnWorkflow(leavingId)).toBe(true);
    const own = client.workflow.getHandle(workflowIds.signup(leavingId));
    expect(await own.result()).toEqual({ signupId: leavingId, status: 'cancelled' });
    const ownEvents = (await own.fetchHistory()).events ?? [];
    expect(ownEvents.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes || event.activityTaskScheduledEventAttributes)).toEqual([]);
    expect((await own.describe()).typedSearchAttributes.get(searchAttributes.signupStatus)).toBe('cancelled');
    expect((await keptRows(event.id)).map((row) => row.signup_id)).not.toContain(leavingId);
    const flowOfLeaving = rows.find((row) => row.signup_id === leavingId)?.door_flow_id as string;
    await eventually('the flow to stop listing the cancelled signup', async () => {
      const flow = (await doorFlows(event.id)).find((one) => one.id === flowOfLeaving);
      return flow && !flow.signupIds.includes(leavingId) ? true : undefined;
    });
    expect(await countersAndRows(orm, event.id)).toMatchObject({ confirmed: count - 1, confirmedRows: count - 1 });

    // The event is over: the flows end, the kept rows go, and no signup workflow is started for them.
    const dependencies = createActivityDependencies(testConfig(), orm);
    try {
      const activities = createActivities(dependencies);
      await new MockActivityEnvironment().run((input: { eventId: string }) => activities.completeEvent(input), { eventId: event.id });
    } finally {
      await dependencies.close();
    }
    expect(await keptRows(event.id)).toEqual([]);
    for (const flowId of flowIds) await client.workflow.getHandle(flowId).result();
    expect((await Promise.all(signupIds.slice(1).map(hasOwnWorkflow))).filter(Boolean)).toEqual([]);
  });

  it('hands a recipient who cannot be reached to a retry of its own, and confirms the rest of the group at once', async () => {
    const event = await insertEvent(orm, { capacity: 9 });
    const users = await Promise.all(Array.from({ length: 9 }, (_, i) => newUser(api, { name: `door-hooked-${i}` })));
    // The first of the group has a push endpoint that is down: their e-mail goes, the push cannot.
    const hooked = users[0]!;
    const saved = await request(api.baseUrl, 'PUT', '/v1/me/notification-preferences', {
      token: hooked.token,
      body: { channels: { email: { enabled: true }, webhook: { url: await closedPortUrl() } }, optedOut: [], marketing: { consent: false } },
    });
    expect(saved.status).toBe(200);
    const signupIds = await burst(users, event.id);
    const flowIds = [...new Set((await allKept(event.id, users.length)).map((row) => row.door_flow_id as string))];
    await mailed(flowIds);
    // The flow's mailing took one attempt: nobody waited for the unreachable one's retries.
    for (const flowId of flowIds) {
      const history = await client.workflow.getHandle(flowId).fetchHistory();
      const started = history.events?.filter((event) => event.activityTaskStartedEventAttributes) ?? [];
      expect(started.map((event) => event.activityTaskStartedEventAttributes?.attempt)).toEqual([1]);
    }
    // The push is retried by a notification-retry workflow of its own, which gives up after its attempts.
    const retry = client.workflow.getHandle(workflowIds.notificationRetry(`confirmation:${signupIds[0]}`));
    await retry.result();
    const log = await orm.em.fork().getConnection().execute<{ channel: string; state: string }[]>(
      `select channel, state from notification_log where key = ? order by channel`,
      [`confirmation:${signupIds[0]}`],
    );
    expect(log).toEqual([{ channel: 'email', state: 'sent' }, { channel: 'webhook', state: 'failed' }]);
    // Everybody's e-mail went out once, the unreachable one's too.
    for (const user of users) expect((await mailsMatching(user.email, subjects.confirmation)).length).toBe(1);
  });

  it('still confirms each once when the rows were left to the sweep after their flow had started (the API died in between)', async () => {
    const event = await insertEvent(orm, { capacity: 5 });
    const users = await Promise.all(Array.from({ length: 5 }, (_, i) => newUser(api, { name: `swept-${i}` })));
    const signupIds = await burst(users, event.id);
    const rows = await allKept(event.id, 5);
    await mailed(rows.map((row) => row.door_flow_id as string));
    // As if the process died between the flow's start and marking its rows never due: they name the
    // flow and are due (OWN_ATTEMPT_SECONDS after their claim, here at once).
    await orm.em.fork().getConnection().execute(
      `update signup_workflow_start set next_attempt_at = now() where signup_id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
      [JSON.stringify(signupIds)],
    );
    // Other files' due rows (a graceful-shutdown test leaves its queue to the sweep) go in the same
    // sweep, oldest first: a limit above all of them, so these are taken by this one.
    await api.relay?.sweep(10_000);
    expect(await keptRows(event.id)).toEqual([]);
    for (const signupId of signupIds) expect(await hasOwnWorkflow(signupId)).toBe(true);
    // Each signup workflow has sent its confirmation step: under the group's key, found sent.
    for (const signupId of signupIds) {
      await eventually(`the confirmation step of ${signupId}`, async () => {
        const history = await client.workflow.getHandle(workflowIds.signup(signupId)).fetchHistory();
        return history.events?.some((event) => event.markerRecordedEventAttributes) ? true : undefined;
      });
    }
    for (const user of users) expect((await mailsMatching(user.email, subjects.confirmation)).length).toBe(1);
  });
});

describe('a cancel at the door with somebody on the waiting list', () => {
  it('offers the freed seat to the first in line, whose workflow is told', async () => {
    const event = await insertEvent(orm, { capacity: 1, waitlistEnabled: true });
    const [first, second] = await Promise.all([newUser(api, { name: 'door-line-first' }), newUser(api, { name: 'door-line-second' })]);
    const [firstId] = await burst([first], event.id);
    await allKept(event.id, 1);
    const queued = await postSignup(api, second, event.id, { attendees: [adult()] });
    expect({ status: queued.status, signup: queued.body.status }).toEqual({ status: 202, signup: 'waitlisted' });
    const secondId = queued.body.id as string;
    await eventually('the waitlisted signup to have its own workflow', async () => ((await hasOwnWorkflow(secondId)) ? true : undefined));

    const cancelled = await request(api.baseUrl, 'POST', `/v1/signups/${firstId}/cancel`, { token: first.token, body: {} });
    expect({ status: cancelled.status, signup: cancelled.body.status }).toEqual({ status: 200, signup: 'cancelled' });
    // The seat went to the one in line in the cancel's commit; their workflow mails the offer once told.
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 1, heldRows: 1, confirmed: 0, confirmedRows: 0 });
    await waitForMail(second.email, subjects.waitlistOffer);
    await waitForMail(first.email, subjects.cancellation);
    expect(await client.workflow.getHandle(workflowIds.signup(firstId!)).result()).toEqual({ signupId: firstId, status: 'cancelled' });
  });
});

describe('a signup cancelled at the door before its group is mailed', () => {
  it('gets its cancellation receipt and no confirmation', async () => {
    // Signups through an API whose task queue no worker serves: the group's flow starts (and its
    // rows say so) but does not mail, so the cancel comes first; its mailing is then run by hand.
    const idleQueue = `door-unserved-${Date.now()}`;
    const unserved = await startTestApi({ orm, temporal: client, taskQueue: idleQueue }, ENV);
    try {
      const event = await insertEvent(orm, { capacity: 3 });
      const users = await Promise.all(Array.from({ length: 3 }, (_, i) => newUser(unserved, { name: `door-early-${i}` })));
      const answers = await Promise.all(users.map((user) => postSignup(unserved, user, event.id, { attendees: [adult()] })));
      const signupIds = answers.map((answer) => answer.body.id as string);
      const rows = await allKept(event.id, 3);
      const cancelled = await request(unserved.baseUrl, 'POST', `/v1/signups/${signupIds[0]}/cancel`, { token: users[0]!.token, body: {} });
      expect({ status: cancelled.status, signup: cancelled.body.status }).toEqual({ status: 200, signup: 'cancelled' });
      expect(await countersAndRows(orm, event.id)).toMatchObject({ confirmed: 2, confirmedRows: 2 });

      await mailGroupsByHand(rows);
      for (const user of users.slice(1)) expect((await mailsMatching(user.email, subjects.confirmation)).length).toBe(1);
      expect(await mailsMatching(users[0]!.email, subjects.confirmation)).toEqual([]);

      // Its own workflow, started as cancelled on the unserved queue, mails the receipt once a worker serves it.
      const late = await startTestWorker(orm, idleQueue, ENV);
      try {
        await client.workflow.getHandle(workflowIds.signup(signupIds[0]!)).result();
        await waitForMail(users[0]!.email, subjects.cancellation);
        for (const flowId of new Set(rows.map((row) => row.door_flow_id as string))) await client.workflow.getHandle(flowId).terminate('test over');
      } finally {
        await late.stop();
      }
      expect(await mailsMatching(users[0]!.email, subjects.confirmation)).toEqual([]);
    } finally {
      await unserved.close();
    }
  });
});

describe('a door group whose users left no way to reach them', () => {
  it('reads the group once and mails only those with a contact, reading nobody else one by one', async () => {
    // Through an API whose task queue no worker serves, so the flow's mailing is run here, by hand.
    const idleQueue = `door-unaddressed-${Date.now()}`;
    const unserved = await startTestApi({ orm, temporal: client, taskQueue: idleQueue }, ENV);
    try {
      const event = await insertEvent(orm, { capacity: 4 });
      // Apps that send their own messages: tokens with no e-mail, guardian or locale claim.
      const silent = await Promise.all(
        Array.from({ length: 3 }, async (_, i) => {
          const sub = `door-silent-${i}-${Date.now()}`;
          return { sub, email: `${sub}@nowhere.invalid`, token: await mintDevToken(unserved.config.jwt, { sub, roles: ['participant'], markets: [] }) };
        }),
      );
      const addressed = await newUser(unserved, { name: 'door-addressed' });
      const answers = await Promise.all([...silent, addressed].map((user) => postSignup(unserved, user, event.id, { attendees: [adult()] })));
      expect(answers.map((answer) => answer.body.status)).toEqual(['confirmed', 'confirmed', 'confirmed', 'confirmed']);
      const rows = await allKept(event.id, 4);

      const statements = jest.spyOn(pg.Client.prototype, 'query');
      const contactReads = () =>
        statements.mock.calls.filter(([query]) => String(typeof query === 'string' ? query : (query as { text?: string }).text).includes('from "user_contact"')).length;
      let sent;
      try {
        sent = await mailGroupsByHand(rows);
        // One contact looked up, the addressed user's (three more before: one per silent signup).
        expect(contactReads()).toBe(1);
      } finally {
        statements.mockRestore();
      }
      expect(sent).toBe(1);
      expect((await mailsMatching(addressed.email, subjects.confirmation)).length).toBe(1);
      const logged = await orm.em.fork().getConnection().execute<{ n: number }[]>(
        `select count(*)::int as n from notification_log where signup_id in (select jsonb_array_elements_text(?::jsonb)::uuid)`,
        [JSON.stringify(answers.map((answer) => answer.body.id))],
      );
      expect(logged[0]?.n).toBe(1);
      for (const flowId of new Set(rows.map((row) => row.door_flow_id as string))) await client.workflow.getHandle(flowId).terminate('test over');
    } finally {
      await unserved.close();
    }
  });
});
