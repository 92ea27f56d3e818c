import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import { confirmSignupUpdate, searchAttributes } from '../../src/temporal/contract.js';
import { startSignupWorkflow } from '../support/signup-flows.js';
import {
  connectTestClient,
  countersAndRows,
  insertEvent,
  openTestOrm,
  startTestWorker,
  type RunningWorker,
} from '../support/stack.js';

let orm: MikroORM;
let client: Client;
let worker: RunningWorker;

beforeAll(async () => {
  orm = await openTestOrm();
  client = await connectTestClient();
  worker = await startTestWorker(orm);
});

afterAll(async () => {
  await worker.stop();
  await client.connection.close();
  await orm.close(true);
});

const startSignup = (eventId: string, holdTimeoutSeconds: number) =>
  startSignupWorkflow({ orm, client, taskQueue: worker.taskQueue }, eventId, holdTimeoutSeconds);

async function signupRow(signupId: string): Promise<Signup> {
  return orm.em.fork().findOneOrFail(Signup, signupId);
}

describe('signup workflow on a real Temporal server and worker', () => {
  it('releases a hold that is not confirmed within its timeout, and the seat is free again', async () => {
    const event = await insertEvent(orm, { capacity: 1 });
    const { signupId, handle } = await startSignup(event.id, 2);

    const heldAt = Date.now();
    const result = await handle.result();
    const waitedMs = Date.now() - heldAt;

    expect(result).toEqual({ signupId, status: 'released' });
    expect(waitedMs).toBeGreaterThanOrEqual(1500);
    expect((await signupRow(signupId)).status).toBe('released');
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 0, heldRows: 0 });

    // The freed seat can be taken by the next signup.
    const next = await startSignup(event.id, 30);
    await next.handle.executeUpdate(confirmSignupUpdate);
    expect((await next.handle.result()).status).toBe('confirmed');
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 1, confirmedRows: 1 });
  });

  it('confirms held seats when the confirm update arrives in time', async () => {
    const event = await insertEvent(orm, { capacity: 3 });
    const { signupId, handle } = await startSignup(event.id, 60);

    expect(await handle.executeUpdate(confirmSignupUpdate)).toBe('confirmed');
    expect(await handle.result()).toEqual({ signupId, status: 'confirmed' });
    expect((await signupRow(signupId)).confirmedAt).toBeInstanceOf(Date);
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 1, confirmedRows: 1 });
  });

  it('rejects when the event is full, and the confirm update is refused', async () => {
    const event = await insertEvent(orm, { capacity: 0 });
    const { handle } = await startSignup(event.id, 60);
    expect((await handle.result()).status).toBe('rejected');
    await expect(handle.executeUpdate(confirmSignupUpdate)).rejects.toThrow();
  });

  it('is findable by its EventId search attribute, with the status kept current', async () => {
    const event = await insertEvent(orm, { capacity: 2 });
    const { handle } = await startSignup(event.id, 60);
    await handle.executeUpdate(confirmSignupUpdate);
    await handle.result();

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(searchAttributes.signupStatus)).toBe('confirmed');
    const deadline = Date.now() + 15_000;
    let found: string[] = [];
    while (found.length === 0 && Date.now() < deadline) {
      found = [];
      for await (const execution of client.workflow.list({ query: `EventId = "${event.id}"` })) {
        found.push(execution.workflowId);
      }
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(found).toEqual([handle.workflowId]);
  });
});
