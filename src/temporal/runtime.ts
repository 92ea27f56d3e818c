import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from '../logger.js';

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/**
 * Routes the Temporal SDK's own logs (worker state, core) into our pino logger, at `minimum` and
 * above. The SDK allows this once per process, before the first worker or native connection.
 * With `metricsAddress` (host:port, WORKER_METRICS_ADDRESS) the SDK's worker metrics (task slots,
 * poll and schedule-to-start latencies, activity and workflow task outcomes) are served for
 * Prometheus at http://<metricsAddress>/metrics, prefixed `temporal_`.
 */
export function installTemporalRuntime(logger: Logger, minimum: LogLevel = 'INFO', metricsAddress?: string): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    ...(metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } } : {}),
    logger: new DefaultLogger(minimum, (entry) => {
      const { sdkComponent, ...meta } = entry.meta ?? {};
      logger[levels[entry.level]]({ sdkComponent, ...meta }, entry.message);
    }),
  });
}
