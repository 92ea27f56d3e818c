import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MikroORM } from '../../src/db/orm.js';
import { createMailer } from '../../src/notifications/mailer.js';
import { NotificationLog } from '../../src/notifications/notification-log.entity.js';
import { sendNotificationOnce, type NotificationRequest } from '../../src/notifications/send.js';
import { mailTo } from '../support/mailbox.js';
import { eventually, openTestOrm, testConfig } from '../support/stack.js';

let orm: MikroORM;
const mailer = createMailer(testConfig().smtp);

beforeAll(async () => {
  orm = await openTestOrm();
});

afterAll(async () => {
  mailer.close();
  await orm.close(true);
});

function reminderFor(email: string, version: number): NotificationRequest {
  const eventId = randomUUID();
  return {
    key: `reminder:${eventId}:user-1:v${version}`,
    kind: 'reminder',
    eventId,
    recipient: { userId: 'user-1', email, locale: 'en' },
    context: { timezone: 'Europe/Oslo', event: { title: 'Chess camp', startsAt: '2027-07-01T08:00:00Z' } },
  };
}

describe('notifications are sent once per key', () => {
  it('sends once however often the same key is asked for, and logs it', async () => {
    const email = `once-${randomUUID()}@example.test`;
    const request = reminderFor(email, 1);

    const outcomes = [];
    for (let attempt = 0; attempt < 3; attempt++) outcomes.push(await sendNotificationOnce(orm.em.fork(), mailer, request));

    expect(outcomes).toEqual(['sent', 'already-sent', 'already-sent']);
    await eventually('the mail', async () => ((await mailTo(email)).length > 0 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300)); // give a duplicate the chance to arrive
    expect(await mailTo(email)).toHaveLength(1);
    const row = await orm.em.fork().findOneOrFail(NotificationLog, { key: request.key });
    expect(row).toMatchObject({ state: 'sent', attempts: 1, kind: 'reminder', recipientUserId: 'user-1' });
    expect(row.messageId).toEqual(expect.any(String));
  });

  it('sends again for a new schedule version', async () => {
    const email = `versions-${randomUUID()}@example.test`;
    const first = reminderFor(email, 1);
    await sendNotificationOnce(orm.em.fork(), mailer, first);
    await sendNotificationOnce(orm.em.fork(), mailer, { ...first, key: first.key.replace(':v1', ':v2') });
    await eventually('two mails', async () => ((await mailTo(email)).length === 2 ? true : undefined));
  });

  it('retries a send whose SMTP call failed, under the same key', async () => {
    const email = `retry-${randomUUID()}@example.test`;
    const request = reminderFor(email, 1);
    const broken = createMailer({ ...testConfig().smtp, port: 1 }); // nothing listens there
    await expect(sendNotificationOnce(orm.em.fork(), broken, request)).rejects.toThrow();
    broken.close();

    expect(await sendNotificationOnce(orm.em.fork(), mailer, request)).toBe('sent');
    const row = await orm.em.fork().findOneOrFail(NotificationLog, { key: request.key });
    expect(row).toMatchObject({ state: 'sent', attempts: 2 });
    await eventually('the mail', async () => ((await mailTo(email)).length === 1 ? true : undefined));
  });
});
