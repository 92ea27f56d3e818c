/**
 * Finds and repairs failed or stuck workflows (docs/operations.md). Every command is audited in
 * ops_audit with the actor ($USER, or --actor) and the reason.
 *   npm run ops -- list [--query '<visibility query>'] [--limit 100]
 *   npm run ops -- show <workflowId> [--events 20] [--json]
 *   npm run ops -- retry <workflowId> --reason '...'
 *   npm run ops -- reset <workflowId> --to last-workflow-task|first-workflow-task|<eventId> --reason '...'
 *   npm run ops -- batch-reset --query '...' --to ... --reason '...' [--limit 100]
 *   npm run ops -- audit [--target <workflowId>] [--limit 50]
 * Exits 1 when the operation failed (2 for a usage error).
 */
import { parseArgs } from 'node:util';
import { openOrm } from '../src/db/orm.js';
import { configOrExit } from '../src/main-support.js';
import { createOpsService, OpsError, resetPoints, type ResetPoint } from '../src/ops/service.js';
import { connectTemporalClient } from '../src/temporal/client.js';

const usage = `usage: npm run ops -- <command> [options]
  list [--query '<visibility query>'] [--limit n]     flows that failed, timed out or wait for an operator (default)
  show <workflowId> [--events n] [--json]              status, state, failures and the end of the history
  retry <workflowId> --reason '...'                    signal a waiting flow to try its step again
  reset <workflowId> --to <point> --reason '...'       point: last-workflow-task | first-workflow-task | <eventId>
  batch-reset --query '...' --to <point> --reason '...' [--limit n]
  audit [--target <workflowId>] [--limit n]            who did what, newest first
common: --actor <name> (default $USER)`;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      query: { type: 'string' },
      limit: { type: 'string' },
      events: { type: 'string' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
      to: { type: 'string' },
      actor: { type: 'string' },
      target: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  console.error(usage);
  process.exit(2);
}
const { values, positionals } = parsed;
const [command, workflowId] = positionals;

function fail(message: string, code = 2): never {
  console.error(message);
  if (code === 2) console.error(usage);
  process.exit(code);
}

function resetPoint(value: string | undefined): ResetPoint {
  if (!value) fail('--to is required');
  if ((resetPoints as readonly string[]).includes(value)) return value as ResetPoint;
  if (/^\d+$/.test(value)) return Number(value);
  fail(`--to must be ${resetPoints.join(', ')} or an event id, not ${value}`);
}

function reason(): string {
  const text = values.reason?.trim();
  if (!text) fail('--reason is required: say why (it is kept in the audit log)');
  return text;
}

function limit(fallback: number): number {
  if (values.limit === undefined) return fallback;
  if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1) fail('--limit must be a positive whole number');
  return Number(values.limit);
}

function needWorkflowId(): string {
  if (!workflowId) fail(`${command} needs a workflow id`);
  return workflowId;
}

/** Columns padded to their widest cell. */
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

if (values.help || !command) {
  console.log(usage);
  process.exit(command ? 0 : 2);
}
const commands = ['list', 'show', 'retry', 'reset', 'batch-reset', 'audit'];
if (!commands.includes(command)) fail(`unknown command ${command}`);

// Usage errors before any connection.
if (['show', 'retry', 'reset'].includes(command)) needWorkflowId();
if (['retry', 'reset', 'batch-reset'].includes(command)) reason();
if (['reset', 'batch-reset'].includes(command)) resetPoint(values.to);
if (command === 'batch-reset' && !values.query?.trim()) fail('batch-reset needs --query (name the flows explicitly)');
if (values.events !== undefined && !/^\d+$/.test(values.events)) fail('--events must be a whole number');
limit(1);

const config = configOrExit();
const actor = values.actor?.trim() || process.env.USER || process.env.LOGNAME || 'unknown';
const orm = await openOrm({ url: config.database.url, poolMax: 2 });
let temporal;
try {
  temporal = await connectTemporalClient(config.temporal);
} catch (error) {
  await orm.close(true);
  fail(`cannot reach Temporal at ${config.temporal.address}: ${error instanceof Error ? error.message : String(error)}`, 1);
}
const ops = createOpsService({ orm, temporal });

