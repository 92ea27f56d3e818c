import { Client, Connection } from '@temporalio/client';
const address = process.argv[2]!;
const connection = await Connection.connect({ address });
const client = new Client({ connection, namespace: 'default' });
const positions: number[] = [];
for (let round = 0; round < 4; round++) {
  const queue = `pri-${Date.now()}-${round}`;
  for (let i = 0; i < 40; i++) await client.workflow.start('anything', { taskQueue: queue, workflowId: `low-${queue}-${i}`, priority: { priorityKey: 5 } });
  await client.workflow.start('anything', { taskQueue: queue, workflowId: `high-${queue}`, priority: { priorityKey: 1 } });
  await new Promise((r) => setTimeout(r, 1000));
  for (let i = 0; i < 41; i++) {
    const task = await connection.withDeadline(Date.now() + 30_000, () =>
      connection.workflowService.pollWorkflowTaskQueue({ namespace: 'default', taskQueue: { name: queue }, identity: 'check' }),
    );
    if (task.workflowExecution?.workflowId?.startsWith('high')) { positions.push(i + 1); break; }
  }
}
console.log('position of the priority-1 task among 41 polls:', positions.join(' '));
await connection.close();
