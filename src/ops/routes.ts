import { Router } from 'express';
import { z } from 'zod';
import type { SameShape } from '../http/api-schemas.js';
import { principalOf } from '../http/auth.js';
import type { RouteContext } from '../http/context.js';
import { Problem } from '../http/problem.js';
import { parseRequestPart } from '../http/validate.js';
import { opsActions, opsOutcomes } from './audit.entity.js';
import {
  OpsError,
  resetPoints,
  type AuditPage,
  type BatchResetResult,
  type FailedDeliveryPage,
  type FlowDetail,
  type FlowList,
  type ResetResult,
  type RetryResult,
} from './service.js';

/** Who may repair flows: operators only (not admins: resetting a workflow is an operations act). */
export const opsRoles = ['ops'] as const;

export const listFlowsQuerySchema = z.strictObject({
  query: z
    .string()
    .max(2000)
    .optional()
    .describe('A Temporal visibility query; default: failed, timed out, or waiting for an operator (Attention set)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const flowPathSchema = z.object({ workflowId: z.string().min(1).max(400).describe('e.g. signup-<signupId> or event-<eventId>') });
const reasonSchema = z.string().trim().min(1).max(1000).describe('Why: kept in the audit log');
export const retryBodySchema = z.strictObject({ reason: reasonSchema });
const resetPointSchema = z
  .union([z.enum(resetPoints), z.number().int().min(1)])
  .describe('last-workflow-task, first-workflow-task, or the id of a WorkflowTaskCompleted event');
export const resetBodySchema = z.strictObject({ to: resetPointSchema, reason: reasonSchema });
export const batchResetBodySchema = z.strictObject({
  query: z.string().trim().min(1).max(2000).describe('A Temporal visibility query naming the flows to reset'),
  to: resetPointSchema,
  reason: reasonSchema,
  limit: z.number().int().min(1).max(1000).default(100).optional(),
});
export const auditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.uuid().optional().describe('nextCursor of the previous page'),
  target: z.string().max(2000).optional().describe('Only entries about this workflow id (or query)'),
});

export const failedDeliveriesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  eventId: z.uuid().optional().describe('Only notifications about this event'),
});

const iso = z.iso.datetime();
const attributeValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
const flowSummaryShape = {
  workflowId: z.string(),
  runId: z.string(),
  type: z.string(),
  status: z.string().describe('RUNNING, COMPLETED, FAILED, TIMED_OUT, TERMINATED, CANCELLED, CONTINUED_AS_NEW'),
  startTime: iso,
  closeTime: iso.nullable(),
  attention: z.string().nullable().describe('The step the flow waits on an operator for (search attribute Attention)'),
  searchAttributes: z.record(z.string(), attributeValue),
};
export const flowSummarySchema = z.strictObject(flowSummaryShape).meta({ id: 'OpsFlow' });
export const flowListSchema = z
  .strictObject({ query: z.string(), items: z.array(flowSummarySchema), truncated: z.boolean() })
  .meta({ id: 'OpsFlowList', description: 'Flows matching the query, newest first' });
const _flowListMatches: SameShape<z.output<typeof flowListSchema>, FlowList> = true;

export const flowDetailSchema = z
  .strictObject({
    ...flowSummaryShape,
    taskQueue: z.string(),
    historyLength: z.number().int(),
    summary: z.string().nullable(),
    state: z.record(z.string(), z.unknown()).nullable().describe('The answer of the signupProgress / eventLifecycle query'),
    stateError: z.string().nullable(),
    lastFailure: z.string().nullable(),
    pendingActivities: z.array(
      z.strictObject({ activityType: z.string(), attempt: z.number().int(), lastFailure: z.string().nullable() }),
    ),
    history: z.strictObject({
      lastEvents: z.array(z.strictObject({ eventId: z.number().int(), type: z.string(), time: iso.nullable() })),
      failures: z.array(z.strictObject({ eventId: z.number().int(), type: z.string(), message: z.string() })),
    }),
  })
  .meta({ id: 'OpsFlowDetail', description: 'A flow: status, search attributes, its own state, failures, the end of its history' });
const _flowDetailMatches: SameShape<z.output<typeof flowDetailSchema>, FlowDetail> = true;

export const retryResultSchema = z
  .strictObject({ workflowId: z.string(), runId: z.string(), attention: z.string().nullable() })
  .meta({ id: 'OpsRetryResult' });
const _retryMatches: SameShape<z.output<typeof retryResultSchema>, RetryResult> = true;

export const resetResultSchema = z
  .strictObject({ workflowId: z.string(), previousRunId: z.string(), newRunId: z.string(), workflowTaskFinishEventId: z.number().int() })
  .meta({ id: 'OpsResetResult' });
const _resetMatches: SameShape<z.output<typeof resetResultSchema>, ResetResult> = true;