let exitCode = 0;
try {
  switch (command) {
    case 'list': {
      const result = await ops.list(actor, { query: values.query, limit: limit(100) });
      console.log(`query: ${result.query}\n`);
      console.log(
        table(
          ['workflow id', 'type', 'status', 'attention', 'started', 'closed'],
          result.items.map((flow) => [flow.workflowId, flow.type, flow.status, flow.attention ?? '', flow.startTime, flow.closeTime ?? '']),
        ),
      );
      console.log(`\n${result.items.length} flow(s)${result.truncated ? ` (more match: raise --limit)` : ''}`);
      break;
    }
    case 'show': {
      const events = values.events === undefined ? 20 : Number(values.events);
      const flow = await ops.show(actor, needWorkflowId(), { events });
      if (values.json) {
        console.log(JSON.stringify(flow, null, 2));
        break;
      }
      console.log(
        table(
          ['field', 'value'],
          [
            ['workflow id', flow.workflowId],
            ['run id', flow.runId],
            ['type', flow.type],
            ['status', flow.status],
            ['task queue', flow.taskQueue],
            ['started', flow.startTime],
            ['closed', flow.closeTime ?? ''],
            ['attention', flow.attention ?? ''],
            ['summary', flow.summary ?? ''],
            ['last failure', flow.lastFailure ?? ''],
            ['history length', String(flow.historyLength)],
            ...Object.entries(flow.searchAttributes).map(([name, value]) => [`attr ${name}`, Array.isArray(value) ? value.join(',') : String(value)]),
          ],
        ),
      );
      console.log(`\nstate: ${flow.state ? JSON.stringify(flow.state) : `(no answer: ${flow.stateError ?? 'unknown'})`}`);
      if (flow.pendingActivities.length) {
        console.log(`\npending activities:\n${table(['activity', 'attempt', 'last failure'], flow.pendingActivities.map((a) => [a.activityType, String(a.attempt), a.lastFailure ?? '']))}`);
      }
      if (flow.history.failures.length) {
        console.log(`\nfailures in the history:\n${table(['event', 'type', 'message'], flow.history.failures.map((f) => [String(f.eventId), f.type, f.message]))}`);
      }
      console.log(`\nlast ${flow.history.lastEvents.length} events:\n${table(['event', 'type', 'time'], flow.history.lastEvents.map((e) => [String(e.eventId), e.type, e.time ?? '']))}`);
      break;
    }
    case 'retry': {
      const result = await ops.retry(actor, needWorkflowId(), { reason: reason() });
      console.log(
        `signalled retryStep to ${result.workflowId} (run ${result.runId})` +
          (result.attention ? `; it was waiting on ${result.attention}` : '; note: it was not waiting on a step'),
      );
      break;
    }
    case 'reset': {
      const id = needWorkflowId();
      const result = await ops.reset(actor, id, { to: resetPoint(values.to), reason: reason() });
      console.log(`reset ${result.workflowId} to event ${result.workflowTaskFinishEventId}: run ${result.previousRunId} -> ${result.newRunId}`);
      break;
    }
    case 'batch-reset': {
      const result = await ops.batchReset(actor, { query: values.query ?? '', to: resetPoint(values.to), reason: reason(), limit: limit(100) });
      console.log(
        table(
          ['workflow id', 'outcome', 'new run id', 'message'],
          result.items.map((item) => [item.workflowId, item.outcome, item.newRunId ?? '', item.message ?? '']),
        ),
      );
      const failed = result.items.filter((item) => item.outcome === 'error').length;
      console.log(`\n${result.items.length} workflow(s), ${failed} failed${result.truncated ? ' (more matched: raise --limit)' : ''}`);
      if (failed > 0) exitCode = 1;
      break;
    }
    case 'audit': {
      const page = await ops.audit({ limit: limit(50), target: values.target });
      console.log(
        table(
          ['at', 'actor', 'action', 'target', 'reason', 'outcome', 'message'],
          page.items.map((entry) => [entry.at, entry.actor, entry.action, entry.target, entry.reason ?? '', entry.outcome, entry.message ?? '']),
        ),
      );
      break;
    }
  }
} catch (error) {
  exitCode = 1;
  console.error(error instanceof OpsError ? `${command} failed: ${error.message}` : error);
} finally {
  await temporal.connection.close();
  await orm.close(true);
}
process.exit(exitCode);
