import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MikroORM } from '../../src/db/orm.js';
import { LiveEvent } from '../../src/events/event.entity.js';
import { insertEvent, openTestOrm } from '../support/stack.js';

let orm: MikroORM;
beforeAll(async () => {
  orm = await openTestOrm();
});
afterAll(async () => {
  await orm.close(true);
});

describe('event JSON columns', () => {
  // Regression: JS-side defaults for jsonb properties were encoded twice, storing JSON strings
  // ("{\"kind\":...}") where objects belong, so the rules skipped the refund policy.
  it('stores the defaults of an event created without them as JSON objects', async () => {
    const event = await insertEvent(orm);
    const [row] = await orm.em.getConnection().execute<{ refund: string; internal: string; texts: string }[]>(
      `select jsonb_typeof(refund_policy) as refund, jsonb_typeof(internal) as internal,
              jsonb_typeof(notification_texts) as texts from event where id = ?`,
      [event.id],
    );
    expect(row).toEqual({ refund: 'object', internal: 'object', texts: 'object' });
    const reloaded = await orm.em.fork().findOneOrFail(LiveEvent, event.id);
    expect(reloaded.refundPolicy).toEqual({ kind: 'full-before-deadline' });
    expect(reloaded.internal).toEqual({});
  });
});
