import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import type { MikroORM } from '../../src/db/orm.js';
import { Signup } from '../../src/signups/signup.entity.js';
import {
  cancelSignupUpdate,
  confirmSignupUpdate,
  eventFinishedSignal,
  searchAttributes,
  signupStatusQuery,
} from '../../src/temporal/contract.js';
import { startSignupWorkflow } from '../support/signup-flows.js';
import {
  connectTestClient,
  countersAndRows,
  eventually,
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
  it('confirms a free signup as soon as its seats are held, and stays open until the event is over', async () => {
    const event = await insertEvent(orm, { capacity: 2 });
    const { signupId, handle } = await startSignup(event.id, 30);
    await eventually('the confirmation', async () => ((await signupRow(signupId)).status === 'confirmed' ? true : undefined));
    expect((await signupRow(signupId)).confirmedAt).toBeInstanceOf(Date);
    expect(await handle.query(signupStatusQuery)).toBe('confirmed');
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 1, confirmedRows: 1 });

    await handle.signal(eventFinishedSignal);
    expect(await handle.result()).toEqual({ signupId, status: 'confirmed' });
  });

  it('rejects when the event is full and has no waiting list; a confirm update is refused', async () => {
    const event = await insertEvent(orm, { capacity: 0 });
    const { signupId, handle } = await startSignup(event.id, 30);
    expect(await handle.result()).toEqual({ signupId, status: 'rejected' });
    expect((await signupRow(signupId)).rejectionReason).toBe('sold_out');
    await expect(handle.executeUpdate(confirmSignupUpdate)).rejects.toThrow();
  });

  it('cancels through the cancel update and gives the seat back', async () => {
    const event = await insertEvent(orm, { capacity: 1 });
    const { signupId, handle } = await startSignup(event.id, 30);
    await eventually('the confirmation', async () => ((await signupRow(signupId)).status === 'confirmed' ? true : undefined));
    expect(await handle.executeUpdate(cancelSignupUpdate, { args: [{ by: 'participant', reason: 'ill' }] })).toBe('cancelled');
    expect(await handle.result()).toEqual({ signupId, status: 'cancelled' });
    expect(await signupRow(signupId)).toMatchObject({ cancelledBy: 'participant', cancellationReason: 'ill' });
    expect(await countersAndRows(orm, event.id)).toMatchObject({ held: 0, confirmed: 0, confirmedRows: 0 });
  });

  it('is findable by its EventId search attribute, with the status kept current', async () => {
    const event = await insertEvent(orm, { capacity: 1 });
    const { signupId, handle } = await startSignup(event.id, 30);
    await eventually('the confirmation', async () => ((await signupRow(signupId)).status === 'confirmed' ? true : undefined));
    // The row moves in the activity; the workflow upserts the attribute when the activity has answered.
    const description = await eventually('the status attribute', async () => {
      const described = await handle.describe();
      return described.typedSearchAttributes.get(searchAttributes.signupStatus) === 'confirmed' ? described : undefined;
    });
    expect(description.typedSearchAttributes.get(searchAttributes.eventId)).toBe(event.id);
    await handle.signal(eventFinishedSignal);
    await handle.result();
  });
});
