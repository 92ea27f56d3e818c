/**
 * Replays recorded workflow histories against workflow code, as the worker would on recovery.
 *   npm run replay [-- --workflows test/fixtures/other.ts] [history.json ...]
 * Without files it takes every test/histories/*.json; without --workflows, the real worker's
 * workflows (src/temporal/worker.ts). Prints one line per history; exits 1 if any fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createLogger } from '../src/logger.js';
import { installTemporalRuntime } from '../src/temporal/runtime.js';
import { workflowsPath } from '../src/temporal/worker.js';

installTemporalRuntime(createLogger('warn', 'replay'), 'WARN');

const { values, positionals } = parseArgs({ options: { workflows: { type: 'string' } }, allowPositionals: true });
const historiesDir = join(process.cwd(), 'test/histories');
const files = positionals.length
  ? positionals
  : readdirSync(historiesDir)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => join(historiesDir, file));

const quiet = () => {};
const bundle = await bundleWorkflowCode({
  workflowsPath: values.workflows ? resolve(values.workflows) : workflowsPath(),
  logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (message) => console.error(message), log: quiet },
});

let failed = 0;
for (const file of files) {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { workflowId: string; history: unknown };
  try {
    await Worker.runReplayHistory({ workflowBundle: bundle }, saved.history, saved.workflowId);
    console.log(`ok    ${file}`);
  } catch (error) {
    failed++;
    const name = error instanceof Error ? error.name : 'Error';
    console.log(`FAIL  ${file}: ${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}
process.exit(failed ? 1 : 0);
