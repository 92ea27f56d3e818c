import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import type { Role } from '../auth/principal.js';
import type { AuthenticateOptions } from './auth.js';
import type { EventAdminService } from '../events/admin-service.js';
import type { PublicCatalog } from '../events/public-catalog.js';
import type { ConsentService } from '../consents/service.js';
import type { NotificationPreferencesService } from '../contacts/preferences-service.js';
import type { InterestService } from '../interests/service.js';
import type { OpsService } from '../ops/service.js';
import type { PrivacyService } from '../privacy/service.js';
import type { SignupCommands } from '../signups/commands.js';
import type { SignupService } from '../signups/service.js';
import type { SignupStatusFeed } from '../signups/status-feed.js';
import type { WebhookService } from '../webhooks/service.js';

/** What route modules get: the domain services and the auth guard, nothing they could misuse. */
export interface RouteContext {
  authenticate: (allowed?: readonly Role[], options?: AuthenticateOptions) => RequestHandler;
  signups: SignupService;
  signupCommands: SignupCommands;
  consents: ConsentService;
  /** Verifies a Stripe webhook and hands it to its signup's workflow. */
  stripeWebhook: (rawBody: Buffer, signature: string | undefined) => Promise<{ received: true; delivered: boolean }>;
  events: EventAdminService;
  catalog: PublicCatalog;
  /** Who follows which events, categories and markets (notify-me, /v1/me/interests). */
  interests: InterestService;
  orm: MikroORM;
  temporal: Client;
  /** Finding and repairing failed or stuck workflows, audited (/v1/ops, role ops). */
  ops: OpsService;
  /** Outbound webhook endpoints of integrators, their delivery log and redelivery. */
  webhooks: WebhookService;
  /** The caller's own data: export, erasure (src/privacy). */
  privacy: PrivacyService;
  /** The caller's channels, opt-outs and marketing consent (/v1/me/notification-preferences). */
  notificationPreferences: NotificationPreferencesService;
  /** Signup status changes from PostgreSQL LISTEN/NOTIFY; absent when the app was built without a database URL. */
  statusFeed?: SignupStatusFeed;
}
