import { spawn } from 'node:child_process';
import { portAnswers, waitFor } from './ports.js';

export interface QuietServer {
  stop(): Promise<void>;
}

/**
 * A helper server for the test stack (stripe-mock, the mail sink): started without output, ready
 * once every port answers; its last stderr lines are shown only if it fails to come up.
 */
export async function startQuietServer(spec: {
  name: string;
  command: string;
  args: string[];
  ports: number[];
}): Promise<QuietServer> {
  const child = spawn(spec.command, spec.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  try {
    await waitFor(
      spec.name,
      async () => {
        if (child.exitCode !== null) throw new Error(`${spec.name} exited: ${stderr}`);
        const answers = await Promise.all(spec.ports.map((port) => portAnswers('127.0.0.1', port)));
        return answers.every(Boolean);
      },
      30_000,
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