export const batchResetResultSchema = z
  .strictObject({
    query: z.string(),
    items: z.array(
      z.strictObject({
        workflowId: z.string(),
        runId: z.string(),
        outcome: z.enum(['ok', 'error', 'skipped']),
        newRunId: z.string().nullable(),
        message: z.string().nullable(),
      }),
    ),
    truncated: z.boolean(),
  })
  .meta({ id: 'OpsBatchResetResult', description: 'One entry per workflow the query matched' });
const _batchMatches: SameShape<z.output<typeof batchResetResultSchema>, BatchResetResult> = true;

export const auditPageSchema = z
  .strictObject({
    items: z.array(
      z.strictObject({
        id: z.uuid(),
        at: iso,
        actor: z.string(),
        action: z.enum(opsActions),
        target: z.string(),
        reason: z.string().nullable(),
        outcome: z.enum(opsOutcomes),
        message: z.string().nullable(),
      }),
    ),
    nextCursor: z.uuid().nullable(),
  })
  .meta({ id: 'OpsAuditPage', description: 'Operator actions, newest first' });
const _auditMatches: SameShape<z.output<typeof auditPageSchema>, AuditPage> = true;

export const failedDeliveryPageSchema = z
  .strictObject({
    items: z.array(
      z.strictObject({
        key: z.string().describe('The notification\'s once-only key (step, event or signup, recipient)'),
        kind: z.string(),
        channel: z.string().describe('email or webhook'),
        eventId: z.uuid().nullable(),
        signupId: z.uuid().nullable(),
        recipientUserId: z.string(),
        attempts: z.number().int(),
        lastError: z.string().nullable().describe('What the channel answered the last time'),
        failedAt: iso,
      }),
    ),
    truncated: z.boolean(),
  })
  .meta({ id: 'OpsFailedDeliveries', description: 'Notifications given up on per recipient and channel, newest first' });
const _failedMatches: SameShape<z.output<typeof failedDeliveryPageSchema>, FailedDeliveryPage> = true;

/** Maps the service's errors to problem documents. */
async function answering<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof OpsError)) throw error;
    switch (error.kind) {
      case 'not-found':
        throw new Problem('not-found', error.message);
      case 'not-running':
        throw new Problem('flow-not-running', error.message);
      case 'changed-meanwhile':
        throw new Problem('flow-changed', error.message);
      case 'bad-reset-point':
        throw new Problem('reset-point-invalid', error.message, { errors: [{ in: 'body', field: 'to', message: error.message }] });
      case 'bad-query':
        // Temporal's parser text names its internals; the audit log keeps it for operators.
        throw new Problem('validation-error', 'the query is not a valid visibility query', {
          errors: [{ in: 'query', field: 'query', message: 'not a visibility query Temporal accepts (see docs/operations.md for the syntax)' }],
        });
      case 'reason-required':
        throw new Problem('validation-error', error.message, { errors: [{ in: 'body', field: 'reason', message: error.message }] });
    }
  }
}

export function opsRoutes({ authenticate, ops }: RouteContext): Router {
  const router = Router();
  const guard = authenticate(opsRoles);

  router.get('/v1/ops/flows', guard, async (req, res) => {
    const query = parseRequestPart(listFlowsQuerySchema, req.query, 'query');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await answering(() => ops.list(principalOf(req).userId, query)));
  });

  router.get('/v1/ops/flows/:workflowId', guard, async (req, res) => {
    const { workflowId } = parseRequestPart(flowPathSchema, req.params, 'path');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await answering(() => ops.show(principalOf(req).userId, workflowId)));
  });

  router.post('/v1/ops/flows/:workflowId/retry', guard, async (req, res) => {
    const { workflowId } = parseRequestPart(flowPathSchema, req.params, 'path');
    const body = parseRequestPart(retryBodySchema, req.body ?? {}, 'body');
    res.json(await answering(() => ops.retry(principalOf(req).userId, workflowId, body)));
  });

  router.post('/v1/ops/flows/:workflowId/reset', guard, async (req, res) => {
    const { workflowId } = parseRequestPart(flowPathSchema, req.params, 'path');
    const body = parseRequestPart(resetBodySchema, req.body ?? {}, 'body');
    res.json(await answering(() => ops.reset(principalOf(req).userId, workflowId, body)));
  });

  router.post('/v1/ops/batch-reset', guard, async (req, res) => {
    const body = parseRequestPart(batchResetBodySchema, req.body ?? {}, 'body');
    res.json(await answering(() => ops.batchReset(principalOf(req).userId, body)));
  });

  router.get('/v1/ops/audit', guard, async (req, res) => {
    const query = parseRequestPart(auditQuerySchema, req.query, 'query');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await ops.audit(query));
  });

  router.get('/v1/ops/notifications/failed', guard, async (req, res) => {
    const query = parseRequestPart(failedDeliveriesQuerySchema, req.query, 'query');
    res.setHeader('Cache-Control', 'no-store');
    res.json(await ops.failedDeliveries(query));
  });

  return router;
}
