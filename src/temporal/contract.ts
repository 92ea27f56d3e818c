/**
 * Names shared by the API, the worker and the workflows: workflow ids, updates, queries and
 * search attributes are defined here once. Workflows import this file, so it must stay free of
 * Node built-ins and I/O (define* helpers are pure).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { SignupStatus } from '../signups/status.js';

/** Workflow type names, as exported from workflows/index.ts. */
export const workflowTypes = {
  signup: 'signupWorkflow',
} as const;

export const workflowIds = {
  signup: (signupId: string) => `signup-${signupId}`,
} as const;

export const searchAttributes = {
  eventId: defineSearchAttributeKey('EventId', SearchAttributeType.KEYWORD),
  signupId: defineSearchAttributeKey('SignupId', SearchAttributeType.KEYWORD),
  signupStatus: defineSearchAttributeKey('SignupStatus', SearchAttributeType.KEYWORD),
  market: defineSearchAttributeKey('Market', SearchAttributeType.KEYWORD),
  flowKind: defineSearchAttributeKey('FlowKind', SearchAttributeType.KEYWORD),
} as const;

/** Every custom search attribute, for registering them on a server. */
export const allSearchAttributeKeys = Object.values(searchAttributes);

export const flowKinds = { signup: 'signup' } as const;

export interface SignupWorkflowInput {
  signupId: string;
  eventId: string;
  /** How long the seats stay held waiting for confirmation. */
  holdTimeoutSeconds: number;
}

export interface SignupWorkflowResult {
  signupId: string;
  status: SignupStatus;
}

/** The participant (or, later, the payment step) confirms the held seats. Answers the status reached. */
export const confirmSignupUpdate = defineUpdate<SignupStatus>('confirmSignup');
export const signupStatusQuery = defineQuery<SignupStatus>('signupStatus');
