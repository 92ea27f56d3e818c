import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { ContactProvider } from '../src/contacts/provider.js';
import type { NotificationChannel } from '../src/notifications/channels.js';
import type { Mailer } from '../src/notifications/mailer.js';
import type { PaymentGateway } from '../src/payments/stripe-gateway.js';
import { createErasureActivities } from './erasure.js';
import { createLifecycleActivities } from './lifecycle.js';
import { createNotificationActivities, type NotificationLinks } from './notifications.js';
import { createPaymentActivities } from './payments.js';
import { createSeatActivities } from './seats.js';
import { createWebhookActivities } from './webhooks.js';

export interface ActivityDependencies {
  orm: MikroORM;
  payments: PaymentGateway;
  mailer: Mailer;
  /** POSTs notifications to contacts' webhook URLs; without it only e-mail goes out. */
  webhook?: NotificationChannel;
  contacts: ContactProvider;
  links: NotificationLinks;
  /** For activities that talk to other workflows (the lifecycle's fan-outs). */
  temporal: Client;
  /** Retries of a fan-out's failed deliveries, each in its own workflow. */
  notificationRetry: { attempts: number; initialSeconds: number };
}

/** All activities the worker registers, bound to their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  const notifications = createNotificationActivities(deps);
  const seats = createSeatActivities(deps.orm);
  return {
    ...seats,
    ...createPaymentActivities(deps.orm, deps.payments, deps.temporal, seats.releaseHold),
    ...notifications,
    ...createLifecycleActivities({ orm: deps.orm, temporal: deps.temporal, notifications, notificationRetry: deps.notificationRetry }),
    ...createWebhookActivities({ orm: deps.orm, mailer: deps.mailer }),
    ...createErasureActivities({ orm: deps.orm, temporal: deps.temporal }),
  };
}

/** The shape workflows proxy: `proxyActivities<Activities>(...)`. */
export type Activities = ReturnType<typeof createActivities>;
