/**
 * Whose work a task is: the partition of the request that asked for it (set once per API request, after
 * authentication, and per workflow execution), so that what every tenant shares (the worker pools, libuv's
 * threads for key generation) serves the partitions in turn instead of first come, first served. Work outside
 * these, or of a caller without a partition, belongs to the empty owner, which takes its turn like any partition.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const owners = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it continues asynchronously) as work of `owner`. */
export const asWorkOf = <T>(owner: string, fn: () => T): T => owners.run(owner, fn);

/** The owner of the work running now ('' outside `asWorkOf`). */
export const workOwner = (): string => owners.getStore() ?? '';

/**
 * Waiting items, one queue per owner. `take` serves the owner whose last turn is the longest ago (one not
 * served yet first, the earliest of those first); an owner's turn is remembered while it has items waiting or
 * taken and not yet `done`, so a tenant that keeps its queue full takes every other turn at most.
 */
export class TurnQueues<T> {
  private readonly queues = new Map<string, T[]>();
  private readonly lastTurn = new Map<string, number>();
  private readonly taken = new Map<string, number>();
  private turns = 0;

  get empty(): boolean {
    return this.queues.size === 0;
  }

  push(owner: string, item: T): void {
    const queue = this.queues.get(owner);
    if (queue) queue.push(item);
    else this.queues.set(owner, [item]);
  }

  /** The next owner's first item, counted as taken until `done(owner)`; undefined when nothing waits. */
  take(): { owner: string; item: T } | undefined {
    let next: [string, T[]] | undefined;
    let nextTurn = Number.POSITIVE_INFINITY;
    for (const entry of this.queues) {
      const turn = this.lastTurn.get(entry[0]) ?? -1;
      if (turn < nextTurn) [next, nextTurn] = [entry, turn];
    }
    if (!next) return undefined;
    const [owner, queue] = next;
    const item = queue.shift()!;
    if (queue.length === 0) this.queues.delete(owner);
    this.lastTurn.set(owner, this.turns++);
    this.taken.set(owner, (this.taken.get(owner) ?? 0) + 1);
    return { owner, item };
  }

  /** A taken item of `owner` is finished. */
  done(owner: string): void {
    const left = (this.taken.get(owner) ?? 1) - 1;
    if (left > 0) {
      this.taken.set(owner, left);
      return;
    }
    this.taken.delete(owner);
    if (!this.queues.has(owner)) this.lastTurn.delete(owner);
  }

  /** Every waiting item, removed (shutdown). */
  drain(): T[] {
    const items = [...this.queues.values()].flat();
    this.queues.clear();
    return items;
  }
}

/**
 * At most `limit` of the functions given to `run` at once; the others wait, served in turn per owner.
 */
export class TurnGate {
  private running = 0;
  private readonly waiting = new TurnQueues<() => void>();

  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const owner = workOwner();
    await new Promise<void>((start) => {
      this.waiting.push(owner, start);
      this.startNext();
    });
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.done(owner);
      this.startNext();
    }
  }

  private startNext(): void {
    while (this.running < this.limit) {
      const next = this.waiting.take();
      if (!next) return;
      this.running++;
      next.item();
    }
  }
}
