import { NativeConnection } from '@temporalio/worker';
import { openOrm } from './db/orm.js';
import { createLogger } from './logger.js';
import { configOrExit } from './main-support.js';
import { installTemporalRuntime } from './temporal/runtime.js';
import { createActivityDependencies, createWorker } from './temporal/worker.js';

const config = configOrExit();
const logger = createLogger(config.logLevel, 'worker', config.logFormat);
installTemporalRuntime(logger);
const orm = await openOrm(config.database);
const connection = await NativeConnection.connect({ address: config.temporal.address });
const activities = createActivityDependencies(config, orm);
const worker = await createWorker({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: config.temporal.taskQueue,
  activities,
});

logger.info({ taskQueue: config.temporal.taskQueue, address: config.temporal.address }, 'worker polling');
// The SDK's runtime turns SIGINT/SIGTERM into a graceful shutdown: polling stops, running
// activities get the shutdown grace time, and run() resolves.
await worker.run();
await connection.close();
await activities.close();
await orm.close();
logger.info('worker stopped');
