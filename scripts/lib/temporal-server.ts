import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { allSearchAttributeKeys } from '../../src/temporal/contract.js';
import { freePort, waitFor } from './ports.js';
import { findOrBuildTemporalCli } from './tools.js';

export interface TemporalDevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  port?: number;
  /** Web UI port; no UI when undefined. */
  uiPort?: number;
  /** SQLite file for state that outlives the process; in memory when undefined. */
  dbFilename?: string;
  namespace?: string;
  log?: (line: string) => void;
}

/** The temporal CLI's spelling of each search attribute type. */
export const cliTypeNames: Record<string, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/**
 * Dynamic config of every dev server we start. `matching.useNewMatcher`: the priority-enabled task
 * matcher, which server 1.29 leaves off; without it a task's priority (a cancel's new workflow at 1,
 * the door-confirmations flows at 4) is accepted and ignored, and tasks are matched first in, first
 * out. docker-compose.yml sets the same for its server.
 */
export const dynamicConfigFlags = ['--dynamic-config-value', 'matching.useNewMatcher=true'];

export const searchAttributeFlags = allSearchAttributeKeys.flatMap((key) => [
  '--search-attribute',
  `${key.name}=${cliTypeNames[key.type]}`,
]);

/**
 * A real Temporal dev server with our search attributes registered: the CLI (found or built with
 * Go), or, on machines without either, the binary the SDK downloads.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const log = options.log ?? console.error;
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? (await freePort());
  const cli = findOrBuildTemporalCli(log);

  if (!cli) {
    log('no Temporal CLI and no Go: using the dev server binary the Temporal SDK downloads');
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port,
        namespace,
        ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
        ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
        searchAttributes: allSearchAttributeKeys,
        extraArgs: dynamicConfigFlags,
      },
    });
    return {
      address: env.address,
      namespace,
      uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
      stop: () => env.teardown(),
    };
  }

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...(options.uiPort ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    ...searchAttributeFlags,
    ...dynamicConfigFlags,
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const address = `127.0.0.1:${port}`;
  try {
    await waitFor('Temporal dev server', () => serverAnswers(address, namespace, child), 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${stderr}`, { cause: error });
  }
  return {
    address,
    namespace,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    stop: () => stopChild(child),
  };
}

async function serverAnswers(address: string, namespace: string, child: ChildProcess): Promise<boolean> {
  if (child.exitCode !== null) throw new Error(`temporal exited with code ${child.exitCode}`);
  return temporalAnswers(address, namespace);
}

/** Whether a Temporal server with this namespace answers at address. */
export async function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
