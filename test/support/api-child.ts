import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildApi {
  pid: number;
  baseUrl: string;
  /** SIGKILL: the process dies on the spot, as in a crash or an OOM kill. */
  kill(): Promise<void>;
}

const script = fileURLToPath(new URL('./api-process.ts', import.meta.url));

/**
 * Starts test/support/api-process.ts (under tsx), pointed at the test stack through the environment
 * jest's global setup filled in (plus `env`); resolves with its address once it listens.
 */
export async function spawnApi(env: Record<string, string>, timeoutMs = 30_000): Promise<ChildApi> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...env };
  delete childEnv.NODE_OPTIONS; // jest's --experimental-vm-modules is not for this process
  const child = spawn(process.execPath, ['--import', 'tsx', script], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`API process not ready within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const ready = /ready (\d+)/.exec(stdout);
      if (ready) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`API process exited (${code ?? signal}) before it was ready: ${stderr}`));
    });
  });
  child.stdout.resume();
  return {
    pid: child.pid ?? -1,
    baseUrl: `http://127.0.0.1:${port}`,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
