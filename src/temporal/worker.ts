import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Client, Connection } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDependencies } from '../../activities/index.js';
import { seatTaskQueueOf } from './contract.js';
import type { Config } from '../config.js';
import { tableContactProvider } from '../contacts/provider.js';
import { webhookChannel } from '../notifications/channels.js';
import { createMailer } from '../notifications/mailer.js';
import { createPaymentGateway, createStripeClient } from '../payments/stripe-gateway.js';
import { activityLogContext } from '../observability/activity-log-context.js';
import { tracingWorkerParts, type Tracing } from '../observability/tracing.js';

/**
 * The workflows entry point: TypeScript when run from source (tsx, jest), JavaScript when
 * run from dist/. The worker bundles it with webpack, so either works.
 */
export function workflowsPath(): string {
  for (const extension of ['.ts', '.js']) {
    const candidate = fileURLToPath(new URL(`../../workflows/index${extension}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('workflows/index not found next to src/');
}

/** What the activities talk to, built from the configuration; `close` ends the mail pool. */
export function createActivityDependencies(config: Config, orm: MikroORM): ActivityDependencies & { close(): Promise<void> } {
  const mailer = createMailer(config.smtp);
  // Connects on first use: only the lifecycle's fan-outs talk to other workflows.
  const connection = Connection.lazy({ address: config.temporal.address });
  return {
    orm,
    payments: createPaymentGateway(createStripeClient(config.stripe), config.stripe.webhookSecret),
    mailer,
    contacts: tableContactProvider(() => orm.em.fork()),
    links: {
      publicBaseUrl: config.publicBaseUrl,
      consentTokenSecret: config.signup.consentTokenSecret,
      consentSeconds: config.signup.consentSeconds,
    },
    temporal: new Client({ connection, namespace: config.temporal.namespace }),
    notificationRetry: config.notificationRetry,
    ...(config.notificationWebhookSecret ? { webhook: webhookChannel({ secret: config.notificationWebhookSecret }) } : {}),
    close: async () => {
      mailer.close();
      await connection.close();
    },
  };
}

export interface WorkerSettings {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: ActivityDependencies;
  /** A prebuilt bundle (tests build one for all workers); otherwise the worker bundles at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  /** The workflow cache's size (WORKER_MAX_CACHED_WORKFLOWS); undefined: the SDK's default for the heap. */
  maxCachedWorkflows?: number;
  /**
   * OpenTelemetry (src/observability/tracing.ts): activity and workflow spans. A prebuilt bundle must
   * then have been built with `tracingWorkflowModules(tracing)` as its workflowInterceptorModules.
   */
  tracing?: Tracing;
}

/**
 * What a worker process runs: the workflows and their activities on the task queue, and a second
 * SDK worker, activities only, on the seat task queue (seatTaskQueueOf). Seat moves (holds,
 * confirmations, cancels, the end of a hold) get slots and a queue of their own, so a burst's
 * backlog of mails never stands in front of a participant's cancel or a hold's deadline.
 */
export class EventbookWorker {
  constructor(
    readonly workflows: Worker,
    readonly seatMoves: Worker,
  ) {}

  /** Polls both queues until shutdown (or a signal: the SDK's runtime stops every worker); one failing stops the other. */
  async run(): Promise<void> {
    const runs = [this.workflows.run(), this.seatMoves.run()];
    try {
      await Promise.all(runs);
    } catch (error) {
      this.shutdown();
      await Promise.allSettled(runs);
      throw error;
    }
  }

  /** Runs until `body` settles, then shuts both down (as Worker.runUntil). */
  async runUntil<T>(body: Promise<T>): Promise<T> {
    const running = this.run();
    try {
      return await body;
    } finally {
      this.shutdown();
      await running;
    }
  }

  shutdown(): void {
    for (const worker of [this.workflows, this.seatMoves]) if (worker.getState() === 'RUNNING') worker.shutdown();
  }
}

export async function createWorker(settings: WorkerSettings): Promise<EventbookWorker> {
  const tracing = tracingWorkerParts(settings.tracing);
  const activities = createActivities(settings.activities);
  const shared = {
    connection: settings.connection,
    namespace: settings.namespace,
    activities,
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivityTaskExecutions ?? 50,
    // Activities are allowed this long to finish when the worker is told to stop.
    shutdownGraceTime: '10 seconds',
  } satisfies Partial<WorkerOptions>;
  // Log lines about an activity carry its signupId / eventId (the SDK adds workflowId and activityType).
  const activityInterceptors = [...tracing.activity, activityLogContext];
  const workflows = await Worker.create({
    ...shared,
    taskQueue: settings.taskQueue,
    maxCachedWorkflows: settings.maxCachedWorkflows,
    ...(settings.workflowBundle ? { workflowBundle: settings.workflowBundle } : { workflowsPath: workflowsPath() }),
    interceptors: {
      activity: activityInterceptors,
      // A prebuilt bundle carries its interceptor modules already (see tracingWorkflowModules).
      workflowModules: settings.workflowBundle ? [] : tracing.workflowModules,
    },
    sinks: tracing.sinks,
  });
  const seatMoves = await Worker.create({
    ...shared,
    taskQueue: seatTaskQueueOf(settings.taskQueue),
    interceptors: { activity: activityInterceptors },
  });
  return new EventbookWorker(workflows, seatMoves);
}
