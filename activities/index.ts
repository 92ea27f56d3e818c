import type { MikroORM } from '@mikro-orm/postgresql';
import type { ContactProvider } from '../src/contacts/provider.js';
import type { Mailer } from '../src/notifications/mailer.js';
import type { PaymentGateway } from '../src/payments/stripe-gateway.js';
import { createNotificationActivities, type NotificationLinks } from './notifications.js';
import { createPaymentActivities } from './payments.js';
import { createSeatActivities } from './seats.js';

export interface ActivityDependencies {
  orm: MikroORM;
  payments: PaymentGateway;
  mailer: Mailer;
  contacts: ContactProvider;
  links: NotificationLinks;
}

/** All activities the worker registers, bound to their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  return {
    ...createSeatActivities(deps.orm),
    ...createPaymentActivities(deps.orm, deps.payments),
    ...createNotificationActivities(deps),
  };
}

/** The shape workflows proxy: `proxyActivities<Activities>(...)`. */
export type Activities = ReturnType<typeof createActivities>;
