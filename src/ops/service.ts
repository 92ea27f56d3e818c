import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  isGrpcServiceError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionInfo,
} from '@temporalio/client';
import {
  eventLifecycleQuery,
  retryStepSignal,
  searchAttributes,
  signupProgressQuery,
  workflowTypes,
} from '../temporal/contract.js';
import { NotificationLog } from '../notifications/notification-log.entity.js';
import { OpsAudit, type OpsAction } from './audit.entity.js';

/**
 * Operations on workflows that went wrong (docs/operations.md): find them, look inside, ask a
 * waiting one to try its step again, or reset one to a workflow task. Every call is written to
 * `ops_audit`, whether it worked or not: who, what, why. Used by `npm run ops` and /v1/ops/*.
 */

/** Flows that failed, timed out, or wait for an operator (`Attention` names the stuck step). */
export const defaultFlowQuery = `ExecutionStatus = "Failed" OR ExecutionStatus = "TimedOut" OR ${searchAttributes.attention.name} IS NOT NULL`;

export const resetPoints = ['last-workflow-task', 'first-workflow-task'] as const;
/** A named point, or the id of a WorkflowTaskCompleted (or Failed / TimedOut) event. */
export type ResetPoint = (typeof resetPoints)[number] | number;

export type SearchAttributeValueView = string | number | boolean | string[];

export interface FlowSummary {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime: string | null;
  /** The step a flow waits on an operator for (search attribute `Attention`). */
  attention: string | null;
  searchAttributes: Record<string, SearchAttributeValueView>;
}

export interface FlowList {
  query: string;
  items: FlowSummary[];
  /** More flows matched than `limit`. */
  truncated: boolean;
}

export interface HistoryEventView {
  eventId: number;
  type: string;
  time: string | null;
}

export interface HistoryFailureView {
  eventId: number;
  type: string;
  message: string;
}

export interface PendingActivityView {
  activityType: string;
  attempt: number;
  lastFailure: string | null;
}

export interface FlowDetail extends FlowSummary {
  taskQueue: string;
  historyLength: number;
  /** The memo's one-line summary (signups: seats, title, price). */
  summary: string | null;
  /** The workflow's own answer (signupProgress / eventLifecycle query); null when it could not answer. */
  state: Record<string, unknown> | null;
  stateError: string | null;
  /** The most recent failure message: a pending activity's last attempt, else the last failure in the history. */
  lastFailure: string | null;
  pendingActivities: PendingActivityView[];
  history: { lastEvents: HistoryEventView[]; failures: HistoryFailureView[] };
}

export interface RetryResult {
  workflowId: string;
  runId: string;
  /** The step the flow waited on when signalled (null: it was not waiting; the signal is recorded anyway). */
  attention: string | null;
}

export interface ResetResult {
  workflowId: string;
  previousRunId: string;
  newRunId: string;
  /** The workflow task the new run starts again from. */
  workflowTaskFinishEventId: number;
}

export interface BatchResetItem {
  workflowId: string;
  runId: string;
  outcome: 'ok' | 'error' | 'skipped';
  newRunId: string | null;
  message: string | null;
}

export interface BatchResetResult {
  query: string;
  items: BatchResetItem[];
  truncated: boolean;
}

export interface AuditView {
  id: string;
  at: string;
  actor: string;
  action: OpsAction;
  target: string;
  reason: string | null;
  outcome: 'ok' | 'error';
  message: string | null;
}

export interface AuditPage {
  items: AuditView[];
  nextCursor: string | null;
}

/** A notification given up on for one recipient and channel (a fan-out's bounded retries ran out). */
export interface FailedDeliveryView {
  key: string;
  kind: string;
  channel: string;
  eventId: string | null;
  signupId: string | null;
  recipientUserId: string;
  attempts: number;
  lastError: string | null;
  failedAt: string;
}

export interface FailedDeliveryPage {
  items: FailedDeliveryView[];
  /** More matched than `limit`. */
  truncated: boolean;
}

export type OpsErrorKind = 'not-found' | 'not-running' | 'changed-meanwhile' | 'bad-reset-point' | 'bad-query' | 'reason-required';

