import { Router } from 'express';
import { z } from 'zod';
import { categoryCodeSchema, marketCodeSchema } from '../events/event-input.js';
import type { SameShape } from '../http/api-schemas.js';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { parseRequestPart } from '../http/validate.js';
import type { WebhookDeliveryView, WebhookEndpointView } from './service.js';
import { deliveryStatuses, integrationEventTypes } from './webhook.entities.js';

/** Request and answer schemas, exported for the OpenAPI document (src/http/api-operations.ts). */
export const webhookUrlSchema = z
  .url({ protocol: /^https?$/, message: 'an http(s) URL' })
  .max(2000)
  .describe('Where messages are POSTed (redirects are not followed; 2xx within 10 s counts as delivered)');
const eventTypesSchema = z.array(z.enum(integrationEventTypes)).min(1).max(integrationEventTypes.length).describe('The message types to send');

export const webhookEndpointPathSchema = z.object({ endpointId: z.uuid() });
export const webhookDeliveryPathSchema = z.object({ endpointId: z.uuid(), deliveryId: z.uuid() });

export const createWebhookEndpointBodySchema = z
  .strictObject({
    url: webhookUrlSchema,
    description: z.string().trim().min(1).max(500).optional(),
    eventTypes: eventTypesSchema,
    market: marketCodeSchema.optional().describe("Only events in this market; organizers must give one of theirs (admins may leave it out: every market)"),
    category: categoryCodeSchema.optional().describe('Only events of this category (required for organizers whose token limits their categories)'),
  })
  .meta({ id: 'NewWebhookEndpoint' });

export const patchWebhookEndpointBodySchema = z
  .strictObject({
    url: webhookUrlSchema.optional(),
    description: z.string().trim().min(1).max(500).nullable().optional(),
    eventTypes: eventTypesSchema.optional(),
    enabled: z.boolean().optional().describe('true re-enables a disabled endpoint (its run of failures starts again at 0); false pauses it'),
  })
  .meta({ id: 'WebhookEndpointPatch' });

export const deliveriesQuerySchema = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(50) });

const instant = z.iso.datetime();

export const webhookEndpointViewSchema = z
  .strictObject({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.enum(integrationEventTypes)),
    market: z.string().nullable(),
    category: z.string().nullable(),
    enabled: z.boolean(),
    consecutiveFailures: z.number().int().min(0).describe('Messages in a row that failed every attempt'),
    disabledAt: instant.nullable(),
    disabledReason: z.string().nullable(),
    createdAt: instant,
  })
  .meta({ id: 'WebhookEndpoint', description: 'An integrator endpoint and the messages it wants' });
const _endpointMatches: SameShape<z.output<typeof webhookEndpointViewSchema>, WebhookEndpointView> = true;

export const createdWebhookEndpointSchema = webhookEndpointViewSchema
  .extend({ secret: z.string().describe('Standard Webhooks signing secret (whsec_...): shown only in this answer') })
  .meta({ id: 'CreatedWebhookEndpoint' });

export const webhookEndpointListSchema = z.strictObject({ items: z.array(webhookEndpointViewSchema) }).meta({ id: 'WebhookEndpointList' });

export const webhookDeliveryViewSchema = z
  .strictObject({
    id: z.uuid(),
    messageId: z.uuid().describe('The webhook-id header: the same on every attempt and redelivery'),
    type: z.string(),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int().min(0),
    round: z.number().int().min(1).describe('1, plus one per redelivery'),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastAttemptAt: instant.nullable(),
    deliveredAt: instant.nullable(),
    createdAt: instant,
  })
  .meta({ id: 'WebhookDelivery' });
const _deliveryMatches: SameShape<z.output<typeof webhookDeliveryViewSchema>, WebhookDeliveryView> = true;

export const webhookDeliveryListSchema = z.strictObject({ items: z.array(webhookDeliveryViewSchema) }).meta({ id: 'WebhookDeliveryList' });
export const redeliveryResultSchema = z
  .strictObject({ id: z.uuid(), round: z.number().int().min(1), status: z.enum(deliveryStatuses) })
  .meta({ id: 'Redelivery' });

export function webhookRoutes({ authenticate, webhooks }: RouteContext): Router {
  const router = Router();
  const admins = authenticate(['organizer', 'admin']);
  const noStore = (res: { setHeader(name: string, value: string): unknown }) => res.setHeader('Cache-Control', 'no-store');

  router.post('/v1/admin/webhook-endpoints', admins, async (req, res) => {
    const body = parseRequestPart(createWebhookEndpointBodySchema, req.body ?? {}, 'body');
    const created = await webhooks.create(principalOf(req), body);
    noStore(res);
    res.status(201).location(`/v1/admin/webhook-endpoints/${created.id}`).json(created);
  });

  router.get('/v1/admin/webhook-endpoints', admins, async (req, res) => {
    noStore(res);
    res.json(await webhooks.list(principalOf(req)));
  });

  router.get('/v1/admin/webhook-endpoints/:endpointId', admins, async (req, res) => {
    const { endpointId } = parseRequestPart(webhookEndpointPathSchema, req.params, 'path');
    noStore(res);
    res.json(await webhooks.get(principalOf(req), endpointId));
  });

  router.patch('/v1/admin/webhook-endpoints/:endpointId', admins, async (req, res) => {
    const { endpointId } = parseRequestPart(webhookEndpointPathSchema, req.params, 'path');
    const body = parseRequestPart(patchWebhookEndpointBodySchema, req.body ?? {}, 'body');
    noStore(res);
    res.json(await webhooks.update(principalOf(req), endpointId, body));
  });

  router.delete('/v1/admin/webhook-endpoints/:endpointId', admins, async (req, res) => {
    const { endpointId } = parseRequestPart(webhookEndpointPathSchema, req.params, 'path');
    await webhooks.remove(principalOf(req), endpointId);
    res.status(204).end();
  });

  router.get('/v1/admin/webhook-endpoints/:endpointId/deliveries', admins, async (req, res) => {
    const { endpointId } = parseRequestPart(webhookEndpointPathSchema, req.params, 'path');
    const { limit } = parseRequestPart(deliveriesQuerySchema, req.query, 'query');
    noStore(res);
    res.json(await webhooks.deliveries(principalOf(req), endpointId, limit));
  });

  router.post('/v1/admin/webhook-endpoints/:endpointId/deliveries/:deliveryId/redeliver', admins, async (req, res) => {
    const { endpointId, deliveryId } = parseRequestPart(webhookDeliveryPathSchema, req.params, 'path');
    res.status(202).json(await webhooks.redeliver(principalOf(req), endpointId, deliveryId));
  });

  return router;
}
