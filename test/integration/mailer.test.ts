import { randomUUID } from 'node:crypto';
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