export class OpsError extends Error {
  constructor(
    readonly kind: OpsErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}

export interface OpsService {
  list(actor: string, options?: { query?: string; limit?: number }): Promise<FlowList>;
  show(actor: string, workflowId: string, options?: { events?: number }): Promise<FlowDetail>;
  retry(actor: string, workflowId: string, options: { reason: string }): Promise<RetryResult>;
  reset(actor: string, workflowId: string, options: { to: ResetPoint; reason: string }): Promise<ResetResult>;
  batchReset(actor: string, options: { query: string; to: ResetPoint; reason: string; limit?: number }): Promise<BatchResetResult>;
  audit(options?: { limit?: number; cursor?: string; target?: string }): Promise<AuditPage>;
  failedDeliveries(options?: { limit?: number; eventId?: string }): Promise<FailedDeliveryPage>;
}

const QUERY_TIMEOUT_MS = 5_000;
const MAX_LIST = 1_000;

export function createOpsService(deps: { temporal: Client; orm: MikroORM }): OpsService {
  const { temporal, orm } = deps;

  async function record(entry: { actor: string; action: OpsAction; target: string; reason?: string; outcome: 'ok' | 'error'; message?: string }) {
    const em = orm.em.fork();
    em.create(OpsAudit, {
      id: randomUUID(),
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      reason: entry.reason ?? null,
      outcome: entry.outcome,
      message: entry.message ?? null,
    });
    await em.flush();
  }

  /** Runs an operation and audits it either way; `describe` says what went well. */
  async function audited<T>(
    entry: { actor: string; action: OpsAction; target: string; reason?: string },
    run: () => Promise<T>,
    describe: (result: T) => string | undefined = () => undefined,
  ): Promise<T> {
    if (entry.action !== 'list' && entry.action !== 'show' && !entry.reason?.trim()) {
      await record({ ...entry, outcome: 'error', message: 'reason required' });
      throw new OpsError('reason-required', `${entry.action} needs a reason`);
    }
    let result: T;
    try {
      result = await run();
    } catch (error) {
      await record({ ...entry, outcome: 'error', message: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    await record({ ...entry, outcome: 'ok', message: describe(result) });
    return result;
  }

  async function describeFlow(workflowId: string): Promise<WorkflowExecutionDescription> {
    try {
      return await temporal.workflow.getHandle(workflowId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new OpsError('not-found', `no workflow ${workflowId}`);
      throw error;
    }
  }

  async function listFlows(query: string, limit: number): Promise<{ items: FlowSummary[]; truncated: boolean }> {
    const items: FlowSummary[] = [];
    try {
      for await (const info of temporal.workflow.list({ query, pageSize: Math.min(limit + 1, MAX_LIST) })) {
        if (items.length === limit) return { items, truncated: true };
        items.push(summaryOf(info));
      }
    } catch (error) {
      const cause = error instanceof Error ? (error.cause ?? error) : error;
      if (isGrpcServiceError(cause) && Number(cause.code) === 3 /* INVALID_ARGUMENT */) throw new OpsError('bad-query', cause.details || cause.message);
      throw error;
    }
    return { items, truncated: false };
  }

  /**
   * Another operator's reset or retry (or the flow itself) may end the run between our describe
   * and our call: Temporal then answers that the run is not found or already completed. That is a
   * conflict to report (read the flow again), not a failure of ours.
   */
  async function againstCurrentRun<T>(workflowId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      const cause = error instanceof Error ? (error.cause ?? error) : error;
      const code = isGrpcServiceError(cause) ? Number(cause.code) : undefined;
      // NOT_FOUND (5), ALREADY_EXISTS (6), FAILED_PRECONDITION (9)
      if (error instanceof WorkflowNotFoundError || code === 5 || code === 6 || code === 9) {
        throw new OpsError('changed-meanwhile', `workflow ${workflowId} changed while this ran (another reset or retry?): read it again`);
      }
      throw error;
    }
  }

  async function resetFlow(workflowId: string, to: ResetPoint, reason: string, expectedRunId?: string): Promise<ResetResult> {
    const description = await describeFlow(workflowId);
    if (expectedRunId && description.runId !== expectedRunId) {
      throw new OpsError('not-running', `a newer run (${description.runId}) exists; not reset again`);
    }
    const history = await againstCurrentRun(workflowId, () => temporal.workflow.getHandle(workflowId, description.runId).fetchHistory());
    const events = (history.events ?? []).map((event) => ({ eventId: eventIdOf(event), type: eventTypeOf(event) }));
    const workflowTaskFinishEventId = resetEventId(events, to);
    type ResetRequest = Parameters<Client['workflowService']['resetWorkflowExecution']>[0];
    const request: ResetRequest = {
      namespace: temporal.options.namespace,
      workflowExecution: { workflowId, runId: description.runId },
      reason,
      // protobufjs encodes a plain number as int64; the type only names Long.
      workflowTaskFinishEventId: workflowTaskFinishEventId as unknown as ResetRequest['workflowTaskFinishEventId'],
      requestId: randomUUID(),
    };
    const response = (await againstCurrentRun(workflowId, () => temporal.workflowService.resetWorkflowExecution(request))) as { runId?: string | null };
    return { workflowId, previousRunId: description.runId, newRunId: response.runId ?? '', workflowTaskFinishEventId };
  }

  return {
    list(actor, options = {}) {
      const query = options.query?.trim() || defaultFlowQuery;
      const limit = Math.min(options.limit ?? 100, MAX_LIST);
      return audited(
        { actor, action: 'list', target: query },
        async () => ({ query, ...(await listFlows(query, limit)) }),
        (result) => `${result.items.length} flow(s)${result.truncated ? ', truncated' : ''}`,
      );
    },

    show(actor, workflowId, options = {}) {
      return audited({ actor, action: 'show', target: workflowId }, async () => {
        const description = await describeFlow(workflowId);
        const handle = temporal.workflow.getHandle(workflowId, description.runId);
        const [history, state] = await Promise.all([handle.fetchHistory(), queryState(temporal, description)]);
        const events = history.events ?? [];
        const failures = events.flatMap((event) => {
          const message = failureMessageOf(event);
          return message === undefined ? [] : [{ eventId: eventIdOf(event), type: eventTypeOf(event), message }];
        });
        const pendingActivities = (description.raw.pendingActivities ?? []).map((activity) => ({
          activityType: activity.activityType?.name ?? '?',
          attempt: activity.attempt ?? 0,
          lastFailure: activity.lastFailure?.message ?? null,
        }));
        const summary = description.memo?.summary;
        return {
          ...summaryOf(description),
          taskQueue: description.taskQueue,
          historyLength: events.length,
          summary: typeof summary === 'string' ? summary : null,
          state: state.value,
          stateError: state.error,
          lastFailure: pendingActivities.find((activity) => activity.lastFailure)?.lastFailure ?? failures.at(-1)?.message ?? null,
          pendingActivities,
          history: {
            lastEvents: events.slice(-(options.events ?? 20)).map((event) => ({
              eventId: eventIdOf(event),
              type: eventTypeOf(event),
              time: event.eventTime ? timestampToIso(event.eventTime) : null,
            })),
            failures: failures.slice(-10),
          },
        };
      });
    },

    retry(actor, workflowId, { reason }) {
      return audited(
        { actor, action: 'retry', target: workflowId, reason },
        async () => {
          const description = await describeFlow(workflowId);
          if (description.status.name !== 'RUNNING') {
            throw new OpsError('not-running', `workflow ${workflowId} is ${description.status.name.toLowerCase()}: nothing waits for a retry (reset it instead)`);
          }
          await againstCurrentRun(workflowId, () => temporal.workflow.getHandle(workflowId, description.runId).signal(retryStepSignal));
          return { workflowId, runId: description.runId, attention: summaryOf(description).attention };
        },
        (result) => (result.attention ? `signalled while waiting on ${result.attention}` : 'signalled (it was not waiting on a step)'),
      );
    },

    reset(actor, workflowId, { to, reason }) {
      return audited(
        { actor, action: 'reset', target: workflowId, reason },
        () => resetFlow(workflowId, to, reason),
        (result) => `to event ${result.workflowTaskFinishEventId}: run ${result.previousRunId} -> ${result.newRunId}`,
      );
    },

    batchReset(actor, { query, to, reason, limit }) {
      return audited(
        { actor, action: 'batch-reset', target: query, reason },
        async () => {
          const listed = await listFlows(query, Math.min(limit ?? 100, MAX_LIST));
          const seen = new Set<string>();
          const items: BatchResetItem[] = [];
          for (const flow of listed.items) {
            if (seen.has(flow.workflowId)) continue; // several runs of one workflow matched: the newest decides
            seen.add(flow.workflowId);
            const target = { actor, action: 'reset' as const, target: flow.workflowId, reason };
            try {
              const result = await audited(target, () => resetFlow(flow.workflowId, to, reason, flow.runId));
              items.push({ workflowId: flow.workflowId, runId: flow.runId, outcome: 'ok', newRunId: result.newRunId, message: null });
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              const skipped = error instanceof OpsError && (error.kind === 'not-running' || error.kind === 'changed-meanwhile');
              items.push({ workflowId: flow.workflowId, runId: flow.runId, outcome: skipped ? 'skipped' : 'error', newRunId: null, message });
            }
          }
          return { query, items, truncated: listed.truncated };
        },
        (result) => {
          const count = (outcome: BatchResetItem['outcome']) => result.items.filter((item) => item.outcome === outcome).length;
          return `${count('ok')} reset, ${count('error')} failed, ${count('skipped')} skipped`;
        },
      );
    },

    async audit(options = {}) {
      const em = orm.em.fork();
      const limit = Math.min(options.limit ?? 50, 200);
      const after = options.cursor ? await em.findOne(OpsAudit, options.cursor) : null;
      const rows = await em.find(
        OpsAudit,
        {
          ...(options.target ? { target: options.target } : {}),
          ...(after ? { $or: [{ at: { $lt: after.at } }, { at: after.at, id: { $lt: after.id } }] } : {}),
        },
        { orderBy: { at: 'desc', id: 'desc' }, limit: limit + 1 },
      );
      const page = rows.slice(0, limit);
      return {
        items: page.map((row) => ({
          id: row.id,
          at: row.at.toISOString(),
          actor: row.actor,
          action: row.action,
          target: row.target,
          reason: row.reason ?? null,
          outcome: row.outcome,
          message: row.message ?? null,
        })),
        nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },

    async failedDeliveries(options = {}) {
      const limit = Math.min(options.limit ?? 100, 1000);
      const rows = await orm.em.fork().find(
        NotificationLog,
        { state: 'failed', ...(options.eventId ? { eventId: options.eventId } : {}) },
        { orderBy: { failedAt: 'desc', id: 'desc' }, limit: limit + 1 },
      );
      return {
        items: rows.slice(0, limit).map((row) => ({
          key: row.key,
          kind: row.kind,
          channel: row.channel,
          eventId: row.eventId ?? null,
          signupId: row.signupId ?? null,
          recipientUserId: row.recipientUserId,
          attempts: row.attempts,
          lastError: row.lastError ?? null,
          failedAt: (row.failedAt ?? row.createdAt).toISOString(),
        })),
        truncated: rows.length > limit,
      };
    },
  };
}

function summaryOf(info: WorkflowExecutionInfo | WorkflowExecutionDescription): FlowSummary {
  const attributes: Record<string, SearchAttributeValueView> = {};
  for (const pair of info.typedSearchAttributes.getAll()) {
    const value: unknown = pair.value;
    if (value instanceof Date) attributes[pair.key.name] = value.toISOString();
    else if (Array.isArray(value)) attributes[pair.key.name] = value.map(String);
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') attributes[pair.key.name] = value;
  }
  const attention = info.typedSearchAttributes.get(searchAttributes.attention);
  return {
    workflowId: info.workflowId,
    runId: info.runId,
    type: info.type,
    status: info.status.name,
    startTime: info.startTime.toISOString(),
    closeTime: info.closeTime?.toISOString() ?? null,
    attention: attention ?? null,
    searchAttributes: attributes,
  };
}

/** The workflow's own view of itself; a closed workflow with no worker, or a stuck one, may not answer. */
async function queryState(
  temporal: Client,
  description: WorkflowExecutionDescription,
): Promise<{ value: Record<string, unknown> | null; error: string | null }> {
  const handle = temporal.workflow.getHandle(description.workflowId, description.runId);
  const query: (() => Promise<object>) | undefined =
    description.type === workflowTypes.signup
      ? () => handle.query(signupProgressQuery)
      : description.type === workflowTypes.eventLifecycle
        ? () => handle.query(eventLifecycleQuery)
        : undefined;
  if (!query) return { value: null, error: `no query known for workflow type ${description.type}` };
  try {
    const value = await temporal.withDeadline(Date.now() + QUERY_TIMEOUT_MS, query);
    return { value: { ...value }, error: null };
  } catch (error) {
    return { value: null, error: error instanceof Error ? error.message : String(error) };
  }
}

type HistoryEvent = NonNullable<Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>['events']>[number];

function eventIdOf(event: HistoryEvent): number {
  return Number(event.eventId?.toString() ?? 0);
}

/** `WorkflowTaskCompleted` from the event's attributes field (no proto enum import needed). */
export function eventTypeOf(event: HistoryEvent): string {
  const record = event as unknown as Record<string, unknown>;
  const oneof = typeof record.attributes === 'string' ? record.attributes : undefined;
  const field =
    oneof ?? Object.keys(record).find((key) => key.endsWith('EventAttributes') && record[key] !== null && record[key] !== undefined);
  if (!field) return `Unknown(${String(event.eventType)})`;
  const name = field.replace(/EventAttributes$/, '');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function failureMessageOf(event: HistoryEvent): string | undefined {
  const failure =
    event.activityTaskFailedEventAttributes?.failure ??
    event.workflowTaskFailedEventAttributes?.failure ??
    event.workflowExecutionFailedEventAttributes?.failure ??
    event.activityTaskTimedOutEventAttributes?.failure;
  if (event.workflowExecutionTimedOutEventAttributes) return 'workflow execution timed out';
  if (!failure) return undefined;
  const cause = failure.cause?.message;
  return cause && cause !== failure.message ? `${failure.message ?? ''}: ${cause}` : (failure.message ?? '');
}

function timestampToIso(time: { seconds?: { toString(): string } | number | null; nanos?: number | null }): string {
  const millis = Number(time.seconds?.toString() ?? 0) * 1000 + Math.floor((time.nanos ?? 0) / 1_000_000);
  return new Date(millis).toISOString();
}

const workflowTaskEnds = ['WorkflowTaskCompleted', 'WorkflowTaskFailed', 'WorkflowTaskTimedOut'];

/** The WorkflowTaskCompleted (or Failed / TimedOut) event a reset goes back to. */
export function resetEventId(events: { eventId: number; type: string }[], to: ResetPoint): number {
  const completed = events.filter((event) => event.type === 'WorkflowTaskCompleted');
  if (to === 'first-workflow-task' || to === 'last-workflow-task') {
    const chosen = to === 'first-workflow-task' ? completed[0] : completed.at(-1);
    if (!chosen) throw new OpsError('bad-reset-point', 'the workflow has not completed a workflow task yet: nothing to reset to');
    return chosen.eventId;
  }
  const event = events.find((candidate) => candidate.eventId === to);
  if (!event) throw new OpsError('bad-reset-point', `the history has no event ${to} (it has ${events.length})`);
  if (workflowTaskEnds.includes(event.type)) return event.eventId;
  const before = completed.filter((candidate) => candidate.eventId < to).at(-1);
  throw new OpsError(
    'bad-reset-point',
    `event ${to} is ${event.type}, not the end of a workflow task${before ? `; the last WorkflowTaskCompleted before it is event ${before.eventId}` : ''}`,
  );
}
