import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildWorker {
  pid: number;
  /** SIGKILL: the process dies on the spot, as in a crash or an OOM kill. */
  kill(): Promise<void>;
  /** SIGTERM: the SDK's graceful shutdown. */
  stop(): Promise<void>;
  /** The exit code (null when ended by a signal) and when the process ended. */
  exited: Promise<{ code: number | null; at: number }>;
}

const script = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/**
 * Starts test/support/worker-process.ts (under tsx) on the task queue, pointed at the test stack
 * through the environment jest's global setup filled in; resolves once it polls.
 */
export async function spawnWorker(taskQueue: string, timeoutMs = 30_000, extraEnv: Record<string, string> = {}): Promise<ChildWorker> {
  const env: NodeJS.ProcessEnv = { ...process.env, TEMPORAL_TASK_QUEUE: taskQueue, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...extraEnv };
  delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not for this process
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`worker process not ready within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${code ?? signal}) before it was ready: ${stderr}`));
    });
  });
  child.stdout.resume();
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return {
    pid: child.pid ?? -1,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    exited,
  };
}
