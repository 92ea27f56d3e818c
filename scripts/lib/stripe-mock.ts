import { spawn } from 'node:child_process';
import { freePort, portAnswers, waitFor } from './ports.js';

/**
 * stripe-mock's command line. Given only an HTTP address it also serves HTTPS on all interfaces,
 * so both stay on loopback (an empty HTTPS port lets the OS choose one).
 */
export function stripeMockArgs(port: number): string[] {
  return ['-http-addr', `127.0.0.1:${port}`, '-https-addr', '127.0.0.1:'];
}

/** stripe-mock for the test stack: no output unless it fails to start. */
export async function startQuietStripeMock(binary: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(binary, stripeMockArgs(port), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    await waitFor('stripe-mock', async () => {
      if (child.exitCode !== null) throw new Error(`stripe-mock exited: ${stderr}`);
      return portAnswers('127.0.0.1', port);
    }, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
