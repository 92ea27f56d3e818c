import { once } from 'node:events';
import { createTokenVerifier } from './auth/tokens.js';
import { openOrm } from './db/orm.js';
import { createApp, rateLimitsOf, statusFeedOf, workflowStarterOf } from './http/app.js';
import { createApiServer } from './http/server.js';
import { createLogger } from './logger.js';
import { configOrExit, onShutdownSignal } from './main-support.js';
import { connectTemporalClient } from './temporal/client.js';
import { createWebhookRelay } from './webhooks/relay.js';
import { collectProcessMetrics } from './observability/metrics.js';
import { startTracing } from './observability/tracing.js';

const config = configOrExit();
const logger = createLogger(config.logLevel, 'api', config.logFormat);
// Off (and free) unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
const tracing = startTracing({ serviceName: 'eventbook-api', endpoint: config.observability.otlpEndpoint });
collectProcessMetrics();
const orm = await openOrm({ ...config.database, queryTimeoutMs: config.database.apiQueryTimeoutMs });
const temporal = await connectTemporalClient(config.temporal, tracing);
const app = createApp({
  orm,
  temporal,
  verifyToken: await createTokenVerifier(config.jwt),
  logger,
  taskQueue: config.temporal.taskQueue,
  config,
  databaseUrl: config.database.url,
  tracing,
  sweepWorkflowStartsEverySeconds: 5,
});

// Outbound webhooks: fans integration events out to endpoints and starts their delivery workflows.
const webhookRelay = createWebhookRelay({ orm, temporal, taskQueue: config.temporal.taskQueue, logger });
webhookRelay.start();

const server = createApiServer(app).listen(config.port);
await once(server, 'listening');
logger.info({ port: config.port }, `API listening on http://127.0.0.1:${config.port}`);

onShutdownSignal(async (signal) => {
  logger.info({ signal }, 'stopping: no new requests, finishing the ones in flight');
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Ends the open event streams (clients reconnect elsewhere); server.close() waits for them.
  await statusFeedOf(app)?.close();
  await closed;
  // Starts still queued stay in the outbox: another API process (or this one, restarted) sweeps them.
  await workflowStarterOf(app)?.stop();
  await webhookRelay.stop();
  await rateLimitsOf(app)?.close();
  await orm.close();
  await temporal.connection.close();
  await tracing?.shutdown();
  logger.info('stopped');
});
