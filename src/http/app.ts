import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { TokenVerifier } from '../auth/tokens.js';
import { eventAdminRoutes } from '../events/admin-routes.js';
import { createEventAdminService } from '../events/admin-service.js';
import { createLifecycleOutbox } from '../events/lifecycle-client.js';
import { createPublicCatalog } from '../events/public-catalog.js';
import { publicEventRoutes } from '../events/public-routes.js';
import { healthRoutes } from '../health/routes.js';
import { interestRoutes } from '../interests/routes.js';
import { opsRoutes } from '../ops/routes.js';
import { privacyRoutes } from '../privacy/routes.js';
import { notificationPreferenceRoutes } from '../contacts/preferences-routes.js';
import { createNotificationPreferencesService } from '../contacts/preferences-service.js';
import { createPrivacyService } from '../privacy/service.js';
import { createOpsService } from '../ops/service.js';
import { createInterestService } from '../interests/service.js';
import { webhookRoutes } from '../webhooks/routes.js';
import { createWebhookService } from '../webhooks/service.js';
import type { Logger } from '../logger.js';
import { signupFeedRoutes } from '../signups/feed-routes.js';
import { signupRoutes } from '../signups/routes.js';
import { createSignupCommands } from '../signups/commands.js';
import { consentPageRoutes } from '../consents/page-routes.js';
import { consentRoutes } from '../consents/routes.js';
import { createConsentService } from '../consents/service.js';
import { createPaymentGateway, createStripeClient } from '../payments/stripe-gateway.js';
import { createStripeWebhookHandler } from '../payments/webhook.js';
import { stripeWebhookRoutes } from '../payments/webhook-routes.js';
import type { Config } from '../config.js';
import { withRequestDeadline } from '../temporal/client.js';
import { waitlistOfferSignal } from '../temporal/contract.js';
import { createSignupStatusFeed, type SignupStatusFeed } from '../signups/status-feed.js';
import { createSignupService } from '../signups/service.js';
import { createSignupWorkflowStarter, type SignupWorkflowStarter } from '../signups/workflow-starts.js';
import { apiDocsRoutes } from './api-docs.js';
import { apiOperations } from './api-operations.js';
import { createRateLimits, type RateLimits } from '../limits/rate-limits.js';
import { corsFor, securityHeaders } from './browser-security.js';
import { methodNotAllowed } from './methods.js';
import { refuseUnsafeBodyText, refuseUnsafeRequestText } from './validate.js';
import { authenticate } from './auth.js';
import type { RouteContext } from './context.js';
import { describeProblem, notFoundHandler, problemErrorHandler, requireJsonBody } from './errors.js';
import { countSignupsWith, observeHttpRequests, serveMetrics } from '../observability/metrics.js';
import { rememberRouteIds, routeIdsOf } from '../observability/route-ids.js';
import { traceHttpRequests, type Tracing } from '../observability/tracing.js';

export interface AppDependencies {
  orm: MikroORM;
  temporal: Client;
  verifyToken: TokenVerifier;
  logger: Logger;
  taskQueue: string;
  /**
   * Signup timings, the consent link secret and the Stripe settings come from here; `env` and
   * `notificationWebhookSecret` say which webhook URLs people may save.
   */
  config: Pick<Config, 'env' | 'signup' | 'stripe' | 'lifecycle' | 'http' | 'smtp' | 'rateLimits' | 'notificationWebhookSecret'> & {
    database?: Pick<Config['database'], 'poolMax'>;
    observability: Pick<Config['observability'], 'metricsAccess'>;
  };
  /** Where the signup status feed LISTENs (GET /v1/signups/{id}/events); without it that endpoint answers 503. */
  databaseUrl?: string;
  /** OpenTelemetry (src/observability/tracing.ts): a server span per request; absent: no tracing. */
  tracing?: Tracing;
  /**
   * Every how many seconds this process retries workflow starts (signups) and lifecycle commands
   * left in their outbox (by a dying process, or refused by Temporal); absent: no sweeping (tests sweep by hand).
   */
  sweepWorkflowStartsEverySeconds?: number;
}

const statusFeeds = new WeakMap<Express, SignupStatusFeed>();
const rateLimiters = new WeakMap<Express, RateLimits>();

