import { defineEntity, p } from '@mikro-orm/core';
import type { SignupWorkflowInput } from '../temporal/contract.js';
import { Signup } from './signup.entity.js';
import { signupStatuses } from './status.js';

/**
 * The outbox of signup workflows: a row is written in the transaction that records the signup and
 * deleted once Temporal has the workflow (src/signups/workflow-starts.ts). A row still here is a
 * workflow not started yet: the API answered at its commit, and a starter is on it (or will retry).
 * A row with `doorFlowId` stays: its signup was confirmed at the door and that door-confirmations
 * flow stands for it until something needs its own workflow (started from this row, then deleted).
 */
export const SignupWorkflowStartSchema = defineEntity({
  name: 'SignupWorkflowStart',
  tableName: 'signup_workflow_start',
  indexes: [{ name: 'signup_workflow_start_due_idx', properties: ['nextAttemptAt'] }],
  properties: {
    signup: () => p.oneToOne(Signup).primary().deleteRule('cascade'),
    workflowId: p.string().length(200),
    /** Stored so any API process starts it on the queue its own workers serve. */
    taskQueue: p.string().length(200),
    input: p.json<SignupWorkflowInput>(),
    /** The status the signup had at its commit: its first SignupStatus search attribute. */
    status: p.enum(signupStatuses),
    market: p.string().length(8),
    /** The Temporal memo's one-line summary, shown in the UI's list of workflows. */
    summary: p.text(),
    attempts: p.integer().default(0),
    /** When a sweep may take the row: shortly after the commit (the API's own attempt comes first), then backing off. */
    nextAttemptAt: p.datetime(),
    lastError: p.text().nullable(),
    /** The door-confirmations flow standing for the signup (workflows/door-confirmations.ts); its row is then never due. */
    doorFlowId: p.string().length(200).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export class SignupWorkflowStart extends SignupWorkflowStartSchema.class {}
SignupWorkflowStartSchema.setClass(SignupWorkflowStart);
