/**
 * A worker in a process of its own, built like src/worker-main.ts but from the test stack's prebuilt
 * workflow bundle, so a test can SIGKILL it (a crash, not a graceful shutdown: no grace period, no
 * last heartbeat, activities simply vanish) and start another. Reads the test stack's environment
 * (DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, SMTP_*, STRIPE_API_BASE and
 * EVENTBOOK_TEST_WORKFLOW_BUNDLE); prints `ready` once it polls. Started by `spawnWorker` in
 * test/support/worker-child.ts.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../../src/config.js';
import { openOrm } from '../../src/db/orm.js';
import { createLogger } from '../../src/logger.js';
import { installTemporalRuntime } from '../../src/temporal/runtime.js';
import { createActivityDependencies, createWorker } from '../../src/temporal/worker.js';
import { requireEnv, testEnvKeys } from './environment.js';

const config = loadConfig(process.env);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', 'worker-child');
installTemporalRuntime(logger, 'WARN');
const orm = await openOrm({ url: config.database.url, poolMax: config.database.poolMax });
const connection = await NativeConnection.connect({ address: config.temporal.address });
const activities = createActivityDependencies(config, orm);
const worker = await createWorker({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: config.temporal.taskQueue,
  activities,
  workflowBundle: { codePath: requireEnv(testEnvKeys.workflowBundle) },
});
const running = worker.run();
process.stdout.write('ready\n');
await running;
await connection.close();
await activities.close();
await orm.close();
