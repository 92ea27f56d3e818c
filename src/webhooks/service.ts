import { randomUUID } from 'node:crypto';
import { sql } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Principal } from '../auth/principal.js';
import { Problem } from '../http/problem.js';
import { newSigningSecret } from './delivery.js';
import { WebhookDelivery, WebhookEndpoint, type DeliveryStatus, type IntegrationEventType } from './webhook.entities.js';

/**
 * Admin side of outbound webhooks: endpoints (CRUD), their delivery log, redelivery. Scope like
 * the admin events API: an organizer registers endpoints for one of its markets (and, when its
 * token limits it to categories, one of those), and sees only its own scope's endpoints; anything
 * else is 404. Admins may leave market and category open (every event).
 */

export interface WebhookEndpointInput {
  url: string;
  description?: string;
  eventTypes: IntegrationEventType[];
  market?: string;
  category?: string;
}

export interface WebhookEndpointPatch {
  url?: string;
  description?: string | null;
  eventTypes?: IntegrationEventType[];
  /** true re-enables a disabled endpoint (and forgets its failures); false pauses it. */
  enabled?: boolean;
}

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  eventTypes: IntegrationEventType[];
  market: string | null;
  category: string | null;
  enabled: boolean;
  consecutiveFailures: number;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
}

export interface WebhookDeliveryView {
  id: string;
  messageId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  round: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

const iso = (date: Date | null | undefined) => (date ? date.toISOString() : null);

function toView(endpoint: WebhookEndpoint): WebhookEndpointView {
  return {
    id: endpoint.id,
    url: endpoint.url,
    description: endpoint.description ?? null,
    eventTypes: endpoint.eventTypes,
    market: endpoint.market ?? null,
    category: endpoint.category ?? null,
    enabled: endpoint.enabled,
    consecutiveFailures: endpoint.consecutiveFailures,
    disabledAt: iso(endpoint.disabledAt),
    disabledReason: endpoint.disabledReason ?? null,
    createdAt: endpoint.createdAt.toISOString(),
  };
}

const isAdmin = (principal: Principal) => principal.roles.includes('admin');

/** May this principal see (and manage) an endpoint with this scope? */
function inScope(principal: Principal, scope: { market?: string | null; category?: string | null }): boolean {
  if (isAdmin(principal)) return true;
  if (!scope.market || !principal.markets.includes(scope.market)) return false;
  return !principal.categories || (!!scope.category && principal.categories.includes(scope.category));
}

const notFound = () => new Problem('not-found', 'no webhook endpoint with this id');

function scopeViolation(field: string, message: string): Problem {
  return new Problem('rule-violation', message, { errors: [{ in: 'body', field, message }] });
}

export function createWebhookService(deps: { orm: MikroORM }) {
  async function load(principal: Principal, id: string) {
    const em = deps.orm.em.fork();
    const endpoint = await em.findOne(WebhookEndpoint, id);
    if (!endpoint || !inScope(principal, endpoint)) throw notFound();
    return { em, endpoint };
  }

  return {
    /** The secret is in this answer only: later reads never show it. */
    async create(principal: Principal, input: WebhookEndpointInput): Promise<WebhookEndpointView & { secret: string }> {
      if (!isAdmin(principal)) {
        if (!input.market) throw scopeViolation('market', 'organizers register endpoints for one of their markets');
        if (!principal.markets.includes(input.market)) throw scopeViolation('market', `not one of your markets (${principal.markets.join(', ')})`);
        if (principal.categories && (!input.category || !principal.categories.includes(input.category))) {
          throw scopeViolation('category', `one of your categories is needed (${principal.categories.join(', ')})`);
        }
      }
      const em = deps.orm.em.fork();
      const endpoint = em.create(WebhookEndpoint, {
        id: randomUUID(),
        url: input.url,
        description: input.description ?? null,
        eventTypes: [...new Set(input.eventTypes)],
        market: input.market ?? null,
        category: input.category ?? null,
        secret: newSigningSecret(),
        ownerUserId: principal.userId,
        ownerEmail: principal.profile?.email ?? null,
      });
      await em.flush();
      return { ...toView(endpoint), secret: endpoint.secret };
    },

    async list(principal: Principal): Promise<{ items: WebhookEndpointView[] }> {
      const endpoints = await deps.orm.em.fork().find(WebhookEndpoint, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
      return { items: endpoints.filter((endpoint) => inScope(principal, endpoint)).map(toView) };
    },

    async get(principal: Principal, id: string): Promise<WebhookEndpointView> {
      return toView((await load(principal, id)).endpoint);
    },

    async update(principal: Principal, id: string, patch: WebhookEndpointPatch): Promise<WebhookEndpointView> {
      const { em, endpoint } = await load(principal, id);
      if (patch.url !== undefined) endpoint.url = patch.url;
      if (patch.description !== undefined) endpoint.description = patch.description;
      if (patch.eventTypes !== undefined) endpoint.eventTypes = [...new Set(patch.eventTypes)];
      if (patch.enabled === true && !endpoint.enabled) {
        endpoint.enabled = true;
        endpoint.consecutiveFailures = 0;
        endpoint.disabledAt = null;
        endpoint.disabledReason = null;
      } else if (patch.enabled === false && endpoint.enabled) {
        endpoint.enabled = false;
        endpoint.disabledAt = new Date();
        endpoint.disabledReason = `paused by ${principal.userId}`;
      }
      await em.flush();
      return toView(endpoint);
    },

    async remove(principal: Principal, id: string): Promise<void> {
      const { em, endpoint } = await load(principal, id);
      await em.remove(endpoint).flush();
    },

    /** The delivery log, newest first. */
    async deliveries(principal: Principal, id: string, limit: number): Promise<{ items: WebhookDeliveryView[] }> {
      const { em, endpoint } = await load(principal, id);
      const rows = await em.find(WebhookDelivery, { endpoint }, { populate: ['message'], orderBy: { createdAt: 'desc', id: 'desc' }, limit });
      return {
        items: rows.map((row) => ({
          id: row.id,
          messageId: row.message.id,
          type: row.message.type,
          status: row.status,
          attempts: row.attempts,
          round: row.round,
          lastStatusCode: row.lastStatusCode ?? null,
          lastError: row.lastError ?? null,
          lastAttemptAt: iso(row.lastAttemptAt),
          deliveredAt: iso(row.deliveredAt),
          createdAt: row.createdAt.toISOString(),
        })),
      };
    },

    /**
     * Sends one message to the endpoint again (same `webhook-id`, so receivers that saw it drop
     * it): a new round of its delivery, started by the relay within a second. Not while a round runs.
     */
    async redeliver(principal: Principal, id: string, deliveryId: string): Promise<{ id: string; round: number; status: DeliveryStatus }> {
      const { em, endpoint } = await load(principal, id);
      if (!endpoint.enabled) throw new Problem('event-state-conflict', 'the endpoint is disabled: enable it first (PATCH enabled: true)');
      // Conditional, so two redeliveries at once start one round.
      const moved = await em.nativeUpdate(
        WebhookDelivery,
        { id: deliveryId, endpoint: endpoint.id, status: { $ne: 'pending' } },
        { status: 'pending', startedAt: null, round: sql`round + 1`, deliveredAt: null },
      );
      const delivery = await em.findOne(WebhookDelivery, { id: deliveryId, endpoint: endpoint.id }, { refresh: true });
      if (!delivery) throw new Problem('not-found', 'no delivery with this id for this endpoint');
      if (moved !== 1) throw new Problem('event-state-conflict', 'the delivery is still running');
      return { id: delivery.id, round: delivery.round, status: delivery.status };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
