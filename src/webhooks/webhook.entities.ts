import { defineEntity, p } from '@mikro-orm/core';

/**
 * Outbound webhooks for integrators (see docs/architecture.md, "Outbound webhooks").
 *
 * IntegrationEvent (`integration_event`) is the outbox: triggers on `signup` and `event` write a row
 * in the same transaction as the business change (so a rolled-back change sends nothing and a
 * committed one is never missed, whoever made it). The relay (relay.ts) fans each row out to the
 * endpoints that want it, as WebhookDelivery rows, each delivered by its own Temporal workflow.
 */

export const integrationEventTypes = [
  'signup.confirmed',
  'signup.cancelled',
  'signup.waitlisted',
  'event.published',
  'event.changed',
  'event.cancelled',
] as const;
export type IntegrationEventType = (typeof integrationEventTypes)[number];

export const IntegrationEventSchema = defineEntity({
  name: 'IntegrationEvent',
  tableName: 'integration_event',
  // The relay's claim: the rows not fanned out yet, oldest first.
  indexes: [{ name: 'integration_event_unrelayed_index', expression: 'create index "integration_event_unrelayed_index" on "integration_event" ("occurred_at") where "relayed_at" is null' }],
  properties: {
    /** The Standard Webhooks message id (`webhook-id`), the same for every endpoint and redelivery. */
    id: p.uuid().primary(),
    type: p.string().length(40),
    eventId: p.uuid(),
    signupId: p.uuid().nullable(),
    /** Of the event, copied so endpoints scoped to a market or category are matched without a join. */
    market: p.string().length(2),
    category: p.string().length(64),
    payload: p.json<Record<string, unknown>>(),
    occurredAt: p.datetime(),
    relayedAt: p.datetime().nullable(),
  },
});
export class IntegrationEvent extends IntegrationEventSchema.class {}
IntegrationEventSchema.setClass(IntegrationEvent);

export const WebhookEndpointSchema = defineEntity({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoint',
  properties: {
    id: p.uuid().primary(),
    url: p.string().length(2000),
    description: p.string().length(500).nullable(),
    eventTypes: p.array<IntegrationEventType>(),
    /** Only events in this market (null: every market, admins only). */
    market: p.string().length(2).nullable(),
    /** Only events of this category (null: every category the owner may see). */
    category: p.string().length(64).nullable(),
    /** Standard Webhooks signing secret, `whsec_<base64>`; shown once, at creation. */
    secret: p.string().length(200),
    enabled: p.boolean().default(true),
    /** Messages in a row whose every attempt failed; a delivery resets it. */
    consecutiveFailures: p.integer().default(0),
    disabledAt: p.datetime().nullable(),
    disabledReason: p.string().length(500).nullable(),
    ownerUserId: p.string().length(200),
    /** Told when the endpoint is disabled (from the creator's token). */
    ownerEmail: p.string().length(320).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});
export class WebhookEndpoint extends WebhookEndpointSchema.class {}
WebhookEndpointSchema.setClass(WebhookEndpoint);

export const deliveryStatuses = ['pending', 'delivered', 'failed', 'skipped'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const WebhookDeliverySchema = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'webhook_delivery',
  // One delivery per endpoint and message (a redelivery runs it again); the log reads newest first.
  uniques: [{ properties: ['endpoint', 'message'] }],
  indexes: [{ properties: ['endpoint', 'createdAt'] }],
  properties: {
    id: p.uuid().primary(),
    endpoint: () => p.manyToOne(WebhookEndpoint).deleteRule('cascade'),
    message: () => p.manyToOne(IntegrationEvent),
    status: p.enum(deliveryStatuses).default('pending'),
    /** HTTP attempts so far, over every run (redeliveries included). */
    attempts: p.integer().default(0),
    /** Runs of the delivery workflow: 1, then one more per redelivery (part of its workflow id). */
    round: p.integer().default(1),
    lastStatusCode: p.integer().nullable(),
    lastError: p.string().length(1000).nullable(),
    lastAttemptAt: p.datetime().nullable(),
    deliveredAt: p.datetime().nullable(),
    /** Set once Temporal has the workflow of the current round; the relay starts the others. */
    startedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});
export class WebhookDelivery extends WebhookDeliverySchema.class {}
WebhookDeliverySchema.setClass(WebhookDelivery);