/** The rate limits createApp made (with databaseUrl): close them on shutdown, after server.close(). */
export function rateLimitsOf(app: Express): RateLimits | undefined {
  return rateLimiters.get(app);
}
const workflowStarters = new WeakMap<Express, SignupWorkflowStarter>();

/** The status feed createApp made: close it on shutdown, after server.close() and before the ORM. */
export function statusFeedOf(app: Express): SignupStatusFeed | undefined {
  return statusFeeds.get(app);
}

/** The outbox relay (signup starts, lifecycle commands) createApp made: stop it on shutdown, after server.close() and before the ORM. */
export function workflowStarterOf(app: Express): SignupWorkflowStarter | undefined {
  return workflowStarters.get(app);
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function createApp(deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // Only the proxies TRUST_PROXY names may tell us the client's address (X-Forwarded-For): the rate
  // limits count per address, and a header anyone can send must not pick the budget.
  app.set('trust proxy', deps.config.http.trustProxy);

  // Seeing inside (docs/architecture.md): a span and a duration per request, ids for the log line.
  if (deps.tracing) app.use(traceHttpRequests(deps.tracing));
  app.use(observeHttpRequests());
  rememberRouteIds(app);
  countSignupsWith(async () =>
    (
      await deps.orm.em.getConnection().execute<{ status: string; count: number }[]>(
        'select status, count(*)::int as count from signup group by status',
      )
    ).map((row) => ({ status: row.status, count: Number(row.count) })),
  );

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
      // The signup and event the request is about, when its route names them.
      // No ids: undefined, so pino-http makes no child logger per request for nothing (its code
      // skips a falsy result; its type asks for an object).
      customProps: (req) => routeIdsOf(req) as object,
      // Prometheus scrapes every few seconds: not worth a log line each.
      autoLogging: { ignore: (req) => req.url === '/metrics' },
      // What a request line needs; not every header of every request (serializing and redacting
      // them cost the cached catalog reads a measurable share of their time, bench/read.ts). Raw
      // objects in (wrapSerializers: false): pino-http's wrapping would first copy every header
      // (and parse the query) for fields these serializers then drop. Errors keep pino's own.
      wrapSerializers: false,
      serializers: {
        req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.originalUrl ?? req.url,
          remoteAddress: req.socket?.remoteAddress,
        }),
        // No status before the answer started (a client that went away), as pino's own serializer.
        res: (res: ServerResponse) => ({ statusCode: res.headersSent ? res.statusCode : null }),
      },
    }),
  );
  // Browser-facing headers on every answer, errors included (src/http/browser-security.ts).
  app.use(securityHeaders());
  app.use(corsFor(deps.config.http.corsOrigins));
  // Writes counted in PostgreSQL (shared by every replica), public reads per process
  // (src/limits/rate-limits.ts); without a database URL (some tests) no limits.
  const limits = deps.databaseUrl
    ? createRateLimits({ databaseUrl: deps.databaseUrl, poolMax: deps.config.database?.poolMax, settings: deps.config.rateLimits, operations: apiOperations, logger: deps.logger })
    : undefined;
  if (limits) {
    rateLimiters.set(app, limits);
    app.use(limits.byAddress);
  }
  // One relay for every workflow outbox: signup starts, and what event lifecycles are told.
  const lifecycleOutbox = createLifecycleOutbox({ orm: deps.orm, temporal: deps.temporal });
  const starter = createSignupWorkflowStarter({ orm: deps.orm, temporal: deps.temporal, logger: deps.logger, outboxes: [lifecycleOutbox] });
  workflowStarters.set(app, starter);
  if (deps.sweepWorkflowStartsEverySeconds) starter.sweepEvery(deps.sweepWorkflowStartsEverySeconds);
  const signups = createSignupService({
    orm: deps.orm,
    starter,
    taskQueue: deps.taskQueue,
    settings: deps.config.signup,
  });
  const context: RouteContext = {
    authenticate: authenticate(deps.verifyToken, limits),
    orm: deps.orm,
    temporal: deps.temporal,
    events: createEventAdminService({
      orm: deps.orm,
      lifecycle: {
        settings: { taskQueue: deps.taskQueue, lifecycle: deps.config.lifecycle },
        deliverSoon: (eventId) => starter.deliverSoon(lifecycleOutbox, eventId),
      },
      waitlist: {
        offerSeconds: deps.config.signup.offerSeconds,
        tellOffered: async (offers) => {
          // The offers are committed: a signal that fails here (a workflow not started yet, Temporal
          // unreachable, this process dying) is made up for by the waiting workflow, which finds the
          // offer in its row when it starts and looks at its row hourly while it waits.
          const sent = await withRequestDeadline(deps.temporal, () =>
            Promise.allSettled(
              offers.map((offer) =>
                deps.temporal.workflow.getHandle(offer.workflowId).signal(waitlistOfferSignal, { holdExpiresAt: offer.holdExpiresAt }),
              ),
            ),
          );
          for (const [index, result] of sent.entries()) {
            if (result.status === 'rejected') deps.logger.warn({ signupId: offers[index]?.signupId, err: result.reason }, 'waitlist offer not signalled');
          }
        },
      },
    }),
    catalog: createPublicCatalog({ orm: deps.orm }),
    interests: createInterestService({ orm: deps.orm }),
    webhooks: createWebhookService({ orm: deps.orm }),
    ops: createOpsService({ orm: deps.orm, temporal: deps.temporal }),
    privacy: createPrivacyService({ orm: deps.orm, temporal: deps.temporal, taskQueue: deps.taskQueue }),
    notificationPreferences: createNotificationPreferencesService({
      orm: deps.orm,
      production: deps.config.env === 'production',
      webhooks: Boolean(deps.config.notificationWebhookSecret),
    }),
    signups,
    signupCommands: createSignupCommands({ orm: deps.orm, temporal: deps.temporal, signups, starter }),
    consents: createConsentService({
      orm: deps.orm,
      temporal: deps.temporal,
      secret: deps.config.signup.consentTokenSecret,
      organizer: senderName(deps.config.smtp.from),
    }),
    stripeWebhook: createStripeWebhookHandler({
      orm: deps.orm,
      temporal: deps.temporal,
      gateway: createPaymentGateway(createStripeClient(deps.config.stripe), deps.config.stripe.webhookSecret),
      logger: deps.logger,
      taskQueue: deps.taskQueue,
      starter,
    }),
    // Connects only when the first client subscribes.
    statusFeed: deps.databaseUrl ? createSignupStatusFeed({ databaseUrl: deps.databaseUrl, logger: deps.logger }) : undefined,
  };

  if (context.statusFeed) statusFeeds.set(app, context.statusFeed);

  // NUL and lone surrogates in the query or headers are refused before any route (src/http/validate.ts).
  app.use(refuseUnsafeRequestText);
  // Before the JSON parser: Stripe's signature is over the raw bytes.
  app.use(stripeWebhookRoutes(context));
  // The guardian's HTML page posts a url-encoded form, not JSON: before the JSON-only guard too.
  app.use(consentPageRoutes(context, deps.config.signup.consentTokenSecret));
  app.use(requireJsonBody);
  app.use(express.json({ limit: '100kb', type: ['application/json', 'application/*+json'] }));
  app.use(refuseUnsafeBodyText);

  app.use(healthRoutes(context));
  app.use(eventAdminRoutes(context));
  app.use(publicEventRoutes(context));
  app.use(signupRoutes(context));
  app.use(consentRoutes(context));
  app.use(signupFeedRoutes(context));
  app.use(interestRoutes(context));
  app.use(opsRoutes(context));
  app.use(webhookRoutes(context));
  app.use(privacyRoutes(context));
  app.use(notificationPreferenceRoutes(context));
  app.get('/problems/:slug', describeProblem);
  // Prometheus: only from METRICS_ALLOWED_ADDRESSES or with METRICS_TOKEN (open in development without them).
  app.get('/metrics', serveMetrics(deps.config.observability.metricsAccess));
  app.use(apiDocsRoutes()); // GET /openapi.json and /docs

  app.use(methodNotAllowed(apiOperations));
  app.use(notFoundHandler);
  app.use(problemErrorHandler(deps.logger));
  return app;
}

/** "Eventbook <no-reply@eventbook.local>" -> "Eventbook": who the guardian is told organizes the event. */
function senderName(from: string): string {
  const name = /^\s*"?([^"<]+?)"?\s*</.exec(from)?.[1];
  return name ?? from.replace(/^.*<|>.*$/g, '');
}
