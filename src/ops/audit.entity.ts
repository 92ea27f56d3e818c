import { defineEntity, p } from '@mikro-orm/core';

export const opsActions = ['list', 'show', 'retry', 'reset', 'batch-reset'] as const;
export type OpsAction = (typeof opsActions)[number];
export const opsOutcomes = ['ok', 'error'] as const;
export type OpsOutcome = (typeof opsOutcomes)[number];

/**
 * One row per operator action on workflows (src/ops/service.ts), whether it worked or not: who
 * (`actor`: the token's subject, or $USER / --actor on the CLI), what (`action` on `target`: a
 * workflow id, or the visibility query of a list or batch reset) and why (`reason`, required for
 * anything that changes a flow). Never updated or deleted by the application.
 */
export const OpsAuditSchema = defineEntity({
  name: 'OpsAudit',
  tableName: 'ops_audit',
  indexes: [{ properties: ['at', 'id'] }, { properties: ['target'] }],
  properties: {
    id: p.uuid().primary(),
    at: p.datetime().onCreate(() => new Date()),
    actor: p.string().length(200),
    action: p.enum(opsActions),
    /** The workflow id, or the query for list and batch-reset. */
    target: p.text(),
    reason: p.text().nullable(),
    outcome: p.enum(opsOutcomes),
    /** What happened: the new run id of a reset, or the error. */
    message: p.text().nullable(),
  },
});

export class OpsAudit extends OpsAuditSchema.class {}
OpsAuditSchema.setClass(OpsAudit);
