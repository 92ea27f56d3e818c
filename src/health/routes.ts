import { Router } from 'express';
import { z } from 'zod';
import type { RouteContext } from '../http/context.js';

/** Response shapes, for the API document (src/http/api-operations.ts); the handlers are typed by them. */
export const healthSchema = z.strictObject({ status: z.literal('ok') }).meta({ id: 'Health' });

const checkResult = z.enum(['ok', 'unreachable']);
export const readinessSchema = z
  .strictObject({
    status: z.enum(['ready', 'not-ready']),
    checks: z.strictObject({ database: checkResult, temporal: checkResult }),
  })
  .meta({ id: 'Readiness', description: 'Whether the database and Temporal answer' });

/** Under 2 s: a load balancer's probe gets its answer (503 while a peer is down) in time. */
const READINESS_TIMEOUT_MS = 1500;

async function probe(check: () => Promise<unknown>): Promise<z.infer<typeof checkResult>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), READINESS_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch {
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz: the process runs. /readyz: it can do its work (database and Temporal answer). */
export function healthRoutes({ orm, temporal }: RouteContext): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    const body: z.infer<typeof healthSchema> = { status: 'ok' };
    res.json(body);
  });

  router.get('/readyz', async (_req, res) => {
    const [database, temporalServer] = await Promise.all([
      probe(() => orm.em.getConnection().execute('select 1')),
      probe(() => temporal.workflowService.getSystemInfo({})),
    ]);
    const ready = database === 'ok' && temporalServer === 'ok';
    const body: z.infer<typeof readinessSchema> = {
      status: ready ? 'ready' : 'not-ready',
      checks: { database, temporal: temporalServer },
    };
    res.status(ready ? 200 : 503).json(body);
  });

  return router;
}
