import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { startQuietServer } from './quiet-server.js';

/**
 * maildev's command line: a real SMTP server that keeps what it receives, with a web UI and a REST
 * API (GET /email) on the web port. Run with the node that runs us: the bin script's
 * `#!/usr/bin/env node` may find an older one.
 */
export function maildevCommand(repoRoot: string, ports: { smtp: number; web: number }, mailDir: string) {
  return {
    command: process.execPath,
    args: [
      join(repoRoot, 'node_modules/maildev/bin/maildev'),
      ...['--smtp', String(ports.smtp), '--web', String(ports.web), '--ip', '127.0.0.1'],
      ...['--mail-directory', mailDir],
    ],
  };
}

/** The mail sink for the test stack; its mail is kept in a temporary folder. */
export async function startQuietMailSink(repoRoot: string) {
  const ports = { smtp: await freePort(), web: await freePort() };
  const mailDir = mkdtempSync(join(tmpdir(), 'eventbook-mail-'));
  const server = await startQuietServer({
    name: 'maildev',
    ...maildevCommand(repoRoot, ports, mailDir),
    ports: [ports.smtp, ports.web],
  });
  return { smtpPort: ports.smtp, webUrl: `http://127.0.0.1:${ports.web}`, stop: () => server.stop() };
}
