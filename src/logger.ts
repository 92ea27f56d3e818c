import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name: string, format: 'json' | 'pretty' = 'json'): Logger {
  const options = {
    name,
    level,
    // Tokens and cookies never reach the logs.
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    ...(format === 'pretty'
      ? {
          transport: {
            target: 'pino-pretty',
            options: {
              translateTime: 'HH:MM:ss.l',
              // One line per request: method, path, status and time instead of the full objects.
              ignore: 'pid,hostname,req,res,responseTime',
              messageFormat: '{msg}{if req.method} {req.method} {req.url} -> {res.statusCode} ({responseTime} ms){end}',
            },
          },
        }
      : {}),
  };
  if (format === 'pretty') return pino(options);
  // Written asynchronously: lines logged while a write is under way go out together in the next
  // one, instead of a write per line (a measurable share of the API's CPU under a signup burst,
  // bench/signup-burst.ts). pino flushes what is left when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
