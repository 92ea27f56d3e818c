/**
 * Gathers the claims waiting in this process for the same key (an event id) into batches, so the
 * seat ledger takes a hot event's row lock once per batch instead of once per signup
 * (placeAtDoor in src/signups/seats.ts; docs/architecture.md, "Hot events"). The signup requests'
 * context reads are gathered the same way (readRequestContexts in src/signups/service.ts), and so
 * are the rate limiter's write counts (createWriteCounter in src/limits/rate-limits.ts).
 *
 * Per key, one batch is in flight at a time. The first claim of a quiet key waits `windowMs` for
 * others (a free seat costs that much latency, no more); claims arriving while a batch is in flight
 * go in the next batch, sent as soon as the previous one returns. A batch holds at most `maxBatch`
 * claims; claims with the same `distinct` key (one user) never share a batch, so the database, not
 * the batch, decides which of them wins (a later one waits for the next batch).
 *
 * Not a DataLoader: that dispatches every tick's loads at once (split into concurrent chunks when
 * they are many), while here batches of one key must follow each other, since they would only
 * queue on the same row lock (each holding a pooled connection meanwhile).
 */

export interface DoorBatcherSettings {
  /** How long the first claim of a quiet key waits for others; 0: the next turn of the event loop. */
  windowMs: number;
  /** Most claims in one batch. */
  maxBatch: number;
}

interface Waiting<T, R> {
  item: T;
  resolve: (answer: R) => void;
  reject: (error: unknown) => void;
}

interface KeyQueue<T, R> {
  waiting: Waiting<T, R>[];
  inFlight: boolean;
  timer?: NodeJS.Timeout;
}

export interface DoorBatcher<T, R> {
  /** Resolves with this item's own answer from the batch it went in (rejects if the batch failed). */
  submit(key: string, item: T): Promise<R>;
  /** Items waiting or in flight (for metrics and tests). */
  pending(): number;
}

export function createDoorBatcher<T, R>(options: DoorBatcherSettings & {
  /** Answers one per item, in order. A throw fails every item of the batch. */
  run: (key: string, items: T[]) => Promise<R[]>;
  distinct: (item: T) => string;
}): DoorBatcher<T, R> {
  const queues = new Map<string, KeyQueue<T, R>>();
  let inFlightItems = 0;

  function take(queue: KeyQueue<T, R>): Waiting<T, R>[] {
    const batch: Waiting<T, R>[] = [];
    const seen = new Set<string>();
    const left: Waiting<T, R>[] = [];
    for (const entry of queue.waiting) {
      const distinct = options.distinct(entry.item);
      if (batch.length < options.maxBatch && !seen.has(distinct)) {
        seen.add(distinct);
        batch.push(entry);
      } else left.push(entry);
    }
    queue.waiting = left;
    return batch;
  }

  function flush(key: string, queue: KeyQueue<T, R>): void {
    clearTimeout(queue.timer);
    queue.timer = undefined;
    const batch = take(queue);
    if (batch.length === 0) {
      queues.delete(key);
      return;
    }
    queue.inFlight = true;
    inFlightItems += batch.length;
    void (async () => {
      try {
        const answers = await options.run(key, batch.map((entry) => entry.item));
        if (answers.length !== batch.length) throw new Error(`door batch for ${key}: ${answers.length} answers for ${batch.length} claims`);
        batch.forEach((entry, index) => entry.resolve(answers[index] as R));
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      } finally {
        inFlightItems -= batch.length;
        queue.inFlight = false;
        // What came in meanwhile goes at once: its claims have waited a batch's time already.
        if (queue.waiting.length > 0) flush(key, queue);
        else queues.delete(key);
      }
    })();
  }

  return {
    submit(key, item) {
      return new Promise<R>((resolve, reject) => {
        let queue = queues.get(key);
        if (!queue) {
          queue = { waiting: [], inFlight: false };
          queues.set(key, queue);
        }
        queue.waiting.push({ item, resolve, reject });
        if (queue.inFlight) return;
        const current = queue;
        if (queue.waiting.length >= options.maxBatch) flush(key, current);
        else queue.timer ??= setTimeout(() => flush(key, current), options.windowMs);
      });
    },
    pending() {
      let waiting = 0;
      for (const queue of queues.values()) waiting += queue.waiting.length;
      return waiting + inFlightItems;
    },
  };
}
