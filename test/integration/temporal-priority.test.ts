/**
 * The Temporal server the stack starts (scripts/lib/temporal-server.ts) honours task priority:
 * a cancel's new signup workflow starts at priority 1 and door-confirmations flows at 4 so that,
 * under a burst, what somebody waits on goes first. Server 1.29 ignores priorities unless its
 * priority-enabled matcher is on (`matching.useNewMatcher`); it was off, and a priority-1 task
 * queued behind 40 others came 37th to 40th.
 *
 * No worker: the test polls the queue itself, as a worker would, and looks where the task comes.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { connectTestClient, eventually } from '../support/stack.js';

let client: Client;

beforeAll(async () => {
  client = await connectTestClient();
});

afterAll(async () => {
  await client?.connection.close();
});

const BACKLOG = 100;

describe('the stack Temporal server', () => {
  it('hands out a priority-1 workflow task ahead of a backlog at the default priority', async () => {
    const taskQueue = `priority-${randomUUID()}`;
    const ids = [];
    for (let i = 0; i < BACKLOG; i++) {
      const handle = await client.workflow.start('notRegisteredAnywhere', { taskQueue, workflowId: `backlog-${taskQueue}-${i}` });
      ids.push(handle.workflowId);
    }
    const urgent = await client.workflow.start('notRegisteredAnywhere', { taskQueue, workflowId: `urgent-${taskQueue}`, priority: { priorityKey: 1 } });
    ids.push(urgent.workflowId);

    const order: string[] = [];
    try {
      // Every task in the queue's backlog first: a task that reaches matching while a poll waits is
      // handed over at once, whatever its priority; the backlog is where the order is decided.
      await eventually('the backlog to hold every task', async () => {
        const described = await client.connection.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
          reportStats: true,
        });
        return Number(described.stats?.approximateBacklogCount ?? 0) >= ids.length ? true : undefined;
      });
      while (order.length <= BACKLOG && !order.includes(urgent.workflowId)) {
        const task = await client.connection.withDeadline(Date.now() + 20_000, () =>
          client.connection.workflowService.pollWorkflowTaskQueue({ namespace: client.options.namespace, taskQueue: { name: taskQueue }, identity: 'priority-test' }),
        );
        // An empty answer (the long poll ran out) means the queue has nothing left for us.
        if (!task.workflowExecution?.workflowId) break;
        order.push(task.workflowExecution.workflowId);
      }
    } finally {
      await Promise.all(ids.map((id) => client.workflow.getHandle(id).terminate('test over')));
    }
    // The queue has several partitions, each in priority order, so the urgent task comes once its
    // partition is polled: among the first, where first in, first out hands it out near the end.
    expect({ position: order.indexOf(urgent.workflowId) + 1, ahead: order.indexOf(urgent.workflowId) < BACKLOG / 3 }).toMatchObject({ ahead: true });
  });
});
