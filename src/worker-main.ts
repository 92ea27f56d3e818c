import { NativeConnection } from '@temporalio/worker';
import { openOrm } from './db/orm.js';
import { createLogger } from './logger.js';
import { configOrExit } from './main-support.js';
import { collectProcessMetrics, startMetricsServer } from './observability/metrics.js';
import { startTracing } from './observability/tracing.js';
import { installTemporalRuntime } from './temporal/runtime.js';
import { createActivityDependencies, createWorker } from './temporal/worker.js';

const config = configOrExit();
const logger = createLogger(config.logLevel, 'worker', config.logFormat);
// The SDK's worker metrics (temporal_*) on WORKER_METRICS_ADDRESS; ours (eventbook_*) on WORKER_APP_METRICS_PORT.
installTemporalRuntime(logger, 'INFO', config.observability.workerMetricsAddress);
collectProcessMetrics();
const metricsServer =
  config.observability.workerAppMetricsPort > 0
    ? await startMetricsServer(config.observability.workerAppMetricsPort, config.observability.workerAppMetricsHost, config.observability.metricsAccess)
    : undefined;
// Off (and free) unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
const tracing = startTracing({ serviceName: 'eventbook-worker', endpoint: config.observability.otlpEndpoint });
const orm = await openOrm(config.database);
const connection = await NativeConnection.connect({ address: config.temporal.address });
const activities = createActivityDependencies(config, orm);
const worker = await createWorker({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: config.temporal.taskQueue,
  activities,
  tracing,
  maxCachedWorkflows: config.temporal.workerMaxCachedWorkflows,
});

logger.info(
  {
    taskQueue: config.temporal.taskQueue,
    address: config.temporal.address,
    sdkMetrics: config.observability.workerMetricsAddress ?? 'off',
    appMetricsPort: config.observability.workerAppMetricsPort || 'off',
    tracing: tracing ? 'on' : 'off',
  },
  'worker polling',
);
// The SDK's runtime turns SIGINT/SIGTERM into a graceful shutdown: polling stops, running
// activities get the shutdown grace time, and run() resolves.
await worker.run();
await connection.close();
await activities.close();
await orm.close();
metricsServer?.close();
await tracing?.shutdown();
logger.info('worker stopped');
