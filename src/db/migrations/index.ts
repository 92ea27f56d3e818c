import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261121211342_event_catalog } from './Migration20261121211342_event_catalog.js';
import { Migration20261121204542_initial_schema } from './Migration20261121204542_initial_schema.js';
import { Migration20261121212111_public_catalog_indexes } from './Migration20261121212111_public_catalog_indexes.js';
import { Migration20261121220253_notification_log } from './Migration20261121220253_notification_log.js';
import { Migration20261121220603_signup_idempotency } from './Migration20261121220603_signup_idempotency.js';
import { Migration20261121224119_public_search_start_week } from './Migration20261121224119_public_search_start_week.js';
import { Migration20261121230958_signup_flow } from './Migration20261121230958_signup_flow.js';
import { Migration20261122000144_event_lifecycle } from './Migration20261122000144_event_lifecycle.js';
import { Migration20261122000351_interests_and_notification_channels } from './Migration20261122000351_interests_and_notification_channels.js';
import { Migration20261122001407_ops_audit } from './Migration20261122001407_ops_audit.js';
import { Migration20261122014222_signup_workflow_outbox } from './Migration20261122014222_signup_workflow_outbox.js';
import { Migration20261122014900_public_search_week_terms } from './Migration20261122014900_public_search_week_terms.js';
import { Migration20261122021256_public_search_walk } from './Migration20261122021256_public_search_walk.js';
import { Migration20261201105857_rate_limits } from './Migration20261201105857_rate_limits.js';

/** Every committed migration, oldest first. Add new ones at the end; never edit a released one. */
export const migrations: MigrationObject[] = [
  { name: 'Migration20261121204542_initial_schema', class: Migration20261121204542_initial_schema },
  { name: 'Migration20261121211342_event_catalog', class: Migration20261121211342_event_catalog },
  { name: 'Migration20261121212111_public_catalog_indexes', class: Migration20261121212111_public_catalog_indexes },
  { name: 'Migration20261121220253_notification_log', class: Migration20261121220253_notification_log },
  { name: 'Migration20261121220603_signup_idempotency', class: Migration20261121220603_signup_idempotency },
  { name: 'Migration20261121224119_public_search_start_week', class: Migration20261121224119_public_search_start_week },
  { name: 'Migration20261121230958_signup_flow', class: Migration20261121230958_signup_flow },
  { name: 'Migration20261122000144_event_lifecycle', class: Migration20261122000144_event_lifecycle },
  { name: 'Migration20261122000351_interests_and_notification_channels', class: Migration20261122000351_interests_and_notification_channels },
  { name: 'Migration20261122001407_ops_audit', class: Migration20261122001407_ops_audit },
  { name: 'Migration20261122014222_signup_workflow_outbox', class: Migration20261122014222_signup_workflow_outbox },
  { name: 'Migration20261122014900_public_search_week_terms', class: Migration20261122014900_public_search_week_terms },
  { name: 'Migration20261122021256_public_search_walk', class: Migration20261122021256_public_search_walk },
  { name: 'Migration20261201105857_rate_limits', class: Migration20261201105857_rate_limits },
];
