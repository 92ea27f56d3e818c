import { describe, expect, it } from '@jest/globals';
import { createDoorBatcher } from '../../src/signups/door-batcher.js';

interface Claim {
  user: string;
  n: number;
}

/** A batcher whose `run` records each batch and answers when the test says so. */
function recording(settings: { windowMs: number; maxBatch: number }) {
  const batches: { key: string; items: Claim[]; finish: (error?: Error) => void }[] = [];
  const batcher = createDoorBatcher<Claim, string>({
    ...settings,
    distinct: (claim) => claim.user,
    run: (key, items) =>
      new Promise((resolve, reject) => {
        batches.push({ key, items, finish: (error) => (error ? reject(error) : resolve(items.map((item) => `${key}:${item.n}`))) });
      }),
  });
  return { batcher, batches };
}

/** Lets timers of `ms` and the promise jobs after them run. */
const turn = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the door batcher', () => {
  it('puts claims arriving together in one batch, answering each its own', async () => {
    const { batcher, batches } = recording({ windowMs: 1, maxBatch: 100 });
    const answers = Promise.all([1, 2, 3].map((n) => batcher.submit('e1', { user: `u${n}`, n })));
    await turn();
    expect(batches.map((batch) => batch.items.map((item) => item.n))).toEqual([[1, 2, 3]]);
    batches[0]?.finish();
    expect(await answers).toEqual(['e1:1', 'e1:2', 'e1:3']);
    expect(batcher.pending()).toBe(0);
  });

  it('keeps one batch in flight per key and sends what came meanwhile as soon as it returns', async () => {
    const { batcher, batches } = recording({ windowMs: 1, maxBatch: 100 });
    const first = batcher.submit('e1', { user: 'a', n: 1 });
    await turn();
    const later = [2, 3].map((n) => batcher.submit('e1', { user: `u${n}`, n }));
    const other = batcher.submit('e2', { user: 'a', n: 9 });
    await turn();
    // e1's second batch waits for its first; another event's claims do not.
    expect(batches.map((batch) => [batch.key, batch.items.map((item) => item.n)])).toEqual([
      ['e1', [1]],
      ['e2', [9]],
    ]);
    expect(batcher.pending()).toBe(4);
    batches[0]?.finish();
    expect(await first).toBe('e1:1');
    await turn(0);
    expect(batches[2]?.items.map((item) => item.n)).toEqual([2, 3]);
    batches[1]?.finish();
    batches[2]?.finish();
    expect(await Promise.all([...later, other])).toEqual(['e1:2', 'e1:3', 'e2:9']);
  });

  it('caps a batch at maxBatch and sends a full one without waiting for the window', async () => {
    const { batcher, batches } = recording({ windowMs: 60_000, maxBatch: 2 });
    const answers = [1, 2, 3].map((n) => batcher.submit('e1', { user: `u${n}`, n }));
    await turn(0);
    expect(batches.map((batch) => batch.items.map((item) => item.n))).toEqual([[1, 2]]);
    batches[0]?.finish();
    await turn(0);
    expect(batches[1]?.items.map((item) => item.n)).toEqual([3]);
    batches[1]?.finish();
    expect(await Promise.all(answers)).toEqual(['e1:1', 'e1:2', 'e1:3']);
  });

  it('never puts two claims of one user in the same batch: the later one goes in the next', async () => {
    const { batcher, batches } = recording({ windowMs: 1, maxBatch: 100 });
    const answers = [
      batcher.submit('e1', { user: 'same', n: 1 }),
      batcher.submit('e1', { user: 'other', n: 2 }),
      batcher.submit('e1', { user: 'same', n: 3 }),
    ];
    await turn();
    expect(batches.map((batch) => batch.items.map((item) => item.n))).toEqual([[1, 2]]);
    batches[0]?.finish();
    await turn(0);
    expect(batches[1]?.items.map((item) => item.n)).toEqual([3]);
    batches[1]?.finish();
    expect(await Promise.all(answers)).toEqual(['e1:1', 'e1:2', 'e1:3']);
  });

  it("fails every claim of a batch that throws, and goes on with the next batch", async () => {
    const { batcher, batches } = recording({ windowMs: 1, maxBatch: 100 });
    const failing = [1, 2].map((n) => batcher.submit('e1', { user: `u${n}`, n }));
    await turn();
    const next = batcher.submit('e1', { user: 'u3', n: 3 });
    batches[0]?.finish(new Error('database down'));
    for (const answer of failing) await expect(answer).rejects.toThrow('database down');
    await turn(0);
    batches[1]?.finish();
    expect(await next).toBe('e1:3');
    expect(batcher.pending()).toBe(0);
  });

  it('refuses a run that answers the wrong number of claims, rather than mix answers up', async () => {
    const batcher = createDoorBatcher<Claim, string>({
      windowMs: 0,
      maxBatch: 10,
      distinct: (claim) => claim.user,
      run: () => Promise.resolve(['only one']),
    });
    const answers = [1, 2].map((n) => batcher.submit('e1', { user: `u${n}`, n }));
    for (const answer of answers) await expect(answer).rejects.toThrow('1 answers for 2 claims');
  });
});
