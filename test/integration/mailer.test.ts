import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import { createMailer } from '../../src/notifications/mailer.js';
import { renderNotification } from '../../src/notifications/render.js';
import { mailTo } from '../support/mailbox.js';
import { eventually, testConfig } from '../support/stack.js';

const mailer = createMailer(testConfig().smtp);
afterAll(() => mailer.close());

describe('mail through a real SMTP sink', () => {
  it('delivers the rendered message with text, HTML and our notification key', async () => {
    const to = `parent-${randomUUID()}@example.test`;
    const message = renderNotification({
      kind: 'confirmation',
      locale: 'en',
      context: { timezone: 'Europe/Oslo', event: { title: 'Robot day', startsAt: '2027-05-01T08:00:00Z' }, tickets: [] },
    });
    await mailer.send({ to, ...message, notificationKey: `confirmation:${to}` });

    const [received, ...more] = await eventually('the mail', async () => {
      const mails = await mailTo(to);
      return mails.length ? mails : undefined;
    });
    expect(more).toHaveLength(0);
    expect(received?.subject).toBe("You're in: Robot day");
    expect(received?.text).toContain('See you at Robot day');
    expect(received?.html).toContain('<p>See you at Robot day');
    expect(received?.headers['x-eventbook-notification']).toBe(`confirmation:${to}`);
  });
});

describe('an SMTP server that hangs', () => {
  /** Takes connections and, after `greeting` (if any), never says another word. */
  async function silentServer(greeting?: string): Promise<{ server: Server; port: number; sockets: Socket[] }> {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      if (greeting) socket.write(greeting);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, port: (server.address() as AddressInfo).port, sockets };
  }

  // Without SMTP_TIMEOUT_SECONDS, nodemailer waited 30 s for a greeting and 10 minutes on a silent
  // socket: longer than these tests (and the mail activity) may take.
  it.each([
    ['never greets', undefined],
    ['greets, then never answers EHLO', '220 hang.example.test ESMTP\r\n'],
  ])('fails the send within SMTP_TIMEOUT_SECONDS when it %s', async (_, greeting) => {
    const { server, port, sockets } = await silentServer(greeting);
    const hanging = createMailer({ ...testConfig({ SMTP_TIMEOUT_SECONDS: '1' }).smtp, host: '127.0.0.1', port });
    try {
      await expect(
        hanging.send({ to: `hang-${randomUUID()}@example.test`, subject: 's', text: 't', html: '<p>t</p>', notificationKey: 'k' }),
      ).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    } finally {
      hanging.close();
      for (const socket of sockets) socket.destroy();
      server.close();
    }
  }, 8_000);
});
