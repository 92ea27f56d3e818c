import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { TokenVerifier } from '../auth/tokens.js';
import { eventAdminRoutes } from '../events/admin-routes.js';
import { createEventAdminService } from '../events/admin-service.js';
import { createPublicCatalog } from '../events/public-catalog.js';
import { publicEventRoutes } from '../events/public-routes.js';
import { healthRoutes } from '../health/routes.js';
import type { Logger } from '../logger.js';
import { signupRoutes } from '../signups/routes.js';
import { createSignupService } from '../signups/service.js';
import { apiDocsRoutes } from './api-docs.js';
import { authenticate } from './auth.js';
import type { RouteContext } from './context.js';
import { describeProblem, notFoundHandler, problemErrorHandler, requireJsonBody } from './errors.js';

export interface AppDependencies {
  orm: MikroORM;
  temporal: Client;
  verifyToken: TokenVerifier;
  logger: Logger;
  taskQueue: string;
  holdSeconds: number;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback, linklocal, uniquelocal');

  app.use(
    pinoHttp({
      logger: deps.logger,
      // Reuse the caller's request id when it is sane, so one id follows a request across services.
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    }),
  );
  app.use(requireJsonBody);
  app.use(express.json({ limit: '100kb', type: ['application/json', 'application/*+json'] }));

  const context: RouteContext = {
    authenticate: authenticate(deps.verifyToken),
    orm: deps.orm,
    temporal: deps.temporal,
    events: createEventAdminService({ orm: deps.orm }),
    catalog: createPublicCatalog({ orm: deps.orm }),
    signups: createSignupService({
      orm: deps.orm,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      holdSeconds: deps.holdSeconds,
    }),
  };

  app.use(healthRoutes(context));
  app.use(eventAdminRoutes(context));
  app.use(publicEventRoutes(context));
  app.use(signupRoutes(context));
  app.get('/problems/:slug', describeProblem);
  app.use(apiDocsRoutes()); // GET /openapi.json and /docs

  app.use(notFoundHandler);
  app.use(problemErrorHandler(deps.logger));
  return app;
}
