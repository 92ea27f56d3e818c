import { Router } from 'express';
import type { RouteContext } from '../http/context.js';

const READINESS_TIMEOUT_MS = 2000;

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'unreachable'> {
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
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const [database, temporalServer] = await Promise.all([
      probe(() => orm.em.getConnection().execute('select 1')),
      probe(() => temporal.workflowService.getSystemInfo({})),
    ]);
    const ready = database === 'ok' && temporalServer === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: { database, temporal: temporalServer } });
  });

  return router;
}
