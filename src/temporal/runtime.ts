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
 */
export function installTemporalRuntime(logger: Logger, minimum: LogLevel = 'INFO'): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(minimum, (entry) => {
      const { sdkComponent, ...meta } = entry.meta ?? {};
      logger[levels[entry.level]]({ sdkComponent, ...meta }, entry.message);
    }),
  });
}
