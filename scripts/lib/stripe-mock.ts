import { freePort } from './ports.js';
import { startQuietServer } from './quiet-server.js';

/**
 * stripe-mock's command line. Given only an HTTP address it also serves HTTPS on all interfaces,
 * so both stay on loopback (an empty HTTPS port lets the OS choose one).
 */
export function stripeMockArgs(port: number): string[] {
  return ['-http-addr', `127.0.0.1:${port}`, '-https-addr', '127.0.0.1:'];
}

/** stripe-mock for the test stack. */
export async function startQuietStripeMock(binary: string): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const server = await startQuietServer({ name: 'stripe-mock', command: binary, args: stripeMockArgs(port), ports: [port] });
  return { url: `http://127.0.0.1:${port}`, stop: () => server.stop() };
}
