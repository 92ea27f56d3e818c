/**
 * The API in a process of its own, built like src/api-main.ts (the real app and its outbox relay),
 * so a test can SIGKILL it in the middle of a burst (no graceful shutdown: requests and door batches
 * in flight simply vanish) and start another. Reads the test stack's environment (DATABASE_URL,
 * TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE, ...); listens on an ephemeral port and prints
 * `ready <port>`. Started by `spawnApi` in test/support/api-child.ts.
 *
 * It does not sweep the outbox: the test files share one database but each has its own task queue,
 * so a sweep here would take other files' due rows and start their workflows on this child's queue,
 * which may have no worker (a door-confirmations test saw its rows taken from under its own sweep
 * that way).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { createTokenVerifier } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { openOrm } from '../../src/db/orm.js';
import { createApp } from '../../src/http/app.js';
import { createApiServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';

const config = loadConfig(process.env);
const orm = await openOrm(config.database);
const connection = await Connection.connect({ address: config.temporal.address });
const temporal = new Client({ connection, namespace: config.temporal.namespace });
const app = createApp({
  orm,
  temporal,
  verifyToken: await createTokenVerifier(config.jwt),
  logger: createLogger(config.logLevel, 'api-child'),
  taskQueue: config.temporal.taskQueue,
  config,
  databaseUrl: config.database.url,
});
const server = createApiServer(app).listen(0, '127.0.0.1');
await once(server, 'listening');
process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
