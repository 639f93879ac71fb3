/**
 * Counts key uses durably before the operation answers, with group commit: `record` adds a use to the
 * next batch and resolves once the statement that adds the batch to `Key.useCount` has committed. One
 * flush runs at a time; uses recorded meanwhile form the next batch, which is written as soon as the
 * running one is done (an idle counter writes at once, after the current turn of the event loop). A lone
 * operation therefore waits for one commit, and under load many operations share one. A process killed
 * at any moment has answered no use that is not in the database: the count can only exceed the answers
 * (by uses committed whose answer had not left yet).
 *
 * A caller that commits a transaction of its own before it answers anyway (the HTTP layer, for its audit
 * entry) can take the counting over with `deferInto`, so that an operation costs one commit, not two.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { TsbError } from '../errors.js';
import type { DeferredUses } from './deferred-uses.js';
import type { AddUseCounts } from './use-count-writers.js';

interface Batch {
  counts: Map<string, number>;
  committed: Promise<void>;
  resolve(): void;
  reject(error: Error): void;
}

export class UseCounter {
  private next: Batch | null = null;
  private running: Promise<void> | null = null;
  private readonly deferrals = new AsyncLocalStorage<DeferredUses>();

  constructor(private readonly add: AddUseCounts) {}

  /**
   * Runs `fn` so that the uses recorded by it and by everything it continues asynchronously go into `uses`
   * instead of the database, and resolve at once: the caller commits them before it answers any result.
   */
  deferInto<T>(uses: DeferredUses, fn: () => T): T {
    return this.deferrals.run(uses, fn);
  }

  /**
   * Resolves when this use of the key is committed (or, inside `deferInto`, handed to its caller);
   * rejects (TsbError SERVICE_UNAVAILABLE) when it could not be, and then the operation must not answer
   * its result.
   */
  record(keyId: string): Promise<void> {
    if (this.deferrals.getStore()?.add(keyId)) return Promise.resolve();
    this.next ??= newBatch();
    const batch = this.next;
    batch.counts.set(keyId, (batch.counts.get(keyId) ?? 0) + 1);
    // setImmediate: the uses of every operation finished in this turn of the event loop go together
    this.running ??= new Promise<void>((start) => setImmediate(start)).then(() => this.drain());
    return batch.committed;
  }

  /** Waits until every use recorded so far is committed (or refused); for shutdown and tests. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.next) {
        const batch = this.next;
        this.next = null;
        await this.write(batch);
      }
    } finally {
      this.running = null;
    }
  }

  private async write(batch: Batch): Promise<void> {
    try {
      await this.add([...batch.counts.keys()], [...batch.counts.values()]);
    } catch (cause) {
      const error = new TsbError(
        'SERVICE_UNAVAILABLE',
        'the key store database could not count this use of the key, so its result is withheld; try again shortly',
      );
      // logged with the 503 by the error handler
      error.cause = cause;
      batch.reject(error);
      return;
    }
    batch.resolve();
  }
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const committed = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // a batch nobody awaits any more (its operation failed otherwise) must not become an unhandled rejection
  committed.catch(() => {});
  return { counts: new Map(), committed, resolve, reject };
}
