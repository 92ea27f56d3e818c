import type { MikroORM } from '@mikro-orm/postgresql';
import type { Client } from '@temporalio/client';
import type { RequestHandler } from 'express';
import type { Role } from '../auth/principal.js';
import type { EventAdminService } from '../events/admin-service.js';
import type { PublicCatalog } from '../events/public-catalog.js';
import type { SignupService } from '../signups/service.js';

/** What route modules get: the domain services and the auth guard, nothing they could misuse. */
export interface RouteContext {
  authenticate: (allowed?: readonly Role[]) => RequestHandler;
  signups: SignupService;
  events: EventAdminService;
  catalog: PublicCatalog;
  orm: MikroORM;
  temporal: Client;
}
