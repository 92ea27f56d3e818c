import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { styleText } from 'node:util';

/**
 * Child processes for the dev runner: started with their output prefixed line by line, stopped
 * as a whole process group (so `tsx` and the node process it starts go together).
 */

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface ManagedProcess {
  name: string;
  /** Settles when the process has exited (or could not be started). */
  exited: Promise<ExitStatus>;
  /** Whether stop() was called, i.e. whether an exit is expected. */
  stopRequested(): boolean;
  hasExited(): boolean;
  /** SIGTERM to the process group, SIGKILL if it is still there after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const labelColors = ['cyan', 'magenta', 'yellow', 'green', 'blue', 'red'] as const;
let nextColor = 0;

/** `[name]` padded so that the lines of all processes line up; coloured when the terminal shows colours. */
export function label(name: string, color?: (typeof labelColors)[number]): string {
  const text = `[${name}]`.padEnd(11);
  return styleText(color ?? labelColors[nextColor++ % labelColors.length]!, text);
}

/** Copies a stream to `out` with `prefix` in front of each line. */
export function prefixLines(stream: Readable, prefix: string, out: Writable): void {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => out.write(`${prefix}${line}\n`));
}

export function startProcess(spec: ProcessSpec): ManagedProcess {
  // A process group of its own: stopping signals the whole group, so no grandchild outlives it.
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = label(spec.name);
  prefixLines(child.stdout, prefix, process.stdout);
  prefixLines(child.stderr, prefix, process.stderr);

  let exitStatus: ExitStatus | undefined;
  let stopping = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitStatus = { code, signal })));
    child.once('error', (error) => resolve((exitStatus = { code: null, signal: null, error })));
  });

  return {
    name: spec.name,
    exited,
    stopRequested: () => stopping,
    hasExited: () => exitStatus !== undefined,
    async stop(timeoutMs = 10_000) {
      stopping = true;
      if (child.pid === undefined) return;
      if (!exitStatus) await signalGroupAndWait(child.pid, exited, timeoutMs);
      await reapGroup(child.pid);
    },
  };
}

async function signalGroupAndWait(pgid: number, exited: Promise<ExitStatus>, timeoutMs: number): Promise<void> {
  signalGroup(pgid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(pgid, 'SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** The group leader is gone; give what else was in its group a moment, then kill it. */
async function reapGroup(pgid: number): Promise<void> {
  for (let i = 0; i < 20 && groupAlive(pgid); i++) await sleep(100);
  signalGroup(pgid, 'SIGKILL');
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function describeExit(status: ExitStatus): string {
  if (status.error) return `could not start: ${status.error.message}`;
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

const STACK_MARKER = 'EVENTBOOK_DEV_STACK';
const forwardedSignals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Ctrl-C in a terminal sends SIGINT to every process of the foreground process group at once,
 * including the Temporal server and PostgreSQL that libraries start for us: they would all stop
 * together, under the feet of the API and the worker. So the stack runs as a copy of this script
 * in a process group of its own, and this front process only passes the request to stop on (over
 * IPC) and exits with the stack's exit code.
 *
 * Returns in the stack process; never returns in the front process.
 */
export async function runInOwnProcessGroup(): Promise<void> {
  if (process.env[STACK_MARKER]) {
    delete process.env[STACK_MARKER];
    return;
  }
  const stack = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [STACK_MARKER]: '1' },
  });
  for (const signal of forwardedSignals) {
    process.on(signal, () => {
      if (stack.connected) stack.send({ stop: signal });
    });
  }
  const [code, signal] = (await once(stack, 'exit')) as [number | null, NodeJS.Signals | null];
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
}

/**
 * Calls `stop` when the front process asks for it, when the front process is gone (its IPC channel
 * closes), or on a signal sent to the stack process itself.
 */
export function onStopRequest(stop: (reason: string) => void): void {
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'stop' in message) stop(String(message.stop));
  });
  process.on('disconnect', () => stop('the dev command went away'));
  for (const signal of forwardedSignals) process.on(signal, () => stop(signal));
}
